"""The scheduler's contract, on the bare Scheduler in virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import attrs
import looptime
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evclient.errors import InvalidInputError, RateLimited
from evclient.scheduler import Priority, Scheduler, Window


def run_virtual(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    loop = looptime.new_event_loop(start=0, noop_cycles=1)
    loop._clock_resolution = 1e-6  # see conftest._microsecond_timers
    try:
        return loop.run_until_complete(make())
    finally:
        loop.close()


@attrs.define
class Ask:
    arrival: float
    priority: Priority
    duration: float
    cancel_after: float | None
    server: str
    seq: int = -1
    admitted: float | None = None
    released: float | None = None
    slot: Any = None
    cancelled_at: int | None = None


asks = st.builds(
    Ask,
    arrival=st.floats(0, 7200, allow_nan=False),
    priority=st.sampled_from(list(Priority)),
    duration=st.floats(0, 40),
    cancel_after=st.one_of(st.none(), st.floats(0, 3000)),
    server=st.sampled_from(["api", "api", "api", "login"]),
)

WINDOWS = (
    Window(limit=10, seconds=600.0, reserve=2, name="all"),
    Window(limit=3, seconds=300.0, reserve=0, name="login", servers={"login"}),
)


class RecordingScheduler(Scheduler):
    """Keeps the order of admissions and of events, for the ordering checks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events = 0
        self.admitted_at_event: dict[int, int] = {}

    def tick(self) -> int:
        self.events += 1
        return self.events

    def _admit(self, logs: Any, now: float) -> Any:
        slot = super()._admit(logs, now)
        self.admitted_at_event[id(slot)] = self.tick()
        return slot


def active_at(asks_: list[Ask], t: float, window: Window) -> int:
    """How many admitted requests a server would count at ``t`` (received in (t - seconds, t])."""
    return sum(
        1
        for a in asks_
        if a.admitted is not None
        and window.covers(a.server)
        and a.admitted <= t < (t if a.released is None else a.released) + window.seconds
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(asks, min_size=1, max_size=60))
def test_random_streams_keep_every_contract(stream: list[Ask]) -> None:
    async def scenario() -> tuple[RecordingScheduler, float]:
        loop = asyncio.get_running_loop()
        scheduler = RecordingScheduler(WINDOWS)

        async def one(ask: Ask) -> None:
            await asyncio.sleep(ask.arrival)
            try:
                async with asyncio.timeout(ask.cancel_after):
                    ask.seq = scheduler.tick()  # the moment it asks: FIFO order
                    slot = await scheduler.acquire(ask.priority, ask.server)
            except TimeoutError:
                ask.cancelled_at = scheduler.tick()
                return
            ask.admitted = loop.time()
            ask.slot = slot
            await asyncio.sleep(ask.duration)
            slot.release()
            ask.released = loop.time()

        await asyncio.gather(*(one(a) for a in stream))
        return scheduler, loop.time()

    scheduler, end = run_virtual(scenario)
    done = [a for a in stream if a.admitted is not None]
    for ask in done:
        for window in WINDOWS:
            if window.covers(ask.server):
                # 1. the hard cap, as the server would count it
                assert active_at(stream, ask.admitted, window) <= window.limit  # type: ignore[arg-type]
                # 2. polls never eat into the reserve: counted when the poll was admitted, so a command admitted
                #    after it at the same instant (taking the reserve, as it may) is not held against it
                if ask.priority is Priority.POLL:
                    at = scheduler.admitted_at_event[id(ask.slot)]
                    before = [a for a in done if scheduler.admitted_at_event[id(a.slot)] <= at]
                    assert active_at(before, ask.admitted, window) <= window.poll_limit  # type: ignore[arg-type]
    # 3. priority, then FIFO: nobody better on the same server was still waiting when a request was admitted
    order = scheduler.admitted_at_event
    for a in done:
        a_at = order[id(a.slot)]
        for b in stream:
            if b is a or b.server != a.server or b.seq > a_at or (b.priority, b.seq) > (a.priority, a.seq):
                continue
            if b.cancelled_at is not None and b.cancelled_at < a_at:
                continue
            assert b.slot is not None, (a, b)
            assert order[id(b.slot)] < a_at, (a, b)
    # 4. a cancelled waiter holds no slot: the logs count exactly the admitted requests still in the window
    for log in scheduler._logs:
        log.expire(end)
        covered = [a for a in done if log.window.covers(a.server)]
        assert log.in_flight == 0
        assert len(log.done) == sum(1 for a in covered if a.released + log.seconds > end)
    assert scheduler.admitted == len(done)
    assert not scheduler._waiters


def test_burst_is_capped_and_waits_for_the_oldest_to_age_out() -> None:
    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler((Window(limit=60, seconds=3600.0, reserve=6),))
        times: list[float] = []

        async def one() -> None:
            slot = await scheduler.acquire(Priority.COMMAND)
            times.append(loop.time())
            slot.release()

        await asyncio.gather(*(one() for _ in range(70)))
        return times

    times = run_virtual(scenario)
    assert times[:60] == [0.0] * 60
    assert times[60:] == pytest.approx([3600.0] * 10, abs=1e-5)


def test_polls_leave_the_reserve_for_commands() -> None:
    async def scenario() -> tuple[int, float, float]:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler((Window(limit=60, seconds=3600.0, reserve=6),))
        async def poll() -> None:
            (await scheduler.acquire(Priority.POLL)).release()

        polls = [asyncio.ensure_future(poll()) for _ in range(60)]
        await asyncio.sleep(1)
        admitted = sum(p.done() for p in polls)
        started = loop.time()
        (await scheduler.acquire(Priority.COMMAND)).release()
        command_wait = loop.time() - started
        await asyncio.gather(*polls)
        return admitted, command_wait, loop.time()

    admitted, command_wait, end = run_virtual(scenario)
    assert admitted == 54
    assert command_wait == 0
    assert end == pytest.approx(3600.0)


def test_an_in_flight_request_counts_until_it_finishes() -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler((Window(limit=1, seconds=100.0, reserve=0),))
        slot = await scheduler.acquire(Priority.REFRESH)
        await asyncio.sleep(30)  # a slow answer
        slot.release()
        await scheduler.acquire(Priority.REFRESH)
        return loop.time()

    # Counted from the finish: the server may have received it as late as t=30.
    assert run_virtual(scenario) == pytest.approx(130.0)


def test_a_cancelled_waiter_takes_no_slot() -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler((Window(limit=1, seconds=100.0, reserve=0),))
        (await scheduler.acquire(Priority.REFRESH)).release()
        doomed = asyncio.ensure_future(scheduler.acquire(Priority.COMMAND))
        later = asyncio.ensure_future(scheduler.acquire(Priority.REFRESH))
        await asyncio.sleep(50)
        doomed.cancel()
        await later
        assert scheduler.status().windows[0].used == 1
        return loop.time()

    assert run_virtual(scenario) == pytest.approx(100.0)


def test_pause_rejects_callers_and_holds_polls() -> None:
    async def scenario() -> tuple[float | None, float]:
        loop = asyncio.get_running_loop()
        scheduler = Scheduler()
        waiting = asyncio.ensure_future(scheduler.acquire(Priority.POLL))
        scheduler.pause(900)
        with pytest.raises(RateLimited) as info:
            await scheduler.acquire(Priority.COMMAND)
        assert scheduler.status().paused
        # The poll that was already queued at pause time waits it out too.
        await waiting
        await scheduler.acquire(Priority.POLL)
        return info.value.retry_after, loop.time()

    retry_after, resumed = run_virtual(scenario)
    assert retry_after == pytest.approx(900)
    assert resumed == pytest.approx(900)


def test_export_then_import_keeps_the_cap_across_a_restart() -> None:
    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        first = Scheduler((Window(limit=5, seconds=3600.0, reserve=0),))
        for _ in range(5):
            (await first.acquire(Priority.REFRESH)).release()
            await asyncio.sleep(60)
        state = first.export_state(wall_now=1_000_000.0 + loop.time())
        await asyncio.sleep(100)  # the restart takes a while
        second = Scheduler((Window(limit=5, seconds=3600.0, reserve=0),))
        second.import_state(state, wall_now=1_000_000.0 + loop.time())
        assert second.status().windows[0].used == 5
        await second.acquire(Priority.REFRESH)
        return loop.time()

    # The first of the old five was admitted at t=0, so the sixth may go at t=3600, not before.
    assert run_virtual(scenario) == pytest.approx(3600.0)


def test_malformed_state_and_windows_are_refused() -> None:
    async def scenario() -> None:
        scheduler = Scheduler()
        with pytest.raises(InvalidInputError):
            scheduler.import_state({"windows": {"default": ["yesterday"]}}, 0.0)

    run_virtual(scenario)
    with pytest.raises(InvalidInputError):
        Window(limit=0, seconds=10)
    with pytest.raises(InvalidInputError):
        Window(limit=5, seconds=10, reserve=5)
