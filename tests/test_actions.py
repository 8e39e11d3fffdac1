"""Typed actions: every action × every brand, on a car that can and one that cannot, against the simulator, with
the car's state read back; bad values refused when the action is built or mapped, before any request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import evclient
from evclient import ChargeState, CommandNotSupported, InvalidInputError
from evclient.actions import (
    ACTIONS,
    ChargeLimits,
    ChargeMode,
    ChargeSchedules,
    ChargeStart,
    ChargingMode,
    ClimateSchedules,
    ClimateStart,
    Range,
    SendDestination,
    Slot,
    WeeklySchedule,
    action_from,
)
from evclient.simulator.world import Car
from evclient.testing.accounts import demo_login

BRANDS = ("renault-ze", "bmw", "renault", "bmw-cardata")
#: Each action as the matrix runs it.
EXAMPLES: dict[str, Any] = {
    "climate-start": ClimateStart(),
    "climate-stop": ACTIONS["climate-stop"](),
    "charge-start": ChargeStart(),
    "charge-stop": ACTIONS["charge-stop"](),
    "charge-limits": ChargeLimits(minimum=20, target=80),
    "charge-mode": ChargeMode(mode="scheduled"),
    "charge-schedules": ChargeSchedules(schedules=[{"id": 2, "activated": True,
                                                   "monday": {"startTime": "T23:30Z", "duration": 420}}]),
    "climate-schedules": ClimateSchedules(schedules=WeeklySchedule(id=3, days={"friday": Slot(dt.time(7, 15))})),
    "lock": ACTIONS["lock"](),
    "unlock": ACTIONS["unlock"](),
    "horn": ACTIONS["horn"](),
    "flash": ACTIONS["flash"](),
    "locate": ACTIONS["locate"](),
    "send-destination": SendDestination(latitude=48.8566, longitude=2.3522, title="Hôtel de Ville"),
}


async def read_back(car: evclient.Vehicle) -> evclient.VehicleStatus:
    """Every endpoint the car's status is built from, read now."""
    for name, endpoint in car.endpoints.items():
        if endpoint.spec.poll and endpoint.supported is not False and not endpoint.spec.needs_parameters(
                car.info.context):
            try:
                await car.refresh(name)
            except evclient.NotSupportedError:
                continue
    return car.status


def check(name: str, car: evclient.Vehicle, status: evclient.VehicleStatus) -> None:
    """What the car's state must say after ``name`` ran (the brand's answer, read back)."""
    if name == "climate-start":
        assert status.climate_on is not False
    elif name == "climate-stop":
        assert status.climate_on is False
    elif name == "charge-start":
        assert status.charge_state is ChargeState.CHARGING
    elif name == "charge-stop":
        assert status.charge_state is not ChargeState.CHARGING
    elif name == "lock":
        assert status.locked is True
    elif name == "unlock":
        assert status.locked is False
    elif name == "charge-limits":
        assert (status.charge_limit_min_percent, status.charge_target_percent) == (20, 80)
    elif name == "locate":
        assert status.position is not None
    elif name == "charge-mode":
        assert status.charging_mode is ChargingMode.SCHEDULED
    elif name == "charge-schedules":
        second = next(s for s in status.charge_schedules or () if s.id == 2)
        assert second.activated and second.days["monday"] == Slot(dt.time(23, 30), 420)
    elif name == "climate-schedules":
        third = next(s for s in status.climate_schedules or () if s.id == 3)
        assert third.days["friday"] == Slot(dt.time(7, 15))


@pytest.mark.parametrize("brand", BRANDS)
@pytest.mark.parametrize("name", list(ACTIONS))
async def test_every_action_on_a_car_that_can_and_one_that_cannot(sim, brand, name):
    declared = evclient.brands.get(brand)
    if brand == "renault":  # a Zoe phase 1: the one model that switches its charge mode
        sim.world.add_car(Car(brand="renault", vin="VF1AG000X69000006", owner="demo@evclient.dev", model="X101VE",
                              name="Zoe", plugged=True, battery_level=40.0,
                              extra={"reports_watts": True, "charge_mode": "always"}))
    for car in sim.world.cars.values():
        car.plugged = True  # charging needs a cable, whatever the brand
    account = await demo_login(sim, brand)
    try:
        cars = await account.vehicles()
        able = [car for car in cars if car.can(name)]
        unable = [car for car in cars if not car.can(name)]
        action = EXAMPLES[name]
        if name in declared.actions:
            assert able, f"{brand} maps {name} but no car of the world can: the mapping goes untested"
        for car in unable[:1]:
            sent = len(sim.log)
            with pytest.raises(CommandNotSupported):
                await car.act(action)
            assert len(sim.log) == sent  # refused before any request
            assert name not in car.actions
        for car in able[:1]:
            assert name in car.actions
            if name == "charge-stop":
                await car.act(ChargeStart())  # something to stop
            if name == "climate-stop":
                await car.act(ClimateStart())
            if name == "unlock" and car.can("lock"):
                await car.act(ACTIONS["lock"]())
            result = await car.act(action)
            assert isinstance(result, evclient.CommandResult)
            await read_back(car)
            check(name, car, await car.read_status("charge_schedules", "climate_schedules"))
    finally:
        await account.close()


def test_values_no_car_could_take_are_refused_when_the_action_is_built():
    refused: list[tuple[Any, ...]] = [
        (SendDestination, {"latitude": 91.0, "longitude": 0.0}, "latitude must be -90 to 90"),
        (SendDestination, {"latitude": 0.0, "longitude": float("nan")}, "longitude must be a number"),
        (SendDestination, {"latitude": 0.0, "longitude": 0.0, "title": ""}, "title must be text"),
        (ClimateStart, {"temperature": "hot"}, "temperature must be a number"),
        (ClimateStart, {"temperature": 60}, "temperature must be 10 to 35"),
        (ClimateStart, {"at": dt.datetime(2026, 12, 5, 7, 30)}, "time zone"),
        (ClimateStart, {"at": "tomorrow"}, "ISO 8601"),
        (ChargeLimits, {}, "minimum, target or both"),
        (ChargeLimits, {"minimum": 80, "target": 50}, "must be below the target"),
        (ChargeMode, {"mode": "sometimes"}, "mode must be one of always, scheduled"),
        (ACTIONS["unlock"], {"code": 1234}, "code must be text"),
        (ChargeSchedules, {"schedules": []}, "a schedule"),
        (ChargeSchedules, {"schedules": [{"id": 0}]}, "id must be a whole number from 1"),
        (ChargeSchedules, {"schedules": [{"id": 1}, {"id": 1}]}, "given twice"),
        (ChargeSchedules, {"schedules": {"id": 1, "mondy": None}}, "unknown keys mondy"),
        (ChargeSchedules, {"schedules": {"id": 1, "monday": {"startTime": "T23:20Z", "duration": 60}}},
         "quarter hour"),
        (ChargeSchedules, {"schedules": {"id": 1, "monday": {"startTime": "23:30", "duration": 5}}},
         "15 to 1440"),
        (ChargeSchedules, {"schedules": {"id": 1, "monday": {"readyAtTime": "T07:00Z"}}}, "takes exactly"),
        (ClimateSchedules, {"schedules": WeeklySchedule(id=1, days={"monday": Slot(dt.time(7), 30)})},
         "ready-at time, without minutes"),
    ]
    for cls, values, message in refused:
        with pytest.raises(InvalidInputError, match=message):
            cls(**values)
    assert isinstance(InvalidInputError("x"), ValueError)
    assert "an-answer" not in repr(ACTIONS["unlock"](code="an-answer"))  # a security answer is a secret


def test_actions_from_text_as_a_command_line_gives_them():
    assert action_from("climate-start", {"temperature": "21.5", "at": "2026-12-05T07:30:00Z"}) == ClimateStart(
        temperature=21.5, at=dt.datetime(2026, 12, 5, 7, 30, tzinfo=dt.UTC))
    assert action_from("charge-limits", {"minimum": "20", "target": "80"}) == ChargeLimits(minimum=20, target=80)
    with pytest.raises(InvalidInputError, match="no action 'fly'"):
        action_from("fly", {})
    with pytest.raises(InvalidInputError, match=r"lock does not take count \(it takes nothing\)"):
        action_from("lock", {"count": "2"})
    with pytest.raises(InvalidInputError, match="send-destination"):
        action_from("send-destination", {"latitude": "1"})


async def test_a_value_this_brand_cannot_take_is_refused_when_mapped_before_any_request(sim):
    async with evclient.connect("renault-ze", servers=sim.servers("renault-ze"), username="demo@evclient.dev",
                                password="demo-password") as ze:
        zoe = (await ze.vehicles())[0]
        sent = len(sim.log)
        with pytest.raises(InvalidInputError, match="own set point"):
            await zoe.act(ClimateStart(temperature=21))
        assert len(sim.log) == sent
        later = dt.datetime(2026, 12, 5, 7, 30, tzinfo=dt.UTC)
        result = await zoe.act(ClimateStart(at=later))  # a later start: the brand's other command
        assert result.name == "precondition-at"
    bmw = await demo_login(sim, "bmw")
    try:
        car = next(c for c in await bmw.vehicles() if c.can("climate-start"))
        sent = len(sim.log)
        with pytest.raises(InvalidInputError, match="takes no temperature"):
            await car.act(ClimateStart(temperature=21))
        assert len(sim.log) == sent
    finally:
        await bmw.close()


async def test_a_brand_bounds_an_actions_numbers_and_says_so_before_any_request(sim):
    renault = await demo_login(sim, "renault")
    bmw = await demo_login(sim, "bmw")
    try:
        car = next(c for c in await renault.vehicles() if c.can(ChargeLimits))
        assert car.ranges(ChargeLimits) == {"minimum": Range(15, 45, 5), "target": Range(55, 100, 5)}
        assert car.ranges("climate-start") == {"temperature": Range(16, 30)}
        sent = len(sim.log)
        for wrong, message in (({"minimum": 10, "target": 80}, "minimum must be 15 to 45 in steps of 5"),
                               ({"minimum": 20, "target": 82}, "target must be 55 to 100 in steps of 5, got 82")):
            with pytest.raises(InvalidInputError, match=message):
                await car.act(ChargeLimits(**wrong))
        with pytest.raises(InvalidInputError, match="temperature must be 16 to 30"):
            await car.act(ClimateStart(temperature=33))
        assert len(sim.log) == sent
        other = (await bmw.vehicles())[0]
        assert other.ranges(ChargeLimits) == {}  # no such action on legacy BMW
        assert other.ranges("charge-mode") == {}  # an action without numbers
    finally:
        await renault.close()
        await bmw.close()


async def test_cardata_reports_the_charge_limits_set_in_the_car(sim):
    for car in sim.world.cars.values():
        if car.brand == "bmw-cardata":
            car.extra.update(charge_target=90, charge_min=30)
    account = await demo_login(sim, "bmw-cardata")
    try:
        car = (await account.vehicles())[0]
        status = await read_back(car)
        assert (status.charge_limit_min_percent, status.charge_target_percent) == (30, 90)
        assert not car.can(ChargeLimits)  # CarData reads; it has no command to change them
    finally:
        await account.close()


async def test_read_status_reads_what_is_not_polled_and_schedules_round_trip(sim):
    account = await demo_login(sim, "renault")
    try:
        car = next(c for c in await account.vehicles() if c.can(ChargeSchedules))
        assert car.status.charge_schedules is None  # read on demand, not polled
        status = await car.read_status("charge_schedules")
        assert status.charge_schedules, "the demo car has charge schedules"
        # The status's form is the action's: what was read, sent back unchanged, is confirmed as it is.
        result = await car.act(ChargeSchedules(schedules=status.charge_schedules))
        assert result.status == "CONFIRMED"
        assert (await car.read_status("charge_schedules")).charge_schedules == status.charge_schedules
        with pytest.raises(InvalidInputError, match="no status field charge_shedules"):
            await car.read_status("charge_shedules")
        json = status.to_json()
        assert json["charge_schedules"] == [s.to_json() for s in status.charge_schedules]
    finally:
        await account.close()
