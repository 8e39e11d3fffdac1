"""The gate every request of an account passes: exact sliding-window budgets with priorities.

Each :class:`Window` is a rolling period with a hard cap. The scheduler keeps, per window, the log of the
slots it admitted; a slot counts from its admission until ``seconds`` after the request *finished* (the
server saw it somewhere in between, so expiring from the finish time is what makes the cap hold on the
server's side too, whatever the latency). A token bucket would allow about twice the cap across a window
boundary; a log does not.

Waiters are served best priority first, FIFO within a priority. Background polls and on-demand reads may
use at most ``limit - reserve`` slots of a window: the reserve belongs to commands and their status reads,
so a user's command never waits behind reads. A cancelled waiter takes no slot. A waiter with a deadline
is refused at once (:class:`BudgetExhausted`) when no slot can come before it. A pause answers the server
that pushed back only. After :meth:`Scheduler.close` nobody is served. Time comes from the event loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import IntEnum
from typing import Any

import attrs

from .errors import AccountClosed, BudgetExhausted, InvalidInputError, RateLimited
from .validate import is_number, positive_seconds, whole

_INF = math.inf
#: A timer set for ``t`` may wake a hair before ``t`` on a clock with a coarser grain (virtual-time
#: loops); wake-ups are set this much later, and due times count this much earlier, so nothing spins.
EPSILON = 1e-6


#: The loop time by which the current task's requests must have a slot (a command's deadline, or
#: :func:`within`): a request that cannot be admitted before it raises ``BudgetExhausted`` at once.
DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("evclient_deadline", default=None)


def detached() -> contextvars.Context:
    """The current context without a :func:`within` deadline, for a task that outlives the call starting it
    (a poller, a stream): it must not inherit a bound meant for one foreground request."""
    context = contextvars.copy_context()
    context.run(DEADLINE.set, None)
    return context


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Give the requests made inside the block ``seconds`` to get a slot from their account's budget.

    A read (or login, or listing) that cannot be admitted in time raises :class:`~evclient.BudgetExhausted`
    at once, spending nothing, instead of waiting for the window to move; ``within(0)`` fails at once
    whenever the budget is spent. A command keeps its own ``deadline``. ``asyncio.timeout`` still bounds
    the whole call; this bounds the wait for budget and says so with a typed error.
    """
    if not is_number(seconds) or math.isnan(seconds) or seconds < 0:
        raise InvalidInputError(f"within() takes a number of seconds of at least 0, got {seconds!r}")
    token = DEADLINE.set(asyncio.get_running_loop().time() + seconds)
    try:
        yield
    finally:
        DEADLINE.reset(token)


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
        whole(f"window {self.name!r}: the limit", self.limit, 1)
        positive_seconds(f"window {self.name!r}: the length", self.seconds)
        if self.reserve is not None:
            whole(f"window {self.name!r}: the reserve", self.reserve, 0, self.limit - 1)

    @property
    def poll_limit(self) -> int:
        """How many slots of this window background polls and on-demand reads may use."""
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
            scheduler._changed()
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
            scheduler._changed()  # stamped now it is answered: the log a store keeps counts it from here
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
        """How full this window may be for a request of ``priority`` to be admitted (reads leave the reserve
        to commands and their status reads)."""
        return self.poll_limit if priority >= Priority.REFRESH else self.limit

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

    def earliest_free(self, cap: int, now: float) -> float:
        """The soonest the window can hold fewer than ``cap`` requests: a request still in flight frees its
        slot ``seconds`` after it finishes, which is ``now`` at the earliest."""
        if len(self) < cap:
            return now
        at = self.free_at(cap)
        return now + self.seconds if at == _INF else at


@attrs.define(order=True)
class _Waiter:
    priority: int
    seq: int
    server: str = attrs.field(order=False)
    future: asyncio.Future[Slot] = attrs.field(order=False)
    deadline: float = attrs.field(default=_INF, order=False)


@attrs.frozen
class WindowUsage:
    """Live figures of one window."""

    name: str
    used: int
    limit: int
    poll_limit: int
    seconds: float
    #: Seconds until the oldest finished request leaves the window (``None``: nothing to leave it).
    next_free_s: float | None = None
    #: Requests the window may still take now (the command reserve included).
    left: int = 0


@attrs.frozen
class BudgetStatus:
    """Live figures of an account's budget: per-window use, queue length and pause.

    ``paused_for`` is the longest pause; ``pauses`` gives each paused server's remaining seconds.
    """

    windows: tuple[WindowUsage, ...]
    queued: int
    paused_for: float
    pauses: Mapping[str, float] = attrs.field(factory=dict)

    @property
    def paused(self) -> bool:
        return self.paused_for > 0


class Scheduler:
    """Admits requests under a set of :class:`Window` budgets.

    ``await acquire(priority, server)`` waits for a slot and returns it; the caller releases it when the
    request is over. ``pause(seconds, server)`` stops requests to that server but lets polls wait it out.
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
        #: Server name → loop time its pause ends; ``ALL`` pauses every server (a state saved before pauses
        #: were per server).
        self._paused: dict[str, float] = {}
        self._closed = False
        self.admitted = 0
        #: Called whenever the log changes — a slot admitted (before its request is sent), answered or given back,
        #: a pause set: a store that keeps the log hears of a request before the server can.
        self.on_change: Callable[[], None] | None = None

    ALL = "*"

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

    async def acquire(self, priority: Priority, server: str = "default", *, deadline: float | None = None) -> Slot:
        """Wait for a slot for one request to ``server``.

        Raises :class:`RateLimited` while the server is paused (polls wait it out instead),
        :class:`BudgetExhausted` when no slot can come before ``deadline`` (loop time), and
        :class:`AccountClosed` once the scheduler is closed. None of these spends a slot.
        """
        if self._closed:
            raise AccountClosed("this account is closed")
        loop = self._loop
        now = loop.time()
        until = self._pause_end(server)
        if now < until and priority != Priority.POLL:
            raise self._paused_error(server, now)
        logs = self._logs_for(server)
        if not self._waiters and now >= until and self._fits(logs, priority, now):
            return self._admit(logs, now)
        limit = _INF if deadline is None else deadline
        if limit < _INF:
            soonest = max([until, *(w.earliest_free(w.cap(priority), now) for w in logs)])
            if soonest > limit:
                raise self._exhausted(logs, priority, now, until)
        self._seq += 1
        waiter = _Waiter(int(priority), self._seq, server, loop.create_future(), limit)
        heapq.heappush(self._waiters, waiter)
        self._dispatch()
        try:
            return await waiter.future
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise

    def _exhausted(self, logs: Iterable[_WindowLog], priority: int, now: float,
                   until: float = -_INF) -> BudgetExhausted:
        frees = [w.free_at(w.cap(priority)) for w in logs if len(w) >= w.cap(priority)]
        if until > now and until >= max(frees, default=now):
            wait = until - now
            return BudgetExhausted(f"no request slot before the deadline: the server asked for a pause that ends in "
                                   f"{_duration(wait)}", retry_after=wait)
        at = max(frees, default=now)
        left: float | None = None if at == _INF else max(0.0, at - now)
        when = "once a request under way finishes" if left is None or not frees else f"in {_duration(left)}"
        return BudgetExhausted(f"no request slot before the deadline: the budget is spent; the next frees {when}",
                               retry_after=left)

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
        slot = Slot(self, now, logs)
        self._changed()
        return slot

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._closed:
            return
        now = self._loop.time()
        blocked: set[int] = set()
        wake = _INF
        still: list[_Waiter] = []
        for waiter in sorted(self._waiters):
            if waiter.future.done():
                continue
            logs = self._logs_for(waiter.server)
            until = self._pause_end(waiter.server)
            if now < until:
                # Only polls wait out a pause; they do not hold back requests to servers that are not paused.
                wake = min(wake, until)
                still.append(waiter)
                continue
            ids = {id(w) for w in logs}
            if not blocked.isdisjoint(ids):
                # An earlier waiter (better priority, or first in line) needs these windows first.
                blocked |= ids
                if waiter.deadline <= now:
                    waiter.future.set_exception(self._exhausted(logs, waiter.priority, now))
                    continue
                still.append(waiter)
                wake = min(wake, waiter.deadline)
                continue
            full = False
            for w in logs:
                w.expire(now)
                cap = w.cap(waiter.priority)
                if len(w) >= cap:
                    full = True
                    wake = min(wake, w.free_at(cap))
            if not full:
                waiter.future.set_result(self._admit(logs, now))
            elif waiter.deadline <= now:
                waiter.future.set_exception(self._exhausted(logs, waiter.priority, now))
            else:
                blocked |= ids
                still.append(waiter)
                wake = min(wake, waiter.deadline)
        heapq.heapify(still)
        self._waiters = still
        if still and wake < _INF:
            # A hair late rather than early: expiry stays exact even on a coarse (virtual) clock.
            self._timer = self._loop.call_at(wake + EPSILON, self._dispatch)

    def close(self) -> None:
        """Serve nobody any more: every waiter, and every later caller, gets :class:`AccountClosed`."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(AccountClosed("this account was closed while waiting for a slot"))

    @property
    def closed(self) -> bool:
        return self._closed

    # -- pushback --------------------------------------------------------------------------------------

    def pause(self, seconds: float, server: str = ALL) -> None:
        """Stop admitting requests to ``server`` for ``seconds``: callers get :class:`RateLimited`, polls wait
        it out. The caller clamps ``seconds``; a value that is not a finite number pauses nothing."""
        if not math.isfinite(seconds) or seconds <= 0:
            return
        now = self._loop.time()
        self._paused[server] = max(self._paused.get(server, -_INF), now + seconds)
        self._changed()
        for waiter in self._waiters:
            if (waiter.priority != Priority.POLL and not waiter.future.done()
                    and (server == self.ALL or waiter.server == server)):
                waiter.future.set_exception(self._paused_error(waiter.server, now))
        self._dispatch()

    def _pause_end(self, server: str) -> float:
        paused = self._paused
        if not paused:
            return -_INF
        return max(paused.get(server, -_INF), paused.get(self.ALL, -_INF))

    @property
    def paused_for(self) -> float:
        """The longest pause still running, in seconds."""
        now = self._loop.time()
        return max([0.0, *(until - now for until in self._paused.values())])

    def _pauses(self, now: float) -> dict[str, float]:
        return {server: round(until - now, 3) for server, until in self._paused.items() if until > now}

    def _paused_error(self, server: str, now: float) -> RateLimited:
        wait = self._pause_end(server) - now
        return RateLimited(f"requests are paused for {_duration(wait)} after the server pushed back",
                           retry_after=wait)

    # -- figures and persistence -----------------------------------------------------------------------

    def waiting_beyond(self, priority: Priority) -> bool:
        """Whether a request more urgent than ``priority`` is waiting for a slot now."""
        return any(w.priority < priority and not w.future.done() for w in self._waiters)

    def status(self) -> BudgetStatus:
        now = self._loop.time()
        usage = []
        for w in self._logs:
            w.expire(now)
            frees = round(w.done[0] + w.seconds - now, 3) if w.done else None
            usage.append(WindowUsage(w.window.name, len(w), w.limit, w.poll_limit, w.seconds, frees,
                                     max(0, w.limit - len(w))))
        return BudgetStatus(tuple(usage), len(self._waiters), self.paused_for, self._pauses(now))

    def export_state(self, wall_now: float) -> dict[str, Any]:
        """The admission logs and pauses as wall-clock stamps (JSON-serialisable)."""
        now = self._loop.time()
        windows = {}
        for w in self._logs:
            w.expire(now)
            # A request still in flight counts as finishing now: the server has seen it.
            done = [round(wall_now - (now - t), 3) for t in w.done]
            windows[w.window.name] = done + [round(wall_now, 3)] * w.in_flight
        # Each window's length travels with its log, so whoever merges saved logs knows what has aged out.
        state: dict[str, Any] = {"windows": windows, "spans": {w.window.name: w.seconds for w in self._logs}}
        pauses = {server: round(wall_now + (until - now), 3) for server, until in self._paused.items() if until > now}
        if pauses:
            state["paused"] = pauses
        return state

    def import_state(self, state: Mapping[str, Any], wall_now: float, *, max_pause: float = 3600.0,
                     legacy_server: str = ALL) -> None:
        """Load what :meth:`export_state` wrote, so a restart does not hand out a fresh budget.

        A saved pause is clamped to ``max_pause`` seconds from now, like a pause the server asks for, so a
        damaged or hostile file cannot stop the account for years. A pause saved before pauses were per
        server (``paused_until``) applies to ``legacy_server``.
        """
        if not isinstance(state, Mapping):
            raise InvalidInputError("the saved budget state is malformed (not a mapping)")
        now = self._loop.time()
        try:
            windows = state.get("windows", {})
            if not isinstance(windows, Mapping):
                raise TypeError("windows")
            for w in self._logs:
                imported = []
                for stamp in windows.get(w.window.name, ()):
                    value = float(stamp)
                    if not math.isfinite(value):
                        raise ValueError("stamp")
                    imported.append(min(now, now - (wall_now - value)))
                w.done = deque(sorted([*imported, *w.done]))
                w.expire(now)
            pauses = dict(state.get("paused") or {})
            if state.get("paused_until") is not None:  # the format before pauses were per server
                pauses[legacy_server] = state["paused_until"]
            for server, until in pauses.items():
                left = float(until) - wall_now
                if math.isnan(left) or left <= 0:
                    continue
                self.pause(min(left, max_pause), str(server))
        except (AttributeError, TypeError, ValueError, OverflowError) as err:
            raise InvalidInputError("the saved budget state is malformed") from err


def _duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3.5 h``: a wait as a person reads it."""
    if seconds < 1:
        return "under a second"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check_state(state: Any) -> None:
    """Raise :class:`InvalidInputError` unless ``state`` is shaped like :meth:`Scheduler.export_state`'s answer:
    window names to lists of finite stamps, and pauses as finite stamps."""
    if not isinstance(state, Mapping):
        raise InvalidInputError("the saved budget state is malformed (not a mapping)")
    windows = state.get("windows", {})
    pauses = state.get("paused") or {}
    stamps = [state["paused_until"]] if state.get("paused_until") is not None else []
    if not isinstance(windows, Mapping) or not isinstance(pauses, Mapping) or \
            not all(isinstance(v, list | tuple) for v in windows.values()):
        raise InvalidInputError("the saved budget state is malformed")
    stamps += [s for v in windows.values() for s in v] + list(pauses.values())
    if not all(is_number(s) and math.isfinite(s) for s in stamps):
        raise InvalidInputError("the saved budget state is malformed (a time that is not a number)")
