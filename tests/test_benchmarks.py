"""The benchmarks keep running (their figures are read from their output, not asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_command_benchmark_prints_its_figures_as_the_last_line():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "commands.py"), "--commands", "12", "--cars", "3"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(figures) == {"commands", "polls_evclient", "polls_fixed", "poll_ratio", "detect_delay_median_s",
                            "detect_delay_p95_s"}
    assert figures["commands"] == 12
    assert figures["polls_evclient"] < figures["polls_fixed"]


def test_the_reliability_benchmark_prints_its_figures_as_the_last_line():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "reliability.py"), "--days", "0", "--no-matrix"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"requests", "faults_injected", "budget_violations", "unhandled_exceptions", "commands",
            "commands_unresolved", "leaked_tasks", "secret_leaks", "rss_growth_kb"} <= set(figures)
    assert figures["budget_violations"] == figures["leaked_tasks"] == figures["secret_leaks"] == 0


def test_the_cardata_benchmark_prints_its_figures_as_the_last_line():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "cardata.py"), "--days", "0.7"],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"rest_calls_max_24h", "stream_delay_p50_s", "stream_delay_p95_s", "fallback_staleness_ratio",
            "duplicate_notifications"} <= set(figures)
    assert figures["rest_calls_max_24h"] <= 50 and figures["stream_messages"] > 0


def test_the_push_path_benchmark_prints_its_figures_as_the_last_line():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "stream.py"), "--messages", "20", "--burst", "200",
         "--rounds", "1"],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"evclient_p50_ms", "raw_p50_ms", "cpu_ratio", "max_msgs_ratio", "status_cpu_ratio"} <= set(figures)
    assert all(value > 0 for value in figures.values())
