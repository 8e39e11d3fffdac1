"""``make bench``: every benchmark in turn, then one table of figures against their targets.

    python benchmarks/summary.py [--quick]

``--quick`` shortens every run (for a smoke check); the figures the README quotes come from a full run.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

Check = tuple[str, str, Callable[[dict[str, Any]], Any], str, Callable[[Any], bool]]


def run(script: str, *args: str) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(HERE / script), *args],  # noqa: S603 - our own scripts
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed:\n{done.stderr[-2000:]}")
    print(done.stdout.rstrip(), flush=True)
    print(f"({script} {' '.join(args)}: {time.perf_counter() - started:.0f} s)\n", flush=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="every benchmark, then one summary table")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    quick = args.quick

    hours = ["--hours", "6"] if quick else []
    small = run("scheduler.py", "--accounts", "1000", "--cars", "2", "--gc-freeze", *hours)
    large = run("scheduler.py", "--accounts", "5000", "--cars", "2", "--gc-freeze", *hours)
    commands = run("commands.py", *(["--commands", "60"] if quick else []))
    reliability = run("reliability.py", *(["--days", "3", "--no-matrix"] if quick else ["--days", "30"]))
    compare = run("compare_renault_api.py", *(["--cars", "1000", "--trips", "5"] if quick else []))
    cardata = run("cardata.py", *(["--days", "2"] if quick else []))
    stream = run("stream.py", *(["--messages", "200", "--burst", "4000"] if quick else []))

    checks: list[Check] = [
        ("scheduler", f"µs per decision, {large['vehicles']} vs {small['vehicles']} cars",
         lambda _: round(large["us_per_decision"] / small["us_per_decision"], 3), "<= 1.2", lambda v: v <= 1.2),
        ("scheduler", "most requests in any hour (per account)",
         lambda _: max(small["max_in_any_window"], large["max_in_any_window"]), "<= 60", lambda v: v <= 60),
        ("scheduler", f"peak RSS per car, KiB ({large['vehicles']} cars)",
         lambda _: round(large["peak_rss_mb"] * 1024 / large["vehicles"], 2), "reported", lambda v: True),
        ("commands", "status reads: evclient ÷ fixed 3.5-s polling",
         lambda c: c["poll_ratio"], "< 1", lambda v: v < 1),
        *[("reliability", key, lambda r, k=key: r[k], "0", lambda v: v == 0)
          for key in ("budget_violations", "unhandled_exceptions", "commands_unresolved", "leaked_tasks",
                      "secret_leaks", "matrix_cells_wrong", "stale_endpoints")],
        ("reliability", "rss_growth_kb", lambda r: r["rss_growth_kb"], "< 512", lambda v: v < 512),
        ("vs renault-api", "parse_speedup", lambda c: c["parse_speedup"], ">= 10", lambda v: v >= 10),
        ("vs renault-api", "cpu_per_request_ratio", lambda c: c["cpu_per_request_ratio"], "<= 0.6",
         lambda v: v <= 0.6),
        ("vs renault-api", "memory_ratio", lambda c: c["memory_ratio"], "<= 0.5", lambda v: v <= 0.5),
        ("vs renault-api", "memory_per_vehicle_kb", lambda c: c["memory_per_vehicle_kb"], "reported",
         lambda v: True),
        ("bmw-cardata", "rest_calls_max_24h", lambda c: c["rest_calls_max_24h"], "<= 50", lambda v: v <= 50),
        ("bmw-cardata", "stream_delay_p50_s", lambda c: c["stream_delay_p50_s"], "<= 1", lambda v: v <= 1),
        ("bmw-cardata", "stream_delay_p95_s", lambda c: c["stream_delay_p95_s"], "<= 2", lambda v: v <= 2),
        ("bmw-cardata", "fallback_staleness_ratio", lambda c: c["fallback_staleness_ratio"], "<= 1.1",
         lambda v: v <= 1.1),
        ("bmw-cardata", "duplicate_notifications", lambda c: c["duplicate_notifications"], "0", lambda v: v == 0),
        ("push path", "cpu_ratio (÷ bare aiomqtt, 200/s)", lambda p: p["cpu_ratio"], "<= 1.2", lambda v: v <= 1.2),
        ("push path", "max_msgs_ratio (drain, one core)", lambda p: p["max_msgs_ratio"], ">= 0.9",
         lambda v: v >= 0.9),
        ("push path", "status_cpu_ratio (with a status listener)", lambda p: p["status_cpu_ratio"], "<= 1.5",
         lambda v: v <= 1.5),
        ("push path", "evclient_p50_ms (raw: raw_p50_ms)", lambda p: p["evclient_p50_ms"], "reported",
         lambda v: True),
    ]
    sources = {"scheduler": {}, "commands": commands, "reliability": reliability, "vs renault-api": compare,
               "bmw-cardata": cardata, "push path": stream}
    print(f"summary — {platform.machine()}, {platform.python_implementation()} {platform.python_version()}"
          f"{' (quick run)' if quick else ''}")
    print(f"{'benchmark':<16}{'figure':<46}{'value':>12}  {'target':<9} met")
    missed = 0
    for bench, name, get, target, ok in checks:
        value = get(sources[bench])
        good = ok(value)
        missed += not good
        print(f"{bench:<16}{name:<46}{value!s:>12}  {target:<9} {'yes' if good else 'NO'}")
    print(f"{len(checks) - missed} of {len(checks)} targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
