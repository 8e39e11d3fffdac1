"""Even spreading of background polls over an account's budget.

With a poll rate of ``r = (limit - reserve) / window`` polls per second, the plan emits one poll every
``1 / r`` seconds (the *tick*), always to the most overdue target. A target of weight ``w`` among targets
of total weight ``W`` is due every ``W / (w * r)`` seconds, so N equal targets are each polled every
``N / r`` seconds — Home Assistant's "every N minutes" with 60/h and no reserve. New targets start due
now and the tick staggers them, so start-up is never a burst. An on-demand refresh moves its target's due
time, and every request other than a poll (refresh, login, command) takes the place of the next tick, so
they add no request over the day and the rhythm stays even; removing a target shortens everyone else's
period. A target is polled only when it is **due** — when its value, from any source, is older than its
period — so a tick with nothing due spends nothing (a value a stream pushed counts like a poll's).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from .scheduler import EPSILON, detached

K = TypeVar("K", bound=Hashable)

#: After a failed poll of a target with a long period, the first retry (seconds; then doubling up to the period).
RETRY_FIRST = 3600.0

_LOG = logging.getLogger(__name__)


class _Target:
    __slots__ = ("due", "elsewhere", "every", "failures", "last", "seq", "weight")

    def __init__(self, weight: float, due: float, seq: int, every: float = 0.0) -> None:
        self.weight = weight
        self.every = every  # the shortest period, whatever the budget allows
        self.due = due
        self.last: float | None = None
        self.seq = seq
        #: Its value last came from elsewhere than a poll (a push, a read): polled only once really due.
        self.elsewhere = False
        self.failures = 0  # polls in a row that failed


class PollPlan(Generic[K]):
    """Which target to poll next, and when. ``interval`` is the tick: seconds between two polls."""

    def __init__(self, interval: float) -> None:
        if not interval > 0:
            raise ValueError("the poll interval must be positive")
        self.interval = interval
        self._targets: dict[K, _Target] = {}
        self._weight = 0.0
        self._seq = 0
        self._next_tick = -math.inf

    def __contains__(self, key: object) -> bool:
        return key in self._targets

    def __len__(self) -> int:
        return len(self._targets)

    @property
    def keys(self) -> tuple[K, ...]:
        return tuple(self._targets)

    def period(self, key: K) -> float:
        """Seconds between two polls of ``key`` at the planned rate."""
        return self._period(self._targets[key])

    def _period(self, target: _Target) -> float:
        return max(self.interval * self._weight / target.weight, target.every)

    def add(self, key: K, now: float, weight: float = 1.0, *, last: float | None = None,
            every: float | None = None) -> None:
        """Plan ``key`` (due now, or a period after ``last``, when its value was last had); ``every``: its
        period is never shorter than this."""
        if key in self._targets:
            return
        if not weight > 0:
            raise ValueError("a poll target's weight must be positive")
        self._seq += 1
        target = self._targets[key] = _Target(weight, now, self._seq, every or 0.0)
        target.last = last
        self._reweigh()

    def remove(self, key: K) -> None:
        if self._targets.pop(key, None) is not None:
            self._reweigh()

    def _reweigh(self) -> None:
        self._weight = sum(t.weight for t in self._targets.values())
        for target in self._targets.values():
            if target.last is not None:
                target.due = target.last + self._period(target)

    def refreshed(self, key: K, at: float) -> None:
        """``key`` was fetched on demand at ``at``: its own next poll moves a full period on."""
        target = self._targets.get(key)
        if target is not None:
            self._reset(target, at)
            target.elsewhere = True

    def consumed(self, at: float) -> None:
        """A request other than a poll (a refresh, a login, a command) used the polls' budget at ``at``:
        it takes the place of the next tick, so polling keeps an even rhythm within the budget instead of
        running into the cap and stalling until the window slides."""
        self._next_tick = max(self._next_tick, at) + self.interval

    def resume(self, now: float) -> None:
        """Targets rejoined after a pause of theirs (a stream went down): the next tick may be now rather than
        an interval after the last request, so a value that is due is fetched at once, not after a full tick."""
        self._next_tick = min(self._next_tick, now)

    def polled(self, key: K, at: float) -> None:
        """``key`` was polled at ``at`` (it may have left the plan since); the next tick is one interval on."""
        target = self._targets.get(key)
        if target is not None:
            self._reset(target, at)
            target.elsewhere = False
            target.failures = 0
        self._next_tick = at + self.interval

    def failed(self, key: K, at: float) -> None:
        """The poll of ``key`` at ``at`` failed: it is tried again a period on — or sooner for a long period (a
        daily read must not be lost for a day to one bad answer): after an hour, doubling up to the period."""
        target = self._targets.get(key)
        if target is None:
            self._next_tick = at + self.interval
            return
        target.failures += 1
        period = self._period(target)
        wait = min(period, max(self.interval, RETRY_FIRST) * 2 ** (target.failures - 1))
        target.last = at + wait - period  # so that a replan keeps the retry's time
        target.due = at + wait
        target.elsewhere = False
        self._next_tick = at + self.interval

    def _reset(self, target: _Target, at: float) -> None:
        target.last = at
        target.due = at + self._period(target)

    def choose(self) -> tuple[K, float] | None:
        """The most overdue target and the time to poll it, or ``None`` when there is none."""
        best_key: K | None = None
        best: _Target | None = None
        best_due = math.inf
        # Dicts keep insertion order, so a strict "<" breaks ties by first-added: FIFO among equals.
        for key, target in self._targets.items():
            if target.due < best_due:
                best_key, best, best_due = key, target, target.due
        if best_key is None or best is None:
            return None
        # A tick polls the most overdue target if it falls due before the following tick (so with unequal
        # weights every tick is still used and each target keeps its share); when none does, the tick
        # spends nothing and the plan waits until a target is due — a value that is still fresh, from
        # whatever source, costs no request.
        # A value pushed or read since the last poll is not polled early: it is polled once it is as old as
        # its period, whatever the tick.
        tick = self._next_tick
        if tick == -math.inf or best_due > tick + self.interval or best.elsewhere:
            return best_key, max(best_due, tick)
        return best_key, tick


PollFunction = Callable[[K], Awaitable[float | None]]


class _Hub:
    """One timer for every poller of an event loop.

    A waiting poller costs one heap entry of plain numbers, not a future and a timer handle of its own:
    with thousands of accounts in a process, the objects the garbage collector walks at every pass stay
    as few as with one (the cost per decision stays flat as accounts are added).
    """

    __slots__ = ("__weakref__", "_heap", "_loop", "_pollers", "_seq", "_timer", "_timer_at")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heap: list[tuple[float, int, int, int]] = []  # (when, seq, poller id, generation)
        self._pollers: dict[int, Poller[Any]] = {}
        self._seq = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def add(self, poller: Poller[Any]) -> int:
        self._seq += 1
        self._pollers[self._seq] = poller
        return self._seq

    def remove(self, ident: int) -> None:
        self._pollers.pop(ident, None)
        if not self._pollers:
            # No poller left to wake: leave no timer behind on the loop (an application checks for those).
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_at = None, math.inf
            self._heap.clear()

    def wake_at(self, ident: int, generation: int, when: float) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, ident, generation))
        if when < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = when
            self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer, self._timer_at = None, math.inf
        heap = self._heap
        now = self._loop.time() + EPSILON
        while heap and heap[0][0] <= now:
            _, _, ident, generation = heapq.heappop(heap)
            poller = self._pollers.get(ident)
            if poller is not None and poller._generation == generation:
                poller._due()
        while heap:
            when, _, ident, generation = heap[0]
            poller = self._pollers.get(ident)
            if poller is not None and poller._generation == generation:
                self._timer_at = when
                self._timer = self._loop.call_at(when, self._fire)
                return
            heapq.heappop(heap)  # a wake-up a replan or a stop made moot


_HUBS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hub] = weakref.WeakKeyDictionary()


def _hub(loop: asyncio.AbstractEventLoop) -> _Hub:
    hub = _HUBS.get(loop)
    if hub is None:
        hub = _HUBS[loop] = _Hub(loop)
    return hub


class Poller(Generic[K]):
    """Runs a :class:`PollPlan`: waits for each due time and calls ``poll(key)``.

    ``poll`` returns the time its request was admitted (or ``None`` when it never was) and handles its
    own errors; the poller only keeps the rhythm. Its wake-ups come from the loop's shared timer, so a
    waiting poller holds one future and nothing else.
    """

    def __init__(self, plan: PollPlan[K], poll: PollFunction[K], *, name: str = "evclient-poller") -> None:
        self.plan = plan
        self._poll = poll
        self._name = name
        self._hub: _Hub | None = None
        self._ident = 0
        self._generation = 0  # bumped at every wait: older wake-ups are ignored
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Future[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            loop = asyncio.get_running_loop()
            self._hub = _hub(loop)
            self._ident = self._hub.add(self)
            self._task = loop.create_task(self._run(self._hub), name=self._name, context=detached())

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._generation += 1
        if self._hub is not None:
            self._hub.remove(self._ident)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def replanned(self) -> None:
        """The plan changed (targets added, removed or touched): look again at what is due."""
        self._due()

    def _due(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _run(self, hub: _Hub) -> None:
        loop = hub._loop
        plan = self.plan
        while True:
            choice = plan.choose()
            if choice is None or choice[1] > loop.time() + EPSILON:
                self._generation += 1
                wake = self._wake = loop.create_future()
                if choice is not None:
                    hub.wake_at(self._ident, self._generation, choice[1])
                try:
                    await wake
                finally:
                    self._wake = None
                continue
            key = choice[0]
            try:
                admitted = await self._poll(key)
            except asyncio.CancelledError:
                raise
            except Exception:  # a poll function must not kill the rhythm; it logs its own errors
                _LOG.exception("poll of %s failed unexpectedly", key)
                admitted = None
            if admitted is None:
                plan.failed(key, loop.time())
            else:
                plan.polled(key, admitted)
