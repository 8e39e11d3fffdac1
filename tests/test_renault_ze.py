"""The Renault ZE Services brand from login to command, against the simulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

import evclient
from evclient import (
    AuthenticationError,
    CommandFailed,
    CommandNotSupported,
    CommandTimedOut,
    ConnectionFailed,
    InvalidCredentialsError,
    InvalidInputError,
    NotSupportedError,
    QuotaExceeded,
    ResponseError,
    ServerError,
)
from evclient.brands.renault_ze.models import (
    Battery,
    ChargeEvent,
    ChargeSchedule,
    ChargingPoint,
    DaySlot,
    NotificationSettings,
    PreconditionRecord,
    PreconditionResult,
    QuietHours,
)
from evclient.simulator.quota import SlidingQuota
from tests.conftest import ZOE

HOUR = 3600.0
WEEK = {d: {"start": "0100", "duration": "0115"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


async def test_login_lists_the_car_from_the_login_answer_and_reads_every_endpoint(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        assert sim.routes() == ["login"]  # the login answer is the car list: no extra request
        assert set(car.commands) == {c.name for c in evclient.brands.get("renault-ze").commands}

        battery = await car.refresh("battery")
        assert battery == Battery(charging=False, plugged=True, charge_level=62, remaining_range=155.0,
                                  last_update=battery.last_update, charging_point=ChargingPoint.ACCELERATED)
        assert battery.last_update.tzinfo is not None
        assert abs(battery.last_update.timestamp() - (sim.world.clock.wall() - 900)) < 5
        assert battery.remaining_time is None  # only while charging

        last = await car.refresh("precondition-last")
        assert isinstance(last, PreconditionRecord)
        assert last.result is PreconditionResult.ERROR
        assert last.date == dt.datetime(2016, 10, 11, 5, 56, 17, tzinfo=dt.UTC)

        october = await car.refresh("precondition-history", begin="1016", end="1016")
        assert len(october) == 4 and all(isinstance(r, PreconditionRecord) for r in october)
        assert await car.refresh("precondition-history", begin="1116", end="1216") == ()

        charges = await car.refresh("charge-history", begin="2016-10", end="1016")
        assert [c.type.value for c in charges] == ["START_NOTIFICATION", "END_NOTIFICATION", "START_NOTIFICATION"]
        # Milliseconds in the history, minutes in the battery: both are timedeltas in evclient.
        assert charges[2].remaining_time == dt.timedelta(hours=2, minutes=55)
        assert charges[0].remaining_time is None

        settings = await car.refresh("notification-settings")
        assert isinstance(settings, NotificationSettings)
        assert settings.charge_end.value == "SMS" and settings.do_not_disturb is None

        schedule = await car.refresh("charge-schedule")
        assert isinstance(schedule, ChargeSchedule) and schedule.enabled
        assert schedule.days is not None
        assert schedule.days["mon"] == DaySlot(dt.time(1, 0), dt.timedelta(hours=4))

        assert sim.routes() == ["login", "battery", "precondition-last", "precondition-history",
                                "precondition-history", "charge-history", "notification-settings", "charge-schedule"]


async def test_history_months_default_to_the_current_month(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        await car.refresh("charge-history")
        today = dt.date.today()
        month = f"{today.month:02d}{today.year % 100:02d}"
        assert sim.log[-1].route == "renault-ze.charge-history"
        assert sim.log[-1].query == {"begin": month, "end": month}


async def test_an_expired_token_is_refreshed_with_the_refresh_token_not_the_password(sim):
    sim.brands["renault-ze"].token_lifetime = 1800.0
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        before = account.tokens["token"]
        await asyncio.sleep(2 * HOUR)
        await car.refresh("battery")
        await asyncio.sleep(2 * HOUR)
        await car.refresh("battery")
        assert sim.routes() == ["login", "token-refresh", "battery", "token-refresh", "battery"]
        assert account.tokens["token"] != before
        assert all(e.status == 200 for e in sim.log)  # refreshed before expiry bit: no 401 spent


async def test_a_revoked_refresh_token_falls_back_to_the_password(sim):
    sim.brands["renault-ze"].token_lifetime = 1800.0
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        sim.world.revoke("renault-ze", "demo@evclient.dev", refresh=True)
        await asyncio.sleep(HOUR)
        assert (await car.refresh("battery")).charge_level == 62
        assert sim.routes() == ["login", "token-refresh", "login", "battery"]


async def test_a_token_revoked_by_the_server_costs_one_401_then_a_refresh(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        sim.fault("renault-ze.battery", "revoke")
        await car.refresh("battery")
        assert sim.routes() == ["login", "battery", "token-refresh", "battery"]
        assert [e.status for e in sim.log] == [200, 401, 200, 200]


async def test_saved_tokens_resume_without_password_or_request(sim):
    async with sim.connect_ze() as first:
        tokens = first.tokens
    sim.log.clear()
    async with evclient.connect("renault-ze", servers=sim.servers("renault-ze"), tokens=tokens) as account:
        car = await account.vehicle(ZOE)
        assert sim.log == []
        assert (await car.refresh("battery")).plugged
        assert sim.routes() == ["battery"]


async def test_a_login_made_by_the_listing_is_announced_at_once(sim):
    """Saved tokens without the car list: the listing logs in with the password, and the new tokens reach the
    application (and the account's store) then, not at close()."""
    async with sim.connect_ze() as first:
        tokens = {**first.tokens, "vehicles": None}
    heard: list[dict] = []
    async with sim.connect_ze(tokens=tokens) as account:
        account.subscribe_tokens(heard.append)
        await account.vehicles()
        assert heard and heard[-1]["vehicles"] and heard[-1]["token"] != tokens["token"]


async def test_saved_tokens_that_expired_are_refreshed_without_password(sim):
    sim.brands["renault-ze"].token_lifetime = 600.0
    async with sim.connect_ze() as first:
        tokens = first.tokens
    await asyncio.sleep(HOUR)
    sim.log.clear()
    # (looptime moved the simulated hour without moving the real clock: tell the new account the time)
    clock = evclient.Clock(epoch=sim.world.clock.wall())
    async with evclient.connect("renault-ze", servers=sim.servers("renault-ze"), tokens=tokens,
                                clock=clock) as account:
        await (await account.vehicle(ZOE)).refresh("battery")
    assert sim.routes() == ["token-refresh", "battery"]


async def test_a_wrong_password_is_one_request_and_is_not_retried(sim):
    with pytest.raises(InvalidCredentialsError):
        await sim.connect_ze(password="wrong-password")
    assert sim.routes() == ["login"]


async def test_a_refused_login_is_not_retried_by_polling(sim):
    account = await sim.connect_ze()
    try:
        sim.world.accounts[("renault-ze", "demo@evclient.dev")].password = "changed-elsewhere"
        sim.world.revoke("renault-ze", "demo@evclient.dev", refresh=True)
        await account.start()
        await asyncio.sleep(3 * HOUR)
        assert sim.routes().count("login") == 2  # the first login, then one refused attempt: never again
        with pytest.raises(AuthenticationError):
            await (await account.vehicle(ZOE)).refresh("battery")
    finally:
        await account.close()


# -- commands ------------------------------------------------------------------------------------------


async def test_precondition_succeeds_when_the_car_reports_a_new_success(sim):
    sim.world.set_script("precondition", latency=25.0)
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        changes = []
        result = await car.command("precondition", progress=changes.append)
        assert result.status == "SUCCESS"
        assert [c.status for c in changes] == ["REQUESTED", "SUCCESS"]
        assert result.polls == 3 and result.elapsed == pytest.approx(35, abs=1)  # reads at 10, 20, 35 s
        assert sim.zoe.hvac_on
        assert car.value("precondition-last").result is PreconditionResult.SUCCESS
        await asyncio.sleep(301)
        assert not sim.zoe.hvac_on  # five minutes, then it stops by itself


async def test_precondition_fails_at_or_below_45_percent_as_the_car_does(sim):
    sim.zoe.battery_level = 45.0
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        with pytest.raises(CommandFailed) as caught:
            await car.command("precondition")
        assert caught.value.status == "ERROR"
        assert not sim.zoe.hvac_on


async def test_an_old_record_is_not_taken_for_the_outcome(sim):
    sim.world.set_script("precondition", outcome="never")
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        with pytest.raises(CommandTimedOut) as caught:
            await car.command("precondition", deadline=120)
        assert caught.value.status == "REQUESTED"
        # Status reads stayed within the deadline's growing schedule (10, 10, 15, 20, 30, 35 s).
        assert sim.routes().count("precondition-last") <= 7


async def test_charge_now_succeeds_when_the_battery_reports_charging_and_the_level_rises(sim):
    sim.world.set_script("charge-now", latency=15.0)
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        result = await car.command("charge-now")
        assert result.status == "CHARGING"
        battery = car.value("battery")
        assert battery.charging and battery.remaining_time is not None
        await asyncio.sleep(HOUR)
        later = await car.refresh("battery")
        # 11 kW into 41 kWh: about 27 points an hour.
        assert 85 <= later.charge_level <= 92
        assert later.remaining_range > battery.remaining_range
        history = await car.refresh("charge-history")
        assert history[0].type.value == "START_NOTIFICATION" and isinstance(history[0], ChargeEvent)
        await asyncio.sleep(HOUR)
        done = await car.refresh("battery")
        assert done.charge_level == 100 and not done.charging
        assert (await car.refresh("charge-history"))[0].type.value == "END_NOTIFICATION"
        assert any(m.subject == "Charge ended" and m.channel == "SMS" for m in sim.world.messages())


async def test_charge_now_fails_when_the_car_is_unplugged(sim):
    sim.zoe.plugged = False
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        with pytest.raises(CommandFailed) as caught:
            await car.command("charge-now")
        assert caught.value.status == "NOT_PLUGGED"
        await asyncio.sleep(60)
        assert any(m.subject == "Charge problem" for m in sim.world.messages())


async def test_charge_now_fails_when_the_battery_is_full(sim):
    sim.zoe.battery_level = 100.0
    async with sim.connect_ze() as account:
        with pytest.raises(CommandFailed) as caught:
            await (await account.vehicle(ZOE)).command("charge-now")
        assert caught.value.status == "FULL"


async def test_charge_now_times_out_when_the_car_never_answers(sim):
    sim.world.set_script("charge-now", outcome="never")
    async with sim.connect_ze() as account:
        with pytest.raises(CommandTimedOut):
            await (await account.vehicle(ZOE)).command("charge-now")
        assert sim.max_in_window(HOUR) <= 60


async def test_precondition_at_runs_once_at_that_local_time(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        now = dt.datetime.fromtimestamp(sim.world.clock.wall(), dt.UTC)
        start = (now + dt.timedelta(hours=2)).astimezone(dt.UTC)  # Europe/London is UTC in November
        result = await car.command("precondition-at", start=start.strftime("%H:%M"))
        assert result.status == "ACCEPTED" and result.polls == 0
        assert sim.zoe.extra["precondition_at"] == start.strftime("%H%M")
        await asyncio.sleep(2.5 * HOUR)
        record = await car.refresh("precondition-last")
        assert record.result is PreconditionResult.SUCCESS and record.type.value == "CAR_NOTIFICATION"
        assert abs(record.date - start.replace(second=0, microsecond=0)) < dt.timedelta(minutes=1)


async def test_changing_one_notification_setting_reads_the_rest_first(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        await car.command("set-notification-settings", charge_start="sms", do_not_disturb="22:00-07:00")
        assert sim.routes() == ["login", "notification-settings", "set-notification-settings",
                                "notification-settings"]
        settings = car.value("notification-settings")
        assert settings.charge_start.value == "SMS"
        assert settings.charge_end.value == "SMS"  # unchanged
        assert settings.do_not_disturb == QuietHours(dt.time(22, 0), dt.time(7, 0))
        assert sim.zoe.extra["notifications"]["do_not_disturb"] == {"start": "2200", "end": "0700"}


async def test_setting_every_notification_needs_no_read(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        everything = dict.fromkeys(("battery_status", "charge_start", "charge_end", "charge_problem",
                                    "low_battery", "low_battery_reminder"), "NONE")
        await car.command("set-notification-settings", **everything, do_not_disturb=None)
        assert sim.routes() == ["login", "set-notification-settings", "notification-settings"]
        assert car.value("notification-settings").do_not_disturb is None


async def test_charge_schedule_create_view_deploy_deactivate(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        week = {**WEEK, "tue": "02:00/0:15", "wed": {"start": "0300", "duration": "0015"}}
        await car.command("set-charge-schedule", schedule=week)
        schedule = car.value("charge-schedule")
        assert not schedule.enabled  # written, not yet deployed
        assert schedule.days["mon"] == DaySlot(dt.time(1, 0), dt.timedelta(hours=1, minutes=15))
        assert schedule.days["tue"] == DaySlot(dt.time(2, 0), dt.timedelta(minutes=15))
        await car.command("deploy-charge-schedule")
        assert car.value("charge-schedule").enabled
        await car.command("deactivate-charge-schedule")
        assert not car.value("charge-schedule").enabled
        await car.command("set-charge-schedule", schedule=WEEK, deploy=True)
        assert car.value("charge-schedule").enabled
        assert sim.routes()[-3:] == ["set-charge-schedule", "deploy-charge-schedule", "charge-schedule"]


async def test_a_deployed_schedule_starts_and_stops_charging_at_its_slot(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        now = dt.datetime.fromtimestamp(sim.world.clock.wall(), dt.UTC)
        start = (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        slot = {"start": start.strftime("%H%M"), "duration": "0030"}
        await car.command("set-charge-schedule", schedule=dict.fromkeys(WEEK, slot), deploy=True)
        await asyncio.sleep(start.timestamp() - sim.world.clock.wall() + 60)
        assert (await car.refresh("battery")).charging
        await asyncio.sleep(1800)
        battery = await car.refresh("battery")
        assert not battery.charging and 74 <= battery.charge_level <= 76  # 30 min at 11 kW into 41 kWh


BAD_INPUT = [
    ("precondition-at", {"start": "25:00"}),
    ("precondition-at", {"start": "17:5"}),
    ("precondition-at", {}),
    ("precondition", {"now": True}),
    ("charge-now", {"force": True}),
    ("set-charge-schedule", {"schedule": {**WEEK, "mon": {"start": "0107", "duration": "0100"}}}),
    ("set-charge-schedule", {"schedule": {**WEEK, "mon": {"start": "0100", "duration": "0020"}}}),
    ("set-charge-schedule", {"schedule": {**WEEK, "mon": {"start": "0100", "duration": "0000"}}}),
    ("set-charge-schedule", {"schedule": {k: v for k, v in WEEK.items() if k != "sun"}}),
    ("set-charge-schedule", {"schedule": {**WEEK, "funday": "0100/0100"}}),
    ("set-charge-schedule", {"schedule": WEEK, "deploy": "perhaps"}),
    ("set-notification-settings", {"charge_start": "PIGEON"}),
    ("set-notification-settings", {"do_not_disturb": "22:00"}),
    ("set-notification-settings", {"colour": "red"}),
    ("set-notification-settings", {}),
]


@pytest.mark.parametrize(("name", "params"), BAD_INPUT)
async def test_bad_command_input_is_refused_before_any_request(sim, name, params):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        sent = len(sim.log)
        with pytest.raises(InvalidInputError):
            await car.command(name, **params)
        assert len(sim.log) == sent


@pytest.mark.parametrize(
    "params",
    [{"begin": "1316"}, {"begin": "116"}, {"begin": "1016", "end": "0916"}, {"begin": "2016-13"}, {"since": "1016"}],
)
async def test_bad_month_ranges_are_refused_before_any_request(sim, params):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        sent = len(sim.log)
        with pytest.raises(InvalidInputError):
            await car.refresh("charge-history", **params)
        assert len(sim.log) == sent


async def test_a_missing_scope_hides_the_command_and_the_endpoint(sim):
    sim.zoe.capabilities["scopes"] = ["BATTERY_CHARGE_STATUS"]
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        assert "precondition" not in car.commands and "charge-now" not in car.commands
        with pytest.raises(CommandNotSupported):
            await car.command("precondition")
        assert car.endpoints["precondition-last"].supported is False
        await account.start()
        await asyncio.sleep(HOUR)
        assert set(sim.routes()) == {"login", "battery"}


async def test_an_endpoint_the_server_forbids_leaves_the_polling_plan(sim):
    sim.fault("renault-ze.notification-settings", status=403, body={"code": "FORBIDDEN", "message": "no"})
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        with pytest.raises(NotSupportedError):
            await car.refresh("notification-settings")
        assert car.endpoints["notification-settings"].supported is False


# -- the budget, from the server's side -----------------------------------------------------------------


async def test_a_polled_day_with_commands_never_exceeds_60_requests_in_any_hour(sim):
    sim.world.set_script("charge-now", latency=40.0)
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        await account.start()
        for _ in range(6):
            await asyncio.sleep(3 * HOUR)
            await car.command("precondition")
            sim.zoe.battery_level = 60.0
            await car.command("charge-now")
            await car.refresh("charge-history")
        await asyncio.sleep(3 * HOUR)
    assert sim.max_in_window(HOUR) <= 60
    assert not [e for e in sim.log if e.fault == "quota"]
    # And the budget is used, not wasted: background polling fills what commands leave.
    assert len(sim.log) >= 21 * 54


async def test_the_servers_quota_answer_pauses_the_account(sim):
    sim.quotas["renault-ze"] = SlidingQuota(limit=10)
    async with sim.connect_ze() as account:
        await account.start()
        await asyncio.sleep(2 * HOUR)
        refused = [i for i, e in enumerate(sim.log) if e.fault == "quota"]
        # Polling wants 54 an hour; the server allows 10: it refuses once, and the account then waits
        # exactly as long as Retry-After says, so its next request is accepted, every time.
        assert 1 <= len(refused) <= 3
        assert all(sim.log[i + 1].status == 200 for i in refused if i + 1 < len(sim.log))
        assert sim.max_in_window(HOUR) <= 11
        car = await account.vehicle(ZOE)
        sim.quotas["renault-ze"] = SlidingQuota(limit=0)
        with pytest.raises(QuotaExceeded) as caught:
            await car.refresh("battery")
        assert caught.value.retry_after is not None and caught.value.retry_after > 0


# -- faults ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "html", "status": 502, "times": 3}, ServerError),
        ({"kind": "status", "status": 503, "times": 3}, ServerError),
        ({"kind": "malformed"}, ResponseError),
        ({"kind": "truncated"}, ResponseError),
        ({"kind": "status", "status": 200, "body": {"charging": "yes"}}, ResponseError),
        ({"kind": "drop", "times": 3}, ConnectionFailed),
    ],
)
async def test_every_server_failure_is_a_typed_error(sim, fault, error):
    async with sim.connect_ze(budget=evclient.Budget(retries=2)) as account:
        car = await account.vehicle(ZOE)
        sim.fault("renault-ze.battery", **fault)
        with pytest.raises(error):
            await car.refresh("battery")
        # A temporary failure is retried twice (each retry counted); a wrong answer is not retried.
        expected = 3 if issubclass(error, ServerError | ConnectionFailed) else 1
        assert sim.routes().count("battery") == expected
        assert (await car.refresh("battery")).charge_level == 62  # and the next read works


async def test_a_slow_server_is_a_timeout_not_a_hang(sim):
    async with sim.connect_ze(timeouts=evclient.Timeouts(connect=5, total=10),
                              budget=evclient.Budget(retries=0)) as account:
        car = await account.vehicle(ZOE)
        sim.fault("renault-ze.battery", "delay", delay=60.0)
        with pytest.raises(ConnectionFailed):
            await car.refresh("battery")


async def test_a_command_survives_a_failing_status_read(sim):
    sim.world.set_script("precondition", latency=5.0)
    async with sim.connect_ze(budget=evclient.Budget(retries=0)) as account:
        car = await account.vehicle(ZOE)
        sim.fault("renault-ze.precondition-last", "html", status=504)
        result = await car.command("precondition")
        assert result.status == "SUCCESS" and result.polls == 2


# -- secrets ----------------------------------------------------------------------------------------------


async def test_no_secret_reaches_logs_reprs_or_errors(sim, caplog):
    caplog.set_level(logging.DEBUG)
    sim.brands["renault-ze"].token_lifetime = 1800.0
    account = await sim.connect_ze()
    try:
        car = await account.vehicle(ZOE)
        await asyncio.sleep(HOUR)
        await car.refresh("battery")
        sim.fault("renault-ze.battery", "status", status=500, times=5)
        with pytest.raises(ServerError) as caught:
            await car.refresh("battery")
        tokens = account.tokens
        secrets = ["demo-password", tokens["token"], tokens["refresh_token"]]
        shown = [caplog.text, repr(account), repr(car), repr(account.auth.__dict__), str(caught.value),
                 repr(caught.value), repr(account.session.__dict__)]
        for text in shown:
            for secret in secrets:
                assert secret not in text
        assert ZOE not in caplog.text
    finally:
        await account.close()
    with pytest.raises(InvalidCredentialsError) as refused:
        await sim.connect_ze(password="hunter2-wrong")
    assert "hunter2-wrong" not in str(refused.value) and "hunter2-wrong" not in caplog.text
