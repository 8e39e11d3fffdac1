"""``evclient simulator`` in a process of its own, for tools that must not share its CPU or its event loop (the
peers' tests, the push path's benchmark)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def simulator_process(*args: str) -> Iterator[str]:
    """Run ``evclient simulator --port 0 *args`` and give its base URL; it is stopped when the block ends.
    The default arguments hold its clock still and raise the quota, for side-by-side runs."""
    process = subprocess.Popen(  # noqa: S603 - our own simulator, our own interpreter
        [sys.executable, "-m", "evclient", "simulator", "--port", "0", *(args or ("--speed", "0", "--quota",
                                                                                  "100000"))],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"listening on (\S+)", first)
        if match is None:
            raise RuntimeError(f"the simulator did not start: {first.strip()}")
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
