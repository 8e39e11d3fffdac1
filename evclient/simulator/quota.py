"""The server's request quota: an exact sliding window per account, as strict as a real cloud's."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable


class SlidingQuota:
    """At most ``limit`` requests per account in any ``seconds``-long window.

    Every request that reaches the server counts, refused ones included: a client that keeps knocking
    while refused stays locked out, which is exactly what evclient must never do.
    """

    def __init__(self, limit: int = 60, seconds: float = 3600.0) -> None:
        self.limit = limit
        self.seconds = seconds
        self._log: dict[str, deque[float]] = defaultdict(deque)

    def hit(self, account: str, now: float) -> float | None:
        """Record a request; return ``None`` when it is allowed, else the seconds until one would be."""
        log = self._log[account]
        while log and log[0] <= now - self.seconds:
            log.popleft()
        allowed = len(log) < self.limit
        log.append(now)
        if allowed:
            return None
        # A place frees up once all but limit - 1 of the logged requests (this one included) have aged out.
        return max(0.0, log[-self.limit] + self.seconds - now)

    def used(self, account: str, now: float) -> int:
        log = self._log.get(account, deque())
        return sum(1 for t in log if t > now - self.seconds)

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
