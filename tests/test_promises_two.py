"""The promises under adversarial use, round two (the library half; the CLI's is in test_cli_promises.py):
no rotated token lost, a stream that cannot be stalled or poisoned, values never wiped, bodies that cannot
hurt. Each test failed before the fix it guards."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import itertools
import json
import tracemalloc
from collections.abc import AsyncIterator

import paho.mqtt.client
import pytest

import evclient
from evclient import (
    AccountClosed,
    AuthenticationError,
    Budget,
    BudgetExhausted,
    EVClientError,
    InvalidInputError,
    RateLimited,
    ResponseError,
    TemporaryError,
    Window,
)
from evclient.brands.bmw_cardata import keys
from evclient.brands.renault import endpoints as renault_endpoints
from evclient.brands.renault_ze import endpoints as ze_endpoints
from evclient.pollplan import Poller, PollPlan
from evclient.scheduler import Priority, Scheduler, within
from evclient.simulator.brands.bmw_cardata import DEMO_GCID
from evclient.simulator.faults import FaultKind
from tests.test_cardata import IX, MINI, cardata, login, rest_calls, routes
from tests.test_renault import ZOE as RENAULT_ZOE
from tests.test_renault import connect as renault_connect
from tests.testcloud import Fault

HOUR = 3600.0
SOC = keys.SOC
#: 200 KB of nested brackets: deeper than any JSON parser goes.
NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(autouse=True)
async def _mqtt_on_loop_time(monkeypatch):
    monkeypatch.setattr(paho.mqtt.client, "time_func", asyncio.get_running_loop().time)


# -- bodies that cannot hurt (13, 14) ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 500, 429])
async def test_a_body_of_nested_brackets_is_a_typed_error_and_a_429_pauses_whatever_its_body(sim, status):
    async with renault_connect(sim) as account:
        car = await account.vehicle(RENAULT_ZOE)
        sim.fault("renault.battery-status", FaultKind.RAW, status=status, body=NESTED, times=None,
                  headers={"Content-Type": "application/json"})
        with pytest.raises(EVClientError) as caught:
            await car.refresh("battery-status")
        assert not isinstance(caught.value, RecursionError)
        if status == 429:
            assert isinstance(caught.value, RateLimited)
            assert account.budget.pauses.get("kamereon", 0) > 0
        elif status == 200:
            assert isinstance(caught.value, ResponseError)
        else:
            assert isinstance(caught.value, TemporaryError)


async def test_a_gzip_bomb_is_refused_without_growing_memory(sim):
    bomb = gzip.compress(b"0" * (200 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 300 * 1024
    async with renault_connect(sim) as account:
        car = await account.vehicle(RENAULT_ZOE)
        sim.fault("renault.battery-status", FaultKind.RAW, body=bomb, times=None,
                  headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        tracemalloc.start()
        try:
            with pytest.raises(ResponseError, match="over 2048 KiB"):
                await car.refresh("battery-status")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 24 * 1024 * 1024, peak  # the cap (2 MiB) and its chunks, not 200 MiB


# -- close() while a token renewal is under way (18) ---------------------------------------------------------


async def test_a_read_whose_token_renewal_is_cut_by_close_gets_account_closed(cloud):
    cloud.token_lifetime = 120.0  # renewed a minute before expiry: the next read after 60 s renews first
    account = await cloud.connect("solo")
    car = (await account.vehicles())[0]
    await asyncio.sleep(90)
    cloud.fail("refresh", Fault(status=200, delay=30.0))
    read = asyncio.ensure_future(car.refresh("e1"))
    await asyncio.sleep(5)
    await account.close()
    with pytest.raises(AccountClosed):
        await read


# -- typed reads keep to their brand (19) --------------------------------------------------------------------


async def test_another_brands_constant_of_the_same_name_is_refused_before_any_request(sim):
    assert renault_endpoints.CHARGE_HISTORY.name == ze_endpoints.CHARGE_HISTORY.name
    async with renault_connect(sim) as account:
        car = await account.vehicle(RENAULT_ZOE)
        sent = len(sim.requests())
        with pytest.raises(InvalidInputError, match="not one of renault's endpoint constants"):
            await car.read(ze_endpoints.CHARGE_HISTORY, start="2026-11-01", end="2026-11-30")
        with pytest.raises(InvalidInputError):
            car.latest(ze_endpoints.NOTIFICATION_SETTINGS)
        assert len(sim.requests()) == sent
        car.latest(renault_endpoints.BATTERY_STATUS)  # its own constants still work


# -- polls only when due, from any source (12) ---------------------------------------------------------------


async def test_a_value_pushed_more_often_than_its_period_is_never_polled():
    loop = asyncio.get_running_loop()
    plan: PollPlan[str] = PollPlan(100.0)
    polls: list[float] = []

    async def poll(key: str) -> float:
        polls.append(loop.time())
        return loop.time()

    poller = Poller(plan, poll)
    plan.add("soc", loop.time())
    poller.start()
    try:
        await asyncio.sleep(1)  # the first poll, while nothing was pushed yet
        for _ in range(4 * 60):  # a value pushed every 60 s for four hours
            plan.refreshed("soc", loop.time())
            poller.replanned()
            await asyncio.sleep(60)
    finally:
        await poller.stop()
    assert len(polls) == 1, polls


async def test_a_value_read_on_demand_moves_its_poll_a_full_period(cloud):
    async with cloud.connect("solo", budget=Budget(windows=[Window(limit=36, seconds=HOUR, reserve=0)])) as account:
        car = (await account.vehicles())[0]
        await account.start()
        await asyncio.sleep(HOUR)
        for _ in range(30):
            await car.refresh("e1")
            await asyncio.sleep(20)
        e1 = [e.t for e in cloud.log if e.path.endswith("/e1")]
    reads_then = [t for t in e1 if t >= HOUR]
    assert len(reads_then) == 30  # the reads only: no poll of a value at most 20 s old


# -- within() bounds its own calls only (15) ----------------------------------------------------------------


async def test_a_deadline_given_to_start_is_not_inherited_by_the_background_polls(cloud):
    cloud.token_lifetime = 3 * HOUR  # renewed during the run
    account = await cloud.connect("solo")
    async with account:
        with within(0):
            await account.start()
        await asyncio.sleep(10 * HOUR)
    polls = [e for e in cloud.log if e.route == "data"]
    assert cloud.count("refresh") >= 2
    assert len(polls) >= 9 * 50  # the whole budget, hour after hour, renewals included
    assert account.budget.windows[0].used <= 60


async def test_a_refusal_says_when_a_slot_frees_and_never_in_0_s():
    loop = asyncio.get_running_loop()
    scheduler = Scheduler([Window(limit=2, seconds=60.0, reserve=0)])
    said = []
    for _ in range(2):
        (await scheduler.acquire(Priority.REFRESH)).release()
    for wait in (0.0, 59.7):
        await asyncio.sleep(wait)
        with pytest.raises(BudgetExhausted) as caught:
            await scheduler.acquire(Priority.REFRESH, deadline=loop.time())
        said.append(str(caught.value))
    scheduler.pause(600, "default")
    await asyncio.sleep(1)
    with pytest.raises(BudgetExhausted) as paused:
        await scheduler.acquire(Priority.POLL, deadline=loop.time())
    said.append(str(paused.value))
    assert "in 60 s" in said[0]
    assert "under a second" in said[1]
    assert "pause that ends in 10 min" in said[2]
    assert not any(" 0 s" in line for line in said), said


# -- CarData: tokens ------------------------------------------------------------------------------------------


async def expire_access(account: evclient.Account) -> None:
    """Make the access token due for renewal (as an hour later would)."""
    account.auth._expires = account.clock.wall() + 1  # type: ignore[attr-defined]


async def test_a_rotation_inside_a_read_that_then_fails_is_announced_at_once(sim):
    account = await login(sim)
    heard: list[dict] = []
    async with account:
        account.subscribe_tokens(heard.append)
        car = await account.vehicle(IX)
        await car.refresh("telematics")
        first = account.tokens["refresh_token"]
        for _ in range(2):
            await expire_access(account)
            sim.fault("bmw-cardata.telematics", status=503, times=3)
            with pytest.raises(TemporaryError):
                await car.refresh("telematics")
            assert heard and heard[-1]["refresh_token"] == account.tokens["refresh_token"] != first
            first = heard[-1]["refresh_token"]
        # The refresh token the application last heard of is the account's, and the server takes it.
        await expire_access(account)
        await car.refresh("telematics")
        assert heard[-1]["refresh_token"] == account.tokens["refresh_token"]


@pytest.mark.parametrize(("kind", "status"), [(FaultKind.HTML, 400), (FaultKind.HTML, 502), (FaultKind.STATUS, 400),
                                         (FaultKind.EMPTY, 401)])
async def test_a_refresh_answered_without_an_oauth_refusal_keeps_the_login(sim, kind, status):
    account = await login(sim)
    heard: list[dict] = []
    async with account:
        account.subscribe_tokens(heard.append)
        car = await account.vehicle(IX)
        await expire_access(account)
        sim.fault("bmw-cardata.token", kind, status=status, body={"message": "maintenance"})
        with pytest.raises(TemporaryError):
            await car.refresh("telematics")
        assert all(t.get("refresh_token") for t in heard)  # never handed a wiped login
        assert account.tokens["refresh_token"]
        await car.refresh("telematics")  # the same refresh token still works
        assert routes(sim, "device-code") == ["device-code"]  # no second device login


async def test_a_refused_refresh_token_says_what_was_refused_and_when_the_login_was_made(sim):
    account = await login(sim)
    async with account:
        car = await account.vehicle(IX)
        await expire_access(account)
        sim.fault("bmw-cardata.token", status=400, body={"error": "invalid_grant",
                                                          "error_description": "refresh token revoked"})
        with pytest.raises(AuthenticationError) as caught:
            await car.refresh("telematics")
    message = str(caught.value)
    assert "invalid_grant" in message and "device login made 20" in message and "lapsed" not in message


# -- CarData: values never wiped, never poisoned (8, 9) -------------------------------------------------------


async def test_a_rest_entry_without_data_never_replaces_a_measured_value(sim):
    account = await login(sim)
    async with account:
        car = await account.vehicle(IX)
        await car.refresh("telematics")
        before = car.status.battery_percent
        assert before is not None
        body = {"telematicData": {SOC: {"value": None, "unit": "%", "timestamp": None}}}
        sim.fault("bmw-cardata.telematics", status=200, body=body)
        await car.refresh("telematics")
        assert car.status.battery_percent == before


POISON = [
    b'{"vin": "%s", "data": {"%s": {"timestamp": 1e15, "value": 1, "unit": "%%"}}}',
    b'{"vin": "%s", "data": {"%s": {"timestamp": 1e300, "value": 2, "unit": "%%"}}}',
    b'{"vin": "%s", "data": {"%s": {"timestamp": ' + b"9" * 401 + b', "value": 3, "unit": "%%"}}}',
    b'{"vin": "%s", "data": {"%s": {"timestamp": "2026-01-01T00:00:00Z", "value": ' + b"9" * 401 + b'}}}',
    b'{"vin": "%s", "data": {"%s": {"timestamp": "not a time", "value": 4}}}',
    b'{"vin": "%s", "data": {"%s": {"timestamp": "2026-01-01T00:00:00Z", "value": [[[1]]]}}}',
]


@contextlib.asynccontextmanager
async def streaming(sim) -> AsyncIterator[tuple[evclient.Account, evclient.Vehicle]]:
    """The demo CarData account, its stream connected for a minute, and the iX."""
    account = await login(sim)
    async with account:
        await account.start()
        await asyncio.sleep(60)
        yield account, await account.vehicle(IX)


async def test_poison_messages_are_skipped_and_counted_never_raised(sim):
    async with streaming(sim) as (account, car):
        good = car.status.battery_percent
        brand = cardata(sim)
        reconnects = account.stream_state.reconnects
        for template in POISON:
            await brand.publish_raw(DEMO_GCID, IX, template.replace(b"%s", IX.encode(), 1)
                                    .replace(b"%s", SOC.encode(), 1).replace(b"%%", b"%"))
        await brand.publish_raw(DEMO_GCID, IX, NESTED)
        await asyncio.sleep(5)
        state = account.stream_state
        assert state.connected and state.reconnects == reconnects
        assert state.rejected_fields == len(POISON) and state.rejected_messages == 1
        # car.status and refresh() still work, and none of the poison reached the value.
        assert good is not None and car.status.battery_percent not in (None, 1, 2, 3, 4)
        await car.refresh("telematics")
        json.dumps(await account.diagnostics())


async def test_a_value_stamped_in_the_future_is_stored_as_arrived_and_never_freezes_its_key(sim):
    async with streaming(sim) as (account, car):
        brand = cardata(sim)
        future = (b'{"vin": "%s", "data": {"%s": {"timestamp": "2099-01-01T00:00:00Z", "value": 1, "unit": "%%"}}}'
                  % (IX.encode(), SOC.encode()))
        await brand.publish_raw(DEMO_GCID, IX, future)
        await asyncio.sleep(2)
        assert car.status.battery_percent == 1 and account.stream_state.restamped == 1
        later = json.dumps({"vin": IX, "data": {SOC: {"timestamp": account.clock.wall() + 60, "value": 73.8,
                                                      "unit": "%"}}}).encode()
        await asyncio.sleep(60)
        await brand.publish_raw(DEMO_GCID, IX, later)
        await asyncio.sleep(2)
        assert car.status.battery_percent == 73.8


# -- CarData: the stream is never stalled (6, 7) --------------------------------------------------------------


async def test_with_the_rest_budget_spent_the_stream_still_stores_its_messages(sim):
    account = await login(sim)
    async with account:
        car = await account.vehicle(IX)
        while account.budget.windows[0].used < 50:
            await car.refresh("telematics")
        ix = sim.world.car(IX)
        assert ix is not None
        ix.plugged = ix.charging = True  # it charges: the stream has news every few minutes
        await account.start()
        await asyncio.sleep(600)
        state = account.stream_state
        assert state.connected and state.messages > 0
        assert car.endpoints["telematics"].source == "push"


async def test_a_broker_refusing_every_connect_costs_one_early_refresh_and_polls_take_over(sim):
    account = await login(sim)
    cardata(sim).account_by_gcid(DEMO_GCID).extra["refuse_connect"] = True
    heard: list[evclient.StreamState] = []
    async with account:
        account.subscribe_stream(heard.append)
        refreshes_before = len(routes(sim, "token"))
        started = account.clock.wall()
        await account.start()
        await asyncio.sleep(2 * HOUR)
        refreshes = len(routes(sim, "token")) - refreshes_before
        reads = [e.t for e in rest_calls(sim) if "telematicData" in e.path]
    # Due by the access token's hour: two in two hours; at most one more for the refusals.
    assert refreshes <= 3, refreshes
    assert reads
    first_read = min(e.t for e in rest_calls(sim) if "telematicData" in e.path)
    listing = min(e.t for e in rest_calls(sim))
    assert first_read - listing <= 300
    attempts = [s for s in heard if s.last_error and "refused the connection" in s.last_error]
    waits = sorted({round(s.next_attempt_at - started) for s in attempts if s.next_attempt_at})
    assert len(waits) <= 6, waits  # 5 s, 1 min, then 15 min, 30 min, 1 h …
    gaps = [b - a for a, b in itertools.pairwise(waits)]
    assert gaps and max(gaps) >= 900  # after three refusals, at least a quarter of an hour


# -- CarData: one container flight; the GCID never shown (17, 20) ---------------------------------------------


async def test_two_reads_after_the_container_vanished_make_one_container(sim):
    account = await login(sim)
    async with account:
        ix, mini = await account.vehicle(IX), await account.vehicle(MINI)
        await ix.refresh("telematics")
        cardata(sim).containers.clear()  # deleted in BMW's portal: both reads find it gone, and need a new one
        await asyncio.gather(ix.refresh("telematics"), mini.refresh("telematics"))
        made = [e for e in sim.requests(brand="bmw-cardata") if e.method == "POST" and e.path.endswith("containers")]
        assert len(made) == 2  # the first login's and one more


async def test_diagnostics_never_show_the_gcid(sim):
    account = await login(sim)
    async with account:
        await account.start()
        await asyncio.sleep(120)
        report = json.dumps(await account.diagnostics())
    assert DEMO_GCID not in report
    assert account.stream_state.messages > 0
