"""Background polling over a simulated day, through the real account and loopback HTTP."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict

import pytest

import evclient
from evclient import Budget, RateLimited
from tests.testcloud import Fault

DAY = 86400.0
HOUR = 3600.0


def poll_times(cloud, *, after: float = 0.0) -> dict[str, list[float]]:
    """Server-side receipt times of data requests, per car and endpoint."""
    times: dict[str, list[float]] = defaultdict(list)
    for entry in cloud.log:
        if entry.route == "data" and entry.t >= after:
            times[entry.path].append(entry.t)
    return times


def intervals(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def min_gap(cloud, route: str = "data") -> float:
    times = sorted(e.t for e in cloud.log if e.route == route)
    return min(intervals(times))


async def run_day(cloud, username: str, budget: Budget | None = None, hours: float = 24) -> evclient.Account:
    account = await cloud.connect(username, budget=budget)
    await account.start()
    await asyncio.sleep(hours * HOUR)
    await account.close()
    return account


async def test_one_car_seven_endpoints_without_reserve_polls_each_every_seven_minutes(cloud):
    await run_day(cloud, "solo", Budget(reserve=0))
    assert cloud.max_in_window() <= 60
    # Login and listing count too: they push the rhythm back once in the first hour, then it is exact.
    steady = poll_times(cloud, after=HOUR + 420)
    assert len(steady) == 7
    for times in steady.values():
        assert all(abs(gap - 420) <= 1 for gap in intervals(times)), intervals(times)
    # No bursts, ever: background requests are at least one tick (60 s) apart.
    assert min_gap(cloud) >= 60 - 1e-6
    assert cloud.count("data") >= 24 * 60 - 3


async def test_with_the_default_reserve_each_endpoint_is_polled_every_seven_minutes_47(cloud):
    await run_day(cloud, "solo")
    period = 7 * HOUR / 54
    assert period == pytest.approx(466.67, abs=0.01)
    for times in poll_times(cloud, after=HOUR + period).values():
        assert all(abs(gap - period) <= 1 for gap in intervals(times))
    assert min_gap(cloud) >= HOUR / 54 - 1e-6
    # Polls never use the reserve: at most 54 in any hour, leaving 6 for commands.
    assert cloud.max_in_window(routes={"data"}) <= 54
    assert cloud.max_in_window() <= 60


async def test_two_cars_share_one_budget_eight_targets_every_eight_minutes(cloud):
    await run_day(cloud, "duo", Budget(reserve=0))
    steady = poll_times(cloud, after=HOUR + 480)
    assert len(steady) == 8
    for times in steady.values():
        assert all(abs(gap - 480) <= 1 for gap in intervals(times))
    assert cloud.max_in_window() <= 60


async def test_start_up_is_staggered_not_a_burst(cloud):
    account = await cloud.connect("solo")
    await account.start()
    await asyncio.sleep(10 * 60)
    await account.close()
    first = sorted(e.t for e in cloud.log if e.route == "data")
    # One per 66.7 s tick, not seven at once; the login and the listing took the first two ticks.
    assert len(first) == 7
    assert first[0] == pytest.approx(2 * HOUR / 54, abs=1e-3)
    assert min(intervals(first)) >= HOUR / 54 - 1e-6


async def test_an_unsupported_endpoint_leaves_the_plan_and_the_rest_speed_up(cloud):
    account = await cloud.connect("mystery")
    await account.start()
    await asyncio.sleep(12 * HOUR)
    car = (await account.vehicles())[0]
    await account.close()
    assert car.endpoints["e7"].supported is False
    assert isinstance(car.endpoints["e7"].last_error, evclient.NotSupportedError)
    assert cloud.count("data")
    assert sum(1 for e in cloud.log if e.path.endswith("/e7")) == 1
    period = 6 * HOUR / 54
    for path, times in poll_times(cloud, after=2 * HOUR).items():
        assert not path.endswith("/e7")
        assert all(abs(gap - period) <= 1 for gap in intervals(times)), (path, intervals(times))


async def test_on_demand_refreshes_add_no_request_over_the_day(cloud):
    await run_day(cloud, "solo")
    baseline = cloud.count()
    cloud.log.clear()

    loop = asyncio.get_running_loop()
    start = loop.time()
    account = await cloud.connect("solo")
    await account.start()
    car = (await account.vehicles())[0]
    await asyncio.sleep(HOUR / 2)
    for hour in range(23):
        await car.refresh(f"e{hour % 7 + 1}")
        await car.refresh(f"e{(hour + 3) % 7 + 1}")
        await asyncio.sleep(HOUR)
    await asyncio.sleep(start + DAY - loop.time())
    await account.close()
    assert cloud.count("data") > 1200
    assert cloud.count() <= baseline


async def test_a_refresh_resets_the_due_time_of_its_target(cloud):
    account = await cloud.connect("solo")
    await account.start()
    car = (await account.vehicles())[0]
    await asyncio.sleep(2 * HOUR)
    await car.refresh("e3")
    refreshed_at = asyncio.get_running_loop().time()
    await asyncio.sleep(HOUR)
    await account.close()
    after = [t for t in poll_times(cloud)["/api/cars/VF1SLXXXX00000001/data/e3"] if t >= refreshed_at]
    assert after[1] - after[0] == pytest.approx(7 * HOUR / 54, abs=1)


async def test_quota_error_pauses_polling_for_retry_after_then_recovers(cloud):
    account = await cloud.connect("solo")
    await account.start()
    await asyncio.sleep(HOUR)
    cloud.fail("data", Fault(status=429, body={"error": "slow down"}, headers={"Retry-After": "1200"}))
    await asyncio.sleep(200)  # the next poll meets the 429
    hit = next(e.t for e in cloud.log if e.status == 429)
    assert account.budget.paused
    car = (await account.vehicles())[0]
    requests_before = cloud.count()
    with pytest.raises(RateLimited) as info:
        await car.refresh("e1")
    assert 900 < info.value.retry_after <= 1200
    assert cloud.count() == requests_before  # refused locally, no request spent
    await asyncio.sleep(2 * HOUR)
    await account.close()
    after = [e.t for e in cloud.log if e.t > hit]
    assert after[0] - hit >= 1200 - 1e-6
    assert len(after) > 20  # polling came back


async def test_brand_quota_error_without_retry_after_uses_the_brand_cooldown(cloud):
    account = await cloud.connect("solo")
    car = (await account.vehicles())[0]
    cloud.fail("data", Fault(status=403, body={"error": "quota"}))
    with pytest.raises(evclient.QuotaExceeded) as info:
        await car.refresh("e1")
    assert info.value.retry_after == 900
    assert account.budget.paused_for == pytest.approx(900, abs=1)
    await account.close()


async def test_budget_state_survives_a_restart(cloud):
    account = await cloud.connect("solo", budget=Budget(reserve=0))
    car = (await account.vehicles())[0]
    for i in range(58):  # with login and listing: the whole hour's 60
        await car.refresh(f"e{i % 7 + 1}")
        await asyncio.sleep(1)
    state = account.budget_state()
    tokens = account.tokens
    await account.close()

    again = await evclient.connect(
        "test", servers=cloud.servers(), tokens=tokens, budget=Budget(reserve=0, state=state)
    )
    assert again.budget.windows[0].used == 60
    car = (await again.vehicles())[0]
    await car.refresh("e1")
    await again.close()
    assert cloud.max_in_window() <= 60
    assert cloud.log[-1].t >= HOUR


async def test_concurrent_refreshes_of_one_endpoint_share_one_request(cloud):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        before = cloud.count("data")
        values = await asyncio.gather(*(car.refresh("e2") for _ in range(20)))
        assert cloud.count("data") == before + 1
        assert len({v.value for v in values}) == 1


async def test_subscribers_hear_changes_only(cloud):
    heard: list[frozenset[str]] = []
    async with cloud.connect("solo") as account:
        unsubscribe = account.subscribe(lambda vehicle, changed: heard.append(changed))
        car = (await account.vehicles())[0]
        await car.refresh("e1")
        cloud.changing = False
        await car.refresh("e2")
        await car.refresh("e2")  # same value: nobody woken
        unsubscribe()
        cloud.changing = True
        await car.refresh("e3")
    assert heard == [frozenset({"e1"}), frozenset({"e2"})]


async def test_history_takes_validated_parameters_and_is_not_polled(cloud):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        before = cloud.count()
        with pytest.raises(evclient.InvalidInputError):
            await car.refresh("history", begin="1316", end="0117")
        with pytest.raises(evclient.InvalidInputError):
            await car.refresh("e1", begin="1016")
        with pytest.raises(evclient.InvalidInputError):
            await car.refresh("history")  # the range is required
        with pytest.raises(evclient.InvalidInputError):
            await car.refresh("history", begin="1016", end="1216", colour="red")
        assert cloud.count() == before
        value = await car.refresh("history", begin="1016", end="1216")
        assert value.query == {"begin": "1016", "end": "1216"}
        await account.start()
        await asyncio.sleep(3 * HOUR)
    assert sum(1 for e in cloud.log if e.path.endswith("/history")) == 1


async def test_a_stopped_account_leaves_no_timer_on_the_loop(cloud):
    # Home Assistant's test harness fails on a lingering timer: the pollers' shared timer goes with the last.
    loop = asyncio.get_running_loop()
    async with cloud.connect("solo") as account:
        await account.start()
        await asyncio.sleep(600)
        await account.stop()
    assert not [h for h in loop._scheduled if not h.cancelled() and "_Hub" in repr(h)]  # type: ignore[attr-defined]


def test_a_failed_poll_of_a_daily_target_is_tried_again_within_hours_not_a_day():
    from evclient.pollplan import PollPlan

    plan: PollPlan[str] = PollPlan(1728.0)
    plan.add("telematics", 0.0)
    plan.add("daily", 0.0, 0.05, every=86400.0)
    plan.polled("daily", 0.0)
    assert plan.period("daily") == 86400.0
    plan.failed("daily", 86400.0)  # the day's read failed (a bad answer)
    retries = []
    at = 86400.0
    for _ in range(6):
        due = plan._targets["daily"].due
        retries.append(due - at)
        at = due
        plan.failed("daily", at)
    assert retries[:3] == [3600.0, 7200.0, 14400.0] and max(retries) <= 86400.0
    plan.polled("daily", at)
    assert plan._targets["daily"].due == at + 86400.0  # a good read: a day again
