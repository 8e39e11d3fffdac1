"""The server's request quota: an exact sliding window per account, as strict as a real cloud's."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

#: How the window is laid: "sliding" (any ``seconds``-long period) or "fixed" (periods from the epoch,
#: e.g. each clock hour).
WINDOWS = ("sliding", "fixed")


class SlidingQuota:
    """At most ``limit`` requests per account in any ``seconds``-long window.

    No car cloud publishes how its quota is counted, so both unknowns are choices (the simulator's
    README lists them): by default the window slides and every request that reaches the server counts,
    refused ones included — the strictest plausible reading, under which evclient is tested: a client
    that keeps knocking while refused stays locked out. ``window="fixed"`` resets at each period's
    start; ``counts_refused=False`` lets refusals go uncounted.
    """

    def __init__(self, limit: int = 60, seconds: float = 3600.0, *, window: str = "sliding",
                 counts_refused: bool = True) -> None:
        if window not in WINDOWS:
            raise ValueError(f"the quota window is one of {', '.join(WINDOWS)}")
        self.limit = limit
        self.seconds = seconds
        self.window = window
        self.counts_refused = counts_refused
        self._log: dict[str, deque[float]] = defaultdict(deque)

    def _period_start(self, now: float) -> float:
        """The first moment whose requests still count at ``now`` (sliding: strictly after it)."""
        if self.window == "fixed":
            return (now // self.seconds) * self.seconds
        return now - self.seconds

    def _counts(self, t: float, now: float) -> bool:
        start = self._period_start(now)
        return t >= start if self.window == "fixed" else t > start

    def hit(self, account: str, now: float) -> float | None:
        """Record a request; return ``None`` when it is allowed, else the seconds until one would be."""
        log = self._log[account]
        while log and not self._counts(log[0], now):
            log.popleft()
        allowed = len(log) < self.limit
        if allowed or self.counts_refused:
            log.append(now)
        if allowed:
            return None
        if self.window == "fixed":
            return max(0.0, self._period_start(now) + self.seconds - now)
        # A place frees up once all but limit - 1 of the logged requests (this one included) have aged out.
        return max(0.0, log[-self.limit] + self.seconds - now)

    def used(self, account: str, now: float) -> int:
        return sum(1 for t in self._log.get(account, deque()) if self._counts(t, now))

    def reset(self, account: str | None = None) -> None:
        if account is None:
            self._log.clear()
        else:
            self._log.pop(account, None)


def most_in_any_window(times: Iterable[float], seconds: float = 3600.0) -> int:
    """The largest number of ``times`` in any window of ``seconds`` (how a server sees a client's budget)."""
    ordered = sorted(times)
    best = lo = 0
    for hi, t in enumerate(ordered):
        while ordered[lo] <= t - seconds:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
