"""Run evclient's command line with its wall clock moved: ``time.time()`` reads the machine's clock plus the
seconds written in the file named by ``EVCLIENT_TEST_WALL_OFFSET``, read at every call, so a test can step the
wall clock of a running CLI process (as a resume from suspend or an NTP correction would) without touching
the machine's. The monotonic clock, which the event loop runs on, is left alone — as it is by a real step."""

from __future__ import annotations

import os
import runpy
import sys
import time

_machine = time.time
_offset_file = os.environ["EVCLIENT_TEST_WALL_OFFSET"]


def _stepped() -> float:
    try:
        with open(_offset_file, encoding="ascii") as handle:
            return _machine() + float(handle.read().strip() or 0)
    except (OSError, ValueError):
        return _machine()


time.time = _stepped
sys.argv = ["evclient", *sys.argv[1:]]
runpy.run_module("evclient.cli", run_name="__main__", alter_sys=True)
