"""Time for an account: the event loop's clock, plus a wall-clock view that moves with it.

Scheduling only ever uses :meth:`Clock.now` (the loop's time). Wall-clock stamps are needed where the
servers speak them (JWT ``exp``, epoch milliseconds, persisted budget logs); they are derived from one
anchor taken at creation and then advance with the loop, so a test that fast-forwards the loop
(e.g. with ``looptime``) sees tokens expire and days pass consistently.
"""

from __future__ import annotations

import asyncio
import time


class Clock:
    """Loop time and a wall clock anchored to it. ``epoch`` fixes the wall time at creation."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, *, epoch: float | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._epoch = time.time() if epoch is None else epoch

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def now(self) -> float:
        """The event loop's monotonic time, in seconds."""
        return self._loop.time()

    def wall(self) -> float:
        """Seconds since the Unix epoch, advancing with the loop."""
        return self._epoch + (self._loop.time() - self._t0)

    def to_wall(self, loop_time: float) -> float:
        return self._epoch + (loop_time - self._t0)

    def to_loop(self, wall_time: float) -> float:
        return self._t0 + (wall_time - self._epoch)
