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
