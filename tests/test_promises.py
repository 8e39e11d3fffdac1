"""The promises under adversarial use: no request outside the budget, deadlines that hold, nothing after
close(), credentials only where they belong. Each test here failed before the fix it guards."""

from __future__ import annotations

import asyncio
import math

import aiohttp
import pytest

import evclient
from evclient import (
    AccountClosed,
    Budget,
    BudgetExhausted,
    CommandCancelled,
    CommandTimedOut,
    InvalidInputError,
    RateLimited,
    RedirectRefused,
    SessionClosed,
    Timeouts,
    Window,
)
from evclient.brand import VehicleInfo
from evclient.pipeline import clamp_pause
from evclient.redact import mask_vin
from evclient.scheduler import Priority, Scheduler
from tests import testcloud
from tests.testcloud import PASSWORD, Fault, serve

# -- redirects -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_a_typed_error_and_costs_the_server_one_request(cloud, status):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        url = f"{cloud.url}/api/cars/{car.vin}/data/e1"
        cloud.fail("data", *[Fault(status=status, headers={"Location": url}, body={})] * 9)
        before = account.budget.windows[0].used
        with pytest.raises(RedirectRefused, match="redirect"):
            await car.refresh("e1")
        # One request in evclient's budget, one at the server: nothing followed behind the scheduler's back.
        assert cloud.count("data") == 1
        assert account.budget.windows[0].used == before + 1


async def test_a_redirected_login_never_carries_the_password_to_another_origin():
    home, elsewhere = testcloud.TestCloud(), testcloud.TestCloud()
    async with serve(home) as home_url, serve(elsewhere) as other_url:
        home.fail("login", Fault(status=307, headers={"Location": f"{other_url}/auth/login"}, body={}))
        connecting = evclient.connect("test", servers={"api": f"{home_url}/api", "auth": f"{home_url}/auth"},
                                      username="solo", password=PASSWORD)
        with pytest.raises(RedirectRefused):
            await connecting
        assert home.count("login") == 1
        assert elsewhere.log == []  # the other origin saw nothing, let alone the password


# -- the budget contract: the reserve and deadlines ------------------------------------------------------


async def fill(account, car, up_to: int) -> None:
    """Spend the account's window up to ``up_to`` requests with commands (they may use the reserve)."""
    while account.budget.windows[0].used < up_to:
        await car.command("honk")


async def test_a_command_deadline_counts_waits_for_budget_and_fails_at_once(cloud):
    loop = asyncio.get_running_loop()
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        await fill(account, car, 59)
        sent = len(cloud.log)
        started = loop.time()
        # The submission takes the last slot; no status read can come within 60 s, so it gives up at the
        # moment of its first read (2 s) instead of waiting an hour for a slot.
        with pytest.raises(CommandTimedOut) as caught:
            await car.command("flash", deadline=60)
        assert loop.time() - started < 5
        assert len(cloud.log) == sent + 1
        assert caught.value.status == "INITIATED"
        # With the window full, a command is refused before it sends anything.
        with pytest.raises(CommandTimedOut, match="not sent"):
            await car.command("flash", deadline=60)
        assert len(cloud.log) == sent + 1
        assert loop.time() - started < 5


async def test_on_demand_reads_leave_the_reserve_to_commands(cloud):
    loop = asyncio.get_running_loop()
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        window = account.budget.windows[0]

        async def hammer() -> None:
            while True:
                await car.refresh("e1")  # each one shares or waits; none may touch the reserve

        readers = [asyncio.ensure_future(hammer()) for _ in range(3)]
        await asyncio.sleep(5)
        assert account.budget.windows[0].used == window.poll_limit
        started = loop.time()
        result = await car.command("flash", deadline=120)
        assert result.status == "EXECUTED"
        assert loop.time() - started < 120
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        assert cloud.max_in_window(3600.0) <= 60


async def test_within_bounds_the_wait_for_a_slot(cloud):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        while account.budget.windows[0].used < account.budget.windows[0].poll_limit:
            await car.refresh("e2")
        sent = len(cloud.log)
        with evclient.within(0), pytest.raises(BudgetExhausted) as caught:
            await car.refresh("e1")
        assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 3600
        assert len(cloud.log) == sent
        with pytest.raises(InvalidInputError), evclient.within(-1):
            pass


# -- close() ---------------------------------------------------------------------------------------------


async def test_close_fails_every_waiter_and_sends_nothing_afterwards(cloud):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        while account.budget.windows[0].used < account.budget.windows[0].poll_limit:
            await car.refresh("e2")
        waiting = [asyncio.ensure_future(car.refresh(name)) for name in ("e1", "e3", "e4")]
        await asyncio.sleep(1)
        sent = len(cloud.log)
        await account.close()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(r, AccountClosed) for r in results), results
        await asyncio.sleep(7200)
        assert len(cloud.log) == sent
        own = account.pipeline.transport._own_session
        assert own is None or own.closed


@pytest.mark.parametrize("call", ["login", "start", "vehicles", "vehicle", "refresh", "command", "account_choices"])
async def test_every_call_after_close_raises_account_closed(cloud, call):
    account = await cloud.connect("solo")
    car = (await account.vehicles())[0]
    await account.close()
    sent = len(cloud.log)
    calls = {
        "login": account.login, "start": account.start, "vehicles": lambda: account.vehicles(refresh=True),
        "vehicle": lambda: account.vehicle(car.vin), "refresh": lambda: car.refresh("e1"),
        "command": lambda: car.command("flash"), "account_choices": account.account_choices,
    }
    with pytest.raises(AccountClosed):
        await calls[call]()
    assert not account.polling
    assert len(cloud.log) == sent
    await account.close()  # twice is harmless


async def test_close_gives_a_task_awaiting_a_command_a_typed_error(cloud):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        handle = await car.start_command("flash")
        waiter = asyncio.ensure_future(handle.wait())
        await asyncio.sleep(1)
        await account.close()
        with pytest.raises(AccountClosed):
            await waiter


async def test_a_closed_injected_session_is_a_typed_error(cloud):
    session = aiohttp.ClientSession()
    account = await cloud.connect("solo", session=session)
    car = (await account.vehicles())[0]
    await session.close()
    sent = len(cloud.log)
    with pytest.raises(SessionClosed):
        await car.refresh("e1")
    assert len(cloud.log) == sent
    await account.close()


# -- cancelling a command ----------------------------------------------------------------------------------


async def test_cancelling_a_command_stops_its_status_reads_and_frees_the_channel(cloud):
    loop = asyncio.get_running_loop()
    cloud.script = [(0, "INITIATED"), (4, "PENDING"), (2000, "EXECUTED")]  # a car that takes its time
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        task = asyncio.ensure_future(car.command("flash"))
        await asyncio.sleep(12)  # between two status reads
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        reads = cloud.count("status")
        await asyncio.sleep(600)
        assert cloud.count("status") == reads  # no status read after the caller gave up
        cloud.script = [(0, "INITIATED"), (1, "EXECUTED")]
        started = loop.time()
        await car.command("flash")
        assert loop.time() - started < 30  # the channel was free at once


async def test_handle_cancel_gives_other_awaiters_a_typed_error(cloud):
    cloud.script = [(0, "INITIATED"), (2000, "EXECUTED")]
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        handle = await car.start_command("flash")
        waiter = asyncio.ensure_future(handle.wait())
        await asyncio.sleep(1)
        handle.cancel()
        with pytest.raises(CommandCancelled):
            await waiter


# -- pushback: Retry-After clamped, pauses per server ------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [("1e12", 3600.0), ("-5", 1.0), ("nan", 900.0), ("inf", 3600.0), ("0", 1.0), ("120", 120.0),
     ("Fri, 31 Dec 2999 23:59:59 GMT", 3600.0), ("Thu, 01 Jan 1970 00:00:00 GMT", 1.0), ("soon", 900.0)],
)
async def test_retry_after_is_clamped_to_the_brand_bounds(cloud, header, expected):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        cloud.fail("data", Fault(status=429, headers={"Retry-After": header}, body={}))
        with pytest.raises(RateLimited) as caught:
            await car.refresh("e1")
        assert caught.value.retry_after == pytest.approx(expected, abs=1.0)
        assert account.budget.paused_for == pytest.approx(expected, abs=1.0)


def test_clamp_pause_bounds() -> None:
    assert clamp_pause(None, 900, 3600) == 900
    assert clamp_pause(math.nan, 900, 3600) == 900
    assert clamp_pause(-math.inf, 900, 3600) == 1
    assert clamp_pause(math.inf, 900, 86400) == 86400


async def test_a_pause_stops_only_the_server_that_pushed_back(cloud):
    cloud.token_lifetime = 3000.0
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        cloud.fail("data", Fault(status=429, headers={"Retry-After": "3600"}, body={}))
        with pytest.raises(RateLimited):
            await car.refresh("e1")
        assert account.budget.pauses.keys() == {"api"}
        refreshes = cloud.count("refresh")
        await asyncio.sleep(3100)  # the token expired meanwhile; the auth server is not paused
        await account.login()
        await account.auth.ensure(account.api(Priority.REFRESH))
        assert cloud.count("refresh") == refreshes + 1
        with pytest.raises(RateLimited):
            await car.refresh("e1")  # the api server still is


async def test_a_saved_pause_is_clamped_when_loaded(cloud):
    wall = evclient.Clock().wall()
    huge = {"windows": {}, "paused": {"api": wall + 1e12}}
    async with cloud.connect("solo", budget=Budget(state=huge)) as account:
        assert account.budget.paused_for == pytest.approx(3600.0, abs=1)
    legacy = {"windows": {}, "paused_until": wall + 1e9}
    async with cloud.connect("solo", budget=Budget(state=legacy)) as account:
        assert account.budget.paused_for == pytest.approx(3600.0, abs=1)
    for bad in ({"windows": {}, "paused": {"api": "x"}}, {"windows": {"default": ["nan"]}}, {"windows": []}):
        with pytest.raises(InvalidInputError):
            await cloud.connect("solo", budget=Budget(state=bad))


# -- settings checked before anything is sent ------------------------------------------------------------


async def test_a_misspelt_server_name_is_refused(cloud):
    servers = {**cloud.servers(), "apl": cloud.servers()["api"]}
    with pytest.raises(InvalidInputError, match=r"no server named 'apl'.*api, auth"):
        await evclient.connect("test", servers=servers, username="solo", password=PASSWORD)
    assert cloud.log == []


@pytest.mark.parametrize(
    "make",
    [
        lambda: Budget(reserve=100).resolve((Window(limit=60, seconds=3600.0),)),
        lambda: Budget(reserve=-1),
        lambda: Budget(reserve=1.5),  # type: ignore[arg-type]
        lambda: Budget(cooldown=math.inf),
        lambda: Budget(cooldown=0),
        lambda: Budget(retries=-1),
        lambda: Budget(retries=1000),
        lambda: Timeouts(total=-1),
        lambda: Timeouts(connect=math.nan),
        lambda: Timeouts(total=math.inf),
        lambda: Window(limit=0, seconds=60),
        lambda: Window(limit=10, seconds=math.nan),
        lambda: Window(limit=10, seconds=math.inf),
        lambda: Window(limit=10.5, seconds=60),  # type: ignore[arg-type]
        lambda: Window(limit=10, seconds=60, reserve=10),
    ],
)
def test_out_of_range_settings_are_refused(make) -> None:
    with pytest.raises(InvalidInputError):
        make()


@pytest.mark.parametrize("deadline", [0, -1, math.nan, math.inf, "60", True])
async def test_out_of_range_command_deadlines_are_refused(cloud, deadline):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        sent = len(cloud.log)
        with pytest.raises(InvalidInputError):
            await car.command("flash", deadline=deadline)
        assert len(cloud.log) == sent


async def test_endpoint_parameters_are_named_in_plain_words(cloud):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        with pytest.raises(InvalidInputError) as caught:
            await car.refresh("history", start="0124", end="0224")
        message = str(caught.value)
        assert "month_range" not in message and "keyword" not in message
        assert "begin" in message and "start" in message


# -- clocks and VINs ---------------------------------------------------------------------------------------


async def test_a_slow_local_clock_wastes_no_request_on_expired_tokens(sim):
    """The client's clock five minutes slow: MyRenault's 15-minute JWTs are judged by their own lifetime."""
    from tests.test_renault import connect as connect_renault

    clock = evclient.Clock(epoch=sim.world.clock.wall() - 300)
    async with connect_renault(sim, clock=clock) as account:
        await account.start()
        await asyncio.sleep(12 * 3600)
    refused = [e for e in sim.requests(brand="renault") if e.status == 401]
    assert refused == []


async def test_vins_in_any_case_are_accepted_and_masked(cloud):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        assert await account.vehicle(car.vin.lower()) is car
    assert mask_vin(car.vin.lower()).endswith(car.vin.lower()[-4:])
    assert car.vin.lower() not in mask_vin(f"car {car.vin.lower()} here")
    info = VehicleInfo(vin="VF1AG000164412345", context={"registration": "AB-123-CD"},
                       raw={"dealer": {"address": "1 rue de la Paix"}})
    shown = repr(info)
    assert "VF1AG000164412345" not in shown and "AB-123-CD" not in shown and "Paix" not in shown


def test_scheduler_refuses_waiters_after_close() -> None:
    async def scenario() -> None:
        scheduler = Scheduler((Window(limit=1, seconds=60.0, reserve=0),))
        slot = await scheduler.acquire(Priority.COMMAND)
        waiter = asyncio.ensure_future(scheduler.acquire(Priority.COMMAND))
        await asyncio.sleep(0)
        scheduler.close()
        with pytest.raises(AccountClosed):
            await waiter
        with pytest.raises(AccountClosed):
            await scheduler.acquire(Priority.COMMAND)
        slot.release()

    asyncio.run(scenario())


async def test_a_wrongly_shaped_answer_is_described_in_words(cloud):
    async with cloud.connect("solo") as account:
        car = (await account.vehicles())[0]
        cloud.fail("data", Fault(status=200, body={"unexpected": 1}))
        with pytest.raises(evclient.ResponseError) as caught:
            await car.refresh("e1")
        assert str(caught.value) == "e1: the answer lacks the field 'name'"
        assert "KeyError" not in str(caught.value)
