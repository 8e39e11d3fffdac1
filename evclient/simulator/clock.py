"""The simulated world's clock: the event loop's time at a chosen speed, plus manual jumps.

It anchors on first use, not at creation, so that under a virtual-time loop (``looptime``) it starts on
the same timeline as the client. ``speed=0`` freezes it: only :meth:`advance` moves it (for tests that
want to step the world by hand).
"""

from __future__ import annotations

import asyncio
import time


class SimClock:
    """Wall-clock seconds for the simulator: ``epoch + (loop time since anchor) × speed + jumps``."""

    def __init__(self, *, speed: float = 1.0, epoch: float | None = None) -> None:
        if speed < 0:
            raise ValueError("speed must be zero or positive")
        self._speed = speed
        self._epoch = epoch
        self._loop0: float | None = None
        self._base: float = 0.0
        self._changed: asyncio.Event | None = None

    def _anchor(self) -> tuple[float, float]:
        loop_now = asyncio.get_running_loop().time()
        if self._loop0 is None:
            self._loop0 = loop_now
            self._base = time.time() if self._epoch is None else self._epoch
        return loop_now, self._loop0

    def wall(self) -> float:
        """Seconds since the Unix epoch in the simulated world."""
        loop_now, loop0 = self._anchor()
        return self._base + (loop_now - loop0) * self._speed

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Change how fast simulated time runs from now on (re-anchoring so time does not jump)."""
        if speed < 0:
            raise ValueError("speed must be zero or positive")
        now = self.wall()
        self._loop0 = asyncio.get_running_loop().time()
        self._base = now
        self._speed = speed
        self._tell()

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward (cars charge, tokens expire, quota windows slide)."""
        if seconds < 0:
            raise ValueError("the simulator's clock does not go backwards")
        self.wall()  # anchor first, so the jump is not lost in a later anchoring
        self._base += seconds
        self._tell()

    def _tell(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def sleep(self, seconds: float) -> None:
        """Wait until ``seconds`` of simulated time have passed; a speed change or a jump of the clock takes
        effect at once (a wait begun at speed 0 ends when the clock is moved)."""
        target = self.wall() + seconds
        # A millisecond short is there: a virtual-time loop keeps whole microseconds, and a wait for what is
        # left below its grain would never see the clock reach the target.
        while (left := target - self.wall()) > 1e-3:
            if self._changed is None:
                self._changed = asyncio.Event()
            changed = self._changed
            try:
                async with asyncio.timeout(left / self._speed if self._speed > 0 else None):
                    await changed.wait()
            except TimeoutError:
                pass
