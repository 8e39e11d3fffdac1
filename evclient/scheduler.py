"""The gate every request of an account passes: exact sliding-window budgets with priorities.

Each :class:`Window` is a rolling period with a hard cap. The scheduler keeps, per window, the log of the
slots it admitted; a slot counts from its admission until ``seconds`` after the request *finished* (the
server saw it somewhere in between, so expiring from the finish time is what makes the cap hold on the
server's side too, whatever the latency). A token bucket would allow about twice the cap across a window
boundary; a log does not.

Waiters are served best priority first, FIFO within a priority. Background polls may use at most
``limit - reserve`` slots of a window so that a user's command never waits behind them. A cancelled
waiter takes no slot. Time comes from the event loop only.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from enum import IntEnum
from typing import Any

import attrs

from .errors import InvalidInputError, RateLimited

_INF = math.inf
#: A timer set for ``t`` may wake a hair before ``t`` on a clock with a coarser grain (virtual-time
#: loops); wake-ups are set this much later, and due times count this much earlier, so nothing spins.
EPSILON = 1e-6


class Priority(IntEnum):
    """Who is asking; lower values are served first."""

    COMMAND = 0
    COMMAND_STATUS = 1
    REFRESH = 2
    POLL = 3


def _server_set(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


@attrs.frozen
class Window:
    """A rolling budget: at most ``limit`` requests in any ``seconds``-long period.

    ``servers`` limits the window to requests for those named servers (``None``: every request of the
    account). ``reserve`` slots are kept for anything but background polling; ``None`` keeps a tenth.
    """

    limit: int
    seconds: float
    name: str = "default"
    servers: frozenset[str] | None = attrs.field(default=None, converter=_server_set)
    reserve: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.limit < 1 or self.seconds <= 0:
            raise InvalidInputError(f"window {self.name!r} needs a positive limit and length")
        if self.reserve is not None and not 0 <= self.reserve < self.limit:
            raise InvalidInputError(f"window {self.name!r}: reserve must be in 0..{self.limit - 1}")

    @property
    def poll_limit(self) -> int:
        """How many slots of this window background polling may use."""
        reserve = self.limit // 10 if self.reserve is None else self.reserve
        return self.limit - reserve

    def covers(self, server: str) -> bool:
        return self.servers is None or server in self.servers


DEFAULT_WINDOWS = (Window(limit=60, seconds=3600.0, reserve=6),)


class Slot:
    """One admitted request. Call :meth:`release` when its response has arrived (or it failed)."""

    __slots__ = ("_logs", "_scheduler", "admitted_at")

    def __init__(self, scheduler: Scheduler, admitted_at: float, logs: tuple[_WindowLog, ...]) -> None:
        self._scheduler: Scheduler | None = scheduler
        self._logs = logs
        self.admitted_at = admitted_at

    def cancel(self) -> None:
        """Give the slot back unused (no request was sent with it)."""
        scheduler = self._scheduler
        if scheduler is not None:
            self._scheduler = None
            for w in self._logs:
                w.in_flight -= 1
            scheduler.admitted -= 1
            if scheduler._waiters:
                scheduler._dispatch()

    def release(self) -> None:
        """Mark the request finished; from now on it ages out of its windows."""
        scheduler = self._scheduler
        if scheduler is not None:
            self._scheduler = None
            now = scheduler._loop.time()
            for w in self._logs:
                w.in_flight -= 1
                w.done.append(now)
            if scheduler._waiters:
                scheduler._dispatch()


class _WindowLog:
    """One window's use: requests in flight, and the release times of those finished within it.

    A request counts from its admission until ``seconds`` after its release (the server saw it somewhere
    in between). Release times come in order, so the oldest is always first and expiry is a popleft.
    Plain floats, not the slot objects: a window of an hour holds no object alive that long.
    """

    __slots__ = ("done", "in_flight", "limit", "poll_limit", "seconds", "window")

    def __init__(self, window: Window) -> None:
        self.window = window
        self.limit = window.limit
        self.poll_limit = window.poll_limit
        self.seconds = window.seconds
        self.done: deque[float] = deque()
        self.in_flight = 0

    def __len__(self) -> int:
        return len(self.done) + self.in_flight

    def cap(self, priority: int) -> int:
        """How full this window may be for a request of ``priority`` to be admitted."""
        return self.poll_limit if priority == Priority.POLL else self.limit

    def expire(self, now: float) -> None:
        # Same expression as free_at(), so a wake-up at free_at() always finds the slot gone
        # (``now - seconds`` can round differently and spin the loop at the boundary).
        done = self.done
        seconds = self.seconds
        while done and done[0] + seconds <= now:
            done.popleft()

    def free_at(self, cap: int) -> float:
        """When the window will hold fewer than ``cap`` requests (infinite: wait for a release)."""
        need = len(self) - cap + 1
        if need > len(self.done):
            return _INF
        return self.done[need - 1] + self.seconds


@attrs.define(order=True)
class _Waiter:
    priority: int
    seq: int
    server: str = attrs.field(order=False)
    future: asyncio.Future[Slot] = attrs.field(order=False)


@attrs.frozen
class WindowUsage:
    """Live figures of one window."""

    name: str
    used: int
    limit: int
    poll_limit: int
    seconds: float


@attrs.frozen
class BudgetStatus:
    """Live figures of an account's budget: per-window use, queue length and pause."""

    windows: tuple[WindowUsage, ...]
    queued: int
    paused_for: float

    @property
    def paused(self) -> bool:
        return self.paused_for > 0


class Scheduler:
    """Admits requests under a set of :class:`Window` budgets.

    ``await acquire(priority, server)`` waits for a slot and returns it; the caller releases it when the
    request is over. ``pause(seconds)`` stops everything but lets polls wait it out.
    """

    def __init__(self, windows: Sequence[Window] = DEFAULT_WINDOWS, *, loop: asyncio.AbstractEventLoop | None = None):
        if not windows:
            raise InvalidInputError("a scheduler needs at least one window")
        self._loop = loop or asyncio.get_running_loop()
        self._logs = tuple(_WindowLog(w) for w in windows)
        self._by_server: dict[str, tuple[_WindowLog, ...]] = {}
        self._waiters: list[_Waiter] = []
        self._seq = 0
        self._timer: asyncio.TimerHandle | None = None
        self._paused_until = -_INF
        self.admitted = 0

    @property
    def windows(self) -> tuple[Window, ...]:
        return tuple(w.window for w in self._logs)

    def windows_for(self, server: str) -> tuple[Window, ...]:
        return tuple(w.window for w in self._logs_for(server))

    def _logs_for(self, server: str) -> tuple[_WindowLog, ...]:
        logs = self._by_server.get(server)
        if logs is None:
            logs = self._by_server[server] = tuple(w for w in self._logs if w.window.covers(server))
        return logs

    # -- admission -------------------------------------------------------------------------------------

    async def acquire(self, priority: Priority, server: str = "default") -> Slot:
        """Wait for a slot for one request to ``server``; raises :class:`RateLimited` while paused."""
        loop = self._loop
        now = loop.time()
        if now < self._paused_until and priority != Priority.POLL:
            raise self._paused_error(now)
        if not self._waiters and now >= self._paused_until:
            logs = self._logs_for(server)
            if self._fits(logs, priority, now):
                return self._admit(logs, now)
        self._seq += 1
        waiter = _Waiter(int(priority), self._seq, server, loop.create_future())
        heapq.heappush(self._waiters, waiter)
        self._dispatch()
        try:
            return await waiter.future
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise

    def _abandon(self, waiter: _Waiter) -> None:
        fut = waiter.future
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            # Admitted, but the caller is gone before it could use the slot: give it back.
            fut.result().cancel()
        elif self._waiters:
            # Its future is cancelled: the dispatch drops it and lets whoever it held back through.
            self._dispatch()

    @staticmethod
    def _fits(logs: Iterable[_WindowLog], priority: int, now: float) -> bool:
        for w in logs:
            w.expire(now)
            if len(w) >= w.cap(priority):
                return False
        return True

    def _admit(self, logs: tuple[_WindowLog, ...], now: float) -> Slot:
        for w in logs:
            w.in_flight += 1
        self.admitted += 1
        return Slot(self, now, logs)

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._loop.time()
        paused = now < self._paused_until
        blocked: set[int] = set()
        wake = self._paused_until if paused else _INF
        still: list[_Waiter] = []
        for waiter in sorted(self._waiters):
            if waiter.future.done():
                continue
            logs = self._logs_for(waiter.server)
            ids = {id(w) for w in logs}
            if paused or not blocked.isdisjoint(ids):
                # An earlier waiter (better priority, or first in line) needs these windows first.
                blocked |= ids
                still.append(waiter)
                continue
            full = False
            for w in logs:
                w.expire(now)
                cap = w.cap(waiter.priority)
                if len(w) >= cap:
                    full = True
                    wake = min(wake, w.free_at(cap))
            if full:
                blocked |= ids
                still.append(waiter)
            else:
                waiter.future.set_result(self._admit(logs, now))
        heapq.heapify(still)
        self._waiters = still
        if still and wake < _INF:
            # A hair late rather than early: expiry stays exact even on a coarse (virtual) clock.
            self._timer = self._loop.call_at(wake + EPSILON, self._dispatch)

    # -- pushback --------------------------------------------------------------------------------------

    def pause(self, seconds: float) -> None:
        """Stop admitting for ``seconds``: callers get :class:`RateLimited`, polls wait it out."""
        now = self._loop.time()
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))
        error = self._paused_error(now)
        for waiter in self._waiters:
            if waiter.priority != Priority.POLL and not waiter.future.done():
                waiter.future.set_exception(error)
        self._dispatch()

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self._loop.time())

    def _paused_error(self, now: float) -> RateLimited:
        wait = self._paused_until - now
        return RateLimited(f"the account is paused for {wait:.0f} s after the server's pushback", retry_after=wait)

    # -- figures and persistence -----------------------------------------------------------------------

    def status(self) -> BudgetStatus:
        now = self._loop.time()
        usage = []
        for w in self._logs:
            w.expire(now)
            usage.append(WindowUsage(w.window.name, len(w), w.limit, w.poll_limit, w.seconds))
        return BudgetStatus(tuple(usage), len(self._waiters), self.paused_for)

    def export_state(self, wall_now: float) -> dict[str, Any]:
        """The admission logs and pause as wall-clock stamps (JSON-serialisable)."""
        now = self._loop.time()
        windows = {}
        for w in self._logs:
            w.expire(now)
            # A request still in flight counts as finishing now: the server has seen it.
            done = [round(wall_now - (now - t), 3) for t in w.done]
            windows[w.window.name] = done + [round(wall_now, 3)] * w.in_flight
        state: dict[str, Any] = {"windows": windows}
        if self._paused_until > now:
            state["paused_until"] = round(wall_now + (self._paused_until - now), 3)
        return state

    def import_state(self, state: Mapping[str, Any], wall_now: float) -> None:
        """Load what :meth:`export_state` wrote, so a restart does not hand out a fresh budget."""
        now = self._loop.time()
        try:
            windows = state.get("windows", {})
            for w in self._logs:
                imported = [min(now, now - (wall_now - float(s))) for s in windows.get(w.window.name, ())]
                w.done = deque(sorted([*imported, *w.done]))
                w.expire(now)
            paused = state.get("paused_until")
            if paused is not None:
                self._paused_until = max(self._paused_until, now + (float(paused) - wall_now))
        except (AttributeError, TypeError, ValueError) as err:
            raise InvalidInputError("the saved budget state is malformed") from err

