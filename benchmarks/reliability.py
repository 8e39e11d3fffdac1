"""Reliability figures: the fault matrix and a month-long soak with random faults, in virtual time.

    python benchmarks/reliability.py [--days 30] [--rate 0.05] [--seed 7] [--docs docs/reliability.md]

Prints a summary and, as the last line, one JSON object: requests, faults_injected, budget_violations,
unhandled_exceptions, commands, commands_unresolved, leaked_tasks, secret_leaks, rss_growth_kb (and
matrix_cells_wrong). Every count that names a failure should be 0, and rss_growth_kb under 512.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import looptime

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evclient.testing.accounts import rehearsed_brands
from evclient.testing.faultmatrix import CaseResult, expected, markdown, run_matrix
from evclient.testing.soak import SoakReport, soak

#: Loopback I/O in one process is ready at once; a few idle cycles are enough before virtual time moves.
NOOP_CYCLES = 4


def run(coro: Any) -> Any:
    loop = looptime.new_event_loop(start=0.0, noop_cycles=NOOP_CYCLES)
    loop._clock_resolution = 1e-6  # looptime keeps whole microseconds  # type: ignore[attr-defined]
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def figures(matrix: list[CaseResult], report: SoakReport) -> dict[str, Any]:
    cells = [r for r in matrix if r.outcome != "n/a"]
    wrong = [r for r in cells if not r.sound or r.outcome not in expected(r.route_class, r.fault, r.brand)]
    return {
        "requests": report.requests + sum(r.requests for r in cells),
        "faults_injected": report.faults_injected + sum(1 for r in cells if r.met),
        "budget_violations": report.budget_violations + sum(1 for r in cells if r.over_budget),
        "unhandled_exceptions": report.unhandled_exceptions + sum(1 for r in cells if r.foreign),
        "commands": report.commands,
        "commands_unresolved": report.commands_unresolved + sum(1 for r in cells if r.hung),
        "leaked_tasks": report.leaked_tasks,
        "secret_leaks": report.secret_leaks + sum(1 for r in cells if r.leak),
        "rss_growth_kb": report.rss_growth_kb,
        "matrix_cells_wrong": len(wrong),
        "stale_endpoints": report.stale_endpoints,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rate", type=float, default=0.05, help="share of requests faulted at random")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--docs", type=Path, help="write the fault matrix as Markdown here")
    parser.add_argument("--no-matrix", action="store_true", help="the soak only")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    matrix: list[CaseResult] = [] if args.no_matrix else run(run_matrix())
    matrix_seconds = time.perf_counter() - started
    if args.docs is not None and matrix:
        args.docs.parent.mkdir(parents=True, exist_ok=True)
        args.docs.write_text(markdown(matrix) + "\n", encoding="utf-8")
    started = time.perf_counter()
    report: SoakReport = run(soak(days=args.days, rate=args.rate, seed=args.seed, trace=False))
    soak_seconds = time.perf_counter() - started
    out = figures(matrix, report)

    print(f"fault matrix: {sum(1 for r in matrix if r.outcome != 'n/a')} cells in {matrix_seconds:.1f} s, "
          f"{out['matrix_cells_wrong']} not as documented")
    print(f"soak: {args.days} virtual days, {len(rehearsed_brands())} accounts (one a brand), "
          f"{args.rate:.0%} of requests faulted (seed {args.seed}), "
          f"{soak_seconds:.1f} s")
    print(f"  requests {report.requests}, faults {report.faults_injected}, commands {report.commands} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(report.command_outcomes.items()))})")
    print(f"  stale endpoints at the end {report.stale_endpoints}, RSS growth after the second day "
          f"{report.rss_growth_kb} KiB")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
