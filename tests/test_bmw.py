"""The BMW ConnectedDrive brand and its executeService flow, against the simulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

import pytest

import evclient
from evclient import (
    CommandFailed,
    CommandNotSupported,
    CommandTimedOut,
    InvalidCredentialsError,
    InvalidInputError,
    ResponseError,
)
from evclient.brands.bmw.models import (
    AllTrips,
    ChargingMode,
    ChargingProfile,
    Destination,
    LastTrip,
    LockState,
    RangeMap,
    UpdateReason,
    VehicleStatus,
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
        assert isinstance(status, VehicleStatus)
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
    usa = evclient.brands.get("bmw")(region="usa", **CREDENTIALS)
    assert usa.default_servers() == {"api": "https://b2vapi.bmwgroup.us"}
    assert evclient.brands.get("bmw")(region="china").default_servers()["api"].endswith(":8592")
    with pytest.raises(InvalidInputError):
        evclient.brands.get("bmw")(region="mars")
    with pytest.raises(InvalidInputError):
        evclient.brands.get("bmw")(pin="1234")


# -- the executeService flow ----------------------------------------------------------------------------


async def test_door_lock_walks_every_status_and_refreshes_the_status(sim):
    sim.world.set_script("door-lock", latency=60.0)
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
        # Status reads at 10, 18, 27.6, 39.1, 52.9, 67.9 s: six reads for a 60 s command, then the refresh.
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
            assert secret not in repr(account.brand.__dict__) and secret not in repr(result)


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


async def test_a_status_answer_without_execution_status_is_a_response_error(sim):
    sim.world.set_script("door-lock", latency=30.0)
    async with connect(sim) as account:
        car = await account.vehicle(BEV)
        sim.fault("bmw.serviceExecutionStatus", "status", status=200, body={"executionStatus": {"serviceType": "X"}})
        with pytest.raises(ResponseError):
            await car.command("door-lock")


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
