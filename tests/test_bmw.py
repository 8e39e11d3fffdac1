"""The BMW ConnectedDrive brand and its executeService flow, against the simulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import math
import statistics

import pytest

import evclient
from evclient import (
    CommandFailed,
    CommandNotSupported,
    CommandTimedOut,
    InvalidCredentialsError,
    InvalidInputError,
)
from evclient.brands.bmw.models import (
    AllTrips,
    ChargingMode,
    ChargingProfile,
    Destination,
    LastTrip,
    LockState,
    RangeMap,
    StatusReport,
    UpdateReason,
)
from evclient.simulator.brands.bmw import reached_at

REX = "WBY1Z21080V300001"  # UK: no horn, no charge-now
BEV = "WBY1Z61020V300002"  # DE: every service
HOUR = 3600.0
CREDENTIALS = {"username": "demo@evclient.dev", "password": "demo-password", "app_key": "demo-key",
               "app_secret": "demo-secret"}


def connect(sim, **kwargs):
    return evclient.connect("bmw", servers=sim.servers("bmw"), **{**CREDENTIALS, **kwargs})


def routes(sim):
    return [e.route.split(".", 1)[1] for e in sim.requests(brand="bmw")]


async def test_login_listing_and_every_endpoint(sim):
    async with connect(sim) as account:
        cars = {c.vin: c for c in await account.vehicles()}
        assert routes(sim) == ["login", "vehicles"]
        assert set(cars) == {REX, BEV}
        rex, bev = cars[REX], cars[BEV]
        assert rex.model == "I3 +REX"
        assert "horn-blow" not in rex.commands and "charge-now" not in rex.commands
        assert {"horn-blow", "charge-now", "door-unlock", "send-poi"} <= set(bev.commands)
        status = await rex.refresh("status")
        assert isinstance(status, StatusReport)
        assert status.door_lock_state is LockState.SECURED and status.charging_level_hv == 58
        assert status.remaining_fuel_l == 8.9 and status.remaining_range_electric_km == 78
        assert status.position is not None and status.position.heading == 211
        assert status.all_closed
        assert (await bev.refresh("status")).remaining_fuel_l is None  # no range extender
        assert isinstance(await rex.refresh("charging-profile"), ChargingProfile)
        trip = await rex.refresh("last-trip")
        assert isinstance(trip, LastTrip) and trip.duration == dt.timedelta(minutes=124)
        assert isinstance(await rex.refresh("all-trips"), AllTrips)
        [place] = await rex.refresh("destinations")
        assert isinstance(place, Destination) and place.city == "LONDON"
        rangemap = await rex.refresh("range-map")
        assert isinstance(rangemap, RangeMap) and set(rangemap.polygons) == {"ECO_PRO_PLUS", "COMFORT"}
        assert all(e.status == 200 for e in sim.requests(brand="bmw"))


async def test_the_token_is_renewed_by_logging_in_again_before_it_expires(sim):
    sim.brands["bmw"].token_lifetime = 1800.0
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        await asyncio.sleep(HOUR)
        await car.refresh("status")
        assert routes(sim) == ["login", "vehicles", "login", "status"]
        assert all(e.status == 200 for e in sim.requests(brand="bmw"))


async def test_a_refused_token_costs_one_401_and_one_login(sim):
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        sim.fault("bmw.status", "revoke")
        await car.refresh("status")
        assert routes(sim)[2:] == ["status", "login", "status"]


async def test_a_wrong_app_secret_is_refused_once(sim):
    with pytest.raises(InvalidCredentialsError):
        await connect(sim, app_secret="not-the-secret")
    assert routes(sim) == ["login"]


def test_regions_choose_the_server_and_bad_settings_are_refused():
    bmw = evclient.brands.get("bmw")
    assert bmw.open_session(region="usa", **CREDENTIALS).servers() == {"api": "https://b2vapi.bmwgroup.us"}
    assert bmw.open_session(region="china").servers()["api"].endswith(":8592")
    assert bmw.open_session().servers()["api"] == "https://b2vapi.bmwgroup.com"  # the declared default
    with pytest.raises(InvalidInputError, match="region must be one of rest_of_world, usa, china, got 'mars'"):
        bmw.open_session(region="mars")
    with pytest.raises(InvalidInputError, match="bmw does not take pin"):
        bmw.open_session(pin="1234")
    with pytest.raises(InvalidInputError, match="app_key must be a non-empty string"):
        bmw.open_session(app_key="")


# -- the executeService flow ----------------------------------------------------------------------------


async def test_door_lock_walks_every_status_and_refreshes_the_status(sim):
    sim.world.set_script("door-lock", latency=60.0, execution=20.0)  # DELIVERED from 40 s
    sim.world.cars[BEV].locked = False
    sim.world.cars[BEV].extra["lock_state"] = "UNLOCKED"
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        seen = []
        result = await car.command("door-lock", progress=lambda change: seen.append(change.status))
        assert seen == ["INITIATED", "PENDING", "DELIVERED", "EXECUTED"]
        assert result.status == "EXECUTED" and result.event_id and result.event_id.endswith("@bmw.de")
        status = car.value("status")
        assert status.door_lock_state is LockState.LOCKED
        assert status.update_reason is UpdateReason.VEHICLE_SECURED
        # A new car is expected to answer in about 20 s: reads at 16.8 and 31.7 s (PENDING), 48.3 s
        # (DELIVERED: the answer is near), 52.3, 56.3 and 62.3 s (EXECUTED), then the refresh.
        assert result.polls == 6
        assert routes(sim)[2:] == ["executeService"] + ["serviceExecutionStatus"] * 6 + ["status"]


@pytest.mark.parametrize(
    ("outcome", "latency", "error", "status"),
    [("fail", 30.0, CommandFailed, "NOT_EXECUTED"), ("never", 0.0, CommandTimedOut, "TIMED_OUT"),
     ("success", 150.0, CommandTimedOut, "TIMED_OUT")],
)
async def test_terminal_failures(sim, outcome, latency, error, status):
    sim.world.set_script("climate-now", latency=latency, outcome=outcome)
    async with connect(sim) as account:
        with pytest.raises(error) as caught:
            await (await account.vehicle(BEV)).command("climate-now")
        assert caught.value.status == status
        assert not sim.world.cars[BEV].hvac_on


async def test_the_local_deadline_ends_a_command_the_server_still_waits_for(sim):
    sim.world.set_script("light-flash", latency=100.0)
    async with connect(sim) as account:
        with pytest.raises(CommandTimedOut) as caught:
            await (await account.vehicle(BEV)).command("light-flash", count=3, deadline=45)
        assert caught.value.status in {"PENDING", "DELIVERED"}
    assert sim.requests(route="bmw.executeService")[0].status == 200


async def test_two_commands_of_one_type_never_overlap_but_other_types_do(sim):
    sim.world.set_script("light-flash", latency=30.0)
    sim.world.set_script("vehicle-finder", latency=30.0)
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        loop = asyncio.get_running_loop()
        started = loop.time()
        results = await asyncio.gather(car.command("light-flash"), car.command("light-flash"),
                                       car.command("vehicle-finder"))
        assert [r.status for r in results] == ["EXECUTED"] * 3
        assert sim.brands["bmw"].overlaps == 0
        submits = [e.t for e in sim.requests(route="bmw.executeService")]
        assert submits[1] - submits[0] < 1  # the vehicle finder did not wait for the flashes
        assert submits[2] - submits[0] >= 30  # the second flash waited for the first to finish
        assert loop.time() - started < 120


async def test_unlock_needs_the_security_answer_before_any_request(sim):
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        sent = len(sim.log)
        with pytest.raises(InvalidInputError, match="security"):
            await car.command("door-unlock")
        assert len(sim.log) == sent
        with pytest.raises(CommandFailed) as caught:
            await car.command("door-unlock", security_answer="wrong")
        assert caught.value.status == "SECRET_KNOWLEDGE"
        assert sim.requests(route="bmw.executeService")[-1].status == 500


async def test_unlock_with_the_answer_from_connect_and_no_secret_in_the_logs(sim, caplog):
    caplog.set_level(logging.DEBUG)
    sim.world.set_script("door-unlock", latency=5.0)
    async with connect(sim, security_answer="demo-answer") as account:
        car = await account.vehicle(BEV)
        result = await car.command("door-unlock")
        assert result.status == "EXECUTED"
        assert car.value("status").door_lock_state is LockState.UNLOCKED
        for secret in ("demo-answer", "demo-secret", "demo-password", account.tokens["access_token"]):
            assert secret not in caplog.text
            assert secret not in repr(account.session.__dict__) and secret not in repr(result)


async def test_a_service_the_car_lacks_is_refused_before_any_request(sim):
    async with connect(sim) as account:
        car = await account.vehicle(REX)
        sent = len(sim.log)
        for name in ("horn-blow", "charge-now"):
            with pytest.raises(CommandNotSupported):
                await car.command(name)
        assert len(sim.log) == sent


async def test_charge_now_starts_charging_and_the_car_reports_it(sim):
    sim.world.set_script("charge-now", latency=20.0)
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        await car.command("charge-now")
        status = car.value("status")
        assert status.charging_status.value == "CHARGING"
        assert status.update_reason is UpdateReason.CHARGIN_STARTED  # the server's spelling, kept
        assert status.charging_time_remaining is not None


async def test_charging_control_changes_part_of_the_planner(sim):
    sim.world.set_script("charging-control", latency=10.0)
    async with connect(sim) as account:
        car = await account.vehicle(REX)
        await car.command("charging-control", charging_mode="immediate", charging_window="01:00-05:30",
                          timer2={"departure_time": "06:45", "enabled": True, "weekdays": ["sat", "SUNDAY"]})
        assert routes(sim)[2:4] == ["charging-profile", "executeService"]  # read, then changed and sent whole
        profile = car.value("charging-profile")
        assert profile.charging_mode is ChargingMode.IMMEDIATE_CHARGING
        assert profile.preferred_charging_window.start == dt.time(1, 0)
        assert profile.timer2.departure_time == dt.time(6, 45) and profile.timer2.enabled
        assert [d.value for d in profile.timer2.weekdays] == ["SATURDAY", "SUNDAY"]
        assert profile.timer1.departure_time == dt.time(7, 30)  # untouched
        await car.command("charging-control", profile=profile)  # a whole profile needs no read


BAD = [
    ("light-flash", {"count": 0}), ("light-flash", {"count": "lots"}), ("light-flash", {"colour": "red"}),
    ("charging-control", {}), ("charging-control", {"charging_mode": "FAST"}),
    ("charging-control", {"timer1": {"departure_time": "25:00"}}),
    ("charging-control", {"timer1": {"weekdays": ["FUNDAY"]}}),
    ("charging-control", {"charging_window": "late"}),
    ("send-poi", {"lat": 91, "lon": 0}), ("send-poi", {"lat": "north", "lon": 0}), ("send-poi", {"lat": 1}),
    ("door-lock", {"now": True}),
]


@pytest.mark.parametrize(("name", "params"), BAD)
async def test_bad_input_is_refused_before_any_request(sim, name, params):
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        sent = len(sim.log)
        with pytest.raises(InvalidInputError):
            await car.command(name, **params)
        assert len(sim.log) == sent


async def test_send_poi_reaches_the_car(sim):
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        result = await car.command("send-poi", lat=48.1374, lon=11.5755, name="Marienplatz", city="München")
        assert result.status == "ACCEPTED" and result.polls == 0
        assert sim.requests(route="bmw.sendpoi")[0].status == 204
        [place] = await car.refresh("destinations")
        assert place.city == "München" and place.lat == pytest.approx(48.1374)


async def test_a_garbled_status_answer_is_read_again_and_the_outcome_is_not_lost(sim):
    sim.world.set_script("door-lock", latency=30.0)
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        sim.fault("bmw.serviceExecutionStatus", "status", status=200, body={"executionStatus": {"serviceType": "X"}})
        result = await car.command("door-lock")
        assert result.status == "EXECUTED"
        statuses = sim.requests(route="bmw.serviceExecutionStatus")
        assert statuses[0].fault == "status" and len(statuses) >= 2


async def test_a_day_of_polling_and_commands_keeps_the_budget(sim):
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        await account.start()
        for _ in range(8):
            await asyncio.sleep(2 * HOUR)
            for name in ("door-lock", "climate-now"):
                # The default latency model fails a few, as real cars do.
                with contextlib.suppress(CommandFailed, CommandTimedOut):
                    await car.command(name)
    assert sim.max_in_window(HOUR, brand="bmw") <= 60
    assert not [e for e in sim.log if e.fault == "quota"]
    assert sim.brands["bmw"].overlaps == 0
    terminal = reached_at(sim.world.cars[BEV], "DOOR_LOCK")
    assert terminal is not None


# -- status reads that learn --------------------------------------------------------------------------------


def first_reads(sim, since=0):
    """Seconds from each executeService to the status read that followed it, in order."""
    entries = [e for e in sim.requests(brand="bmw") if e.route.endswith(("executeService", "serviceExecutionStatus"))]
    firsts = []
    for submitted, nxt in itertools.pairwise(entries[since:]):
        if submitted.route.endswith("executeService") and nxt.route.endswith("serviceExecutionStatus"):
            firsts.append(round(nxt.t - submitted.t, 1))
    return firsts


async def test_status_reads_learn_the_cars_latency_and_keep_it_across_a_restart(sim):
    sim.world.set_script("light-flash", latency=7.0, execution=3.0)
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        results = [await car.command("light-flash", count=1) for _ in range(10)]
        history = account.command_history()
    firsts = first_reads(sim)
    assert firsts[0] == pytest.approx(16.8, abs=0.2)  # a new car: about when a typical car answers
    assert firsts[-1] < 11  # this one answers in 7 s
    assert all(r.polls <= 2 for r in results[4:])
    assert [t["outcome"] for t in history[BEV]] == ["success"] * 10
    # Another process (the CLI, a restart) resumes with what was learnt, not from scratch.
    async with connect(sim, command_history=history) as account:
        await (await account.vehicle(BEV)).command("light-flash", count=1)
        assert len(account.command_history()[BEV]) == 11
    assert first_reads(sim)[-1] <= firsts[-1] + 0.5
    with pytest.raises(InvalidInputError):
        await connect(sim, command_history={BEV: [{"name": "x"}]})


async def test_a_failed_status_read_is_asked_again_a_few_seconds_later(sim):
    sim.world.set_script("horn-blow", latency=40.0)
    sim.fault("bmw.serviceExecutionStatus", status=503, times=3)  # the read and both of its quick retries
    async with connect(sim) as account:
        result = await (await account.vehicle(BEV)).command("horn-blow")
    assert result.status == "EXECUTED"
    reads = sim.requests(route="bmw.serviceExecutionStatus")
    assert [r.status for r in reads[:4]] == [503, 503, 503, 200]
    assert reads[3].t - reads[2].t == pytest.approx(evclient.command.RETRY_GAP, abs=0.2)


def test_the_simulated_latency_is_a_cars_own_around_a_fleet_median_of_20_s():
    from evclient.simulator import Simulator
    from evclient.simulator.world import Car

    bmw = Simulator().brands["bmw"]
    cars = [Car(brand="bmw", vin=f"WBY1Z61020V3{n:05d}", owner="x") for n in range(300)]
    fleet = [bmw._draw(car, None) for car in cars]
    latencies = sorted(latency for latency, _, _ in fleet)
    assert 16 < latencies[150] < 24 and 3 * latencies[150] < latencies[-1] <= 180
    assert all(2 <= execution <= 8 for _, execution, _ in fleet)
    outcomes = [outcome for _, _, outcome in fleet]
    assert outcomes.count("success") > 240 and outcomes.count("fail") > 5 and outcomes.count("timeout") > 3
    # One car's commands stay near its own median: far less spread than the fleet's.
    one = [math.log(bmw._draw(cars[0], None)[0]) for _ in range(200)]
    every = [math.log(latency) for latency in latencies]
    assert 0.4 < statistics.stdev(every) < 0.7
    assert statistics.stdev(one) < 0.7 * statistics.stdev(every)
    assert bmw.car_latency(cars[0]) == bmw.car_latency(Car(brand="bmw", vin=cars[0].vin, owner="y"))
