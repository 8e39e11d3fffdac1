"""MyRenault actions against the simulator: each model's variant, confirmation by reading the changed
endpoint, the schedule merge semantics, and bad input refused before any request."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

import evclient
from evclient import CommandFailed, InvalidInputError, NotSupportedError
from evclient.simulator.world import Car

ZOE, MEGANE, SPRING, CAPTUR = "VF1AG000X64000001", "VF1RCB00X65000002", "UU1DBG00X66000003", "VF1RJB00X67000004"
R5, ZOE1, NEWCAR = "VF1R5000X68000005", "VF1AG000X69000006", "VF1XX000X60000007"
OWNER = "demo@evclient.dev"


def connect(sim, **kwargs):
    return evclient.connect("renault", servers=sim.servers("renault"), username=OWNER, password="demo-password",
                            **kwargs)


def actions(sim, vin):
    """What the simulated cloud received for a car: (action route, body)."""
    return [(a["action"], a["body"]) for a in sim.world.car(vin).extra.get("actions", [])]


def posts(sim):
    return [e for e in sim.requests(brand="renault") if e.method == "POST" and "/gigya/" not in e.path]


def add_car(sim, vin, model, **fields):
    extra = fields.pop("extra", {})
    return sim.world.add_car(Car(brand="renault", vin=vin, owner=OWNER, model=model, name=model, plugged=True,
                                 battery_level=40.0, extra=extra, **fields))


async def test_charge_start_and_stop_take_each_models_variant_and_are_confirmed(sim):
    async with connect(sim) as account:
        zoe, spring = await account.vehicle(ZOE), await account.vehicle(SPRING)
        result = await zoe.command("charge-start")
        assert result.status == "CONFIRMED" and result.polls >= 1
        assert zoe.value("battery-status").charging and sim.world.car(ZOE).charging
        result = await zoe.command("charge-stop")
        assert result.status == "CONFIRMED" and not sim.world.car(ZOE).charging
        # The Zoe phase 2 starts with kca charging-start and stops with kcm pause-resume.
        assert actions(sim, ZOE) == [
            ("charging-start", {"data": {"type": "ChargingStart", "attributes": {"action": "start"}}}),
            ("pause-resume", {"data": {"type": "ChargePauseResume", "attributes": {"action": "pause"}}}),
        ]
        sim.world.car(SPRING).plugged = True
        assert (await spring.command("charge-start")).status == "CONFIRMED"
        assert actions(sim, SPRING) == [
            ("pause-resume", {"data": {"type": "ChargePauseResume", "attributes": {"action": "resume"}}})]


async def test_a_car_that_cannot_charge_fails_clearly_and_unsupported_actions_cost_nothing(sim):
    async with connect(sim) as account:
        megane, captur = await account.vehicle(MEGANE), await account.vehicle(CAPTUR)
        with pytest.raises(CommandFailed) as failed:
            await megane.command("charge-start")  # the Mégane is not plugged in
        assert failed.value.status == "NOT_PLUGGED"
        assert actions(sim, MEGANE) == [
            ("charge-start", {"data": {"type": "ChargingStart", "attributes": {"action": "start"}}})]
        before = len(sim.log)
        with pytest.raises(NotSupportedError):
            await megane.command("charge-stop")  # the Mégane has no way to stop charging remotely
        with pytest.raises(NotSupportedError):
            await captur.command("charge-start")
        with pytest.raises(NotSupportedError):
            await captur.command("horn")
        assert len(sim.log) == before
        assert "charge-start" not in captur.commands and "hvac-start" in captur.commands


async def test_delayed_charge_start_on_kcm_cars_is_sent_in_utc(sim):
    async with connect(sim) as account:
        megane = await account.vehicle(MEGANE)
        sim.world.car(MEGANE).plugged = True
        when = dt.datetime.fromtimestamp(sim.world.clock.wall() + 7200, dt.timezone(dt.timedelta(hours=2)))
        result = await megane.command("charge-start", at=when)
        assert result.status == "ACCEPTED" and result.polls == 0
        [(_, body)] = actions(sim, MEGANE)
        sent = body["data"]["attributes"]["startDateTime"]
        assert sent.endswith("Z") and dt.datetime.fromisoformat(sent) == when.replace(microsecond=0)
        zoe = await account.vehicle(ZOE)
        before = len(sim.log)
        with pytest.raises(InvalidInputError, match="only start charging now"):
            await zoe.command("charge-start", at=when)
        assert len(sim.log) == before


async def test_the_r5_generation_charges_by_switching_its_programs_off(sim):
    program = {"programActivationStatus": True, "programType": "CHARGE", "programDepartureTime": "07:30",
               **{f"programActivation{d}": True for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                                           "Saturday", "Sunday")}}
    add_car(sim, R5, "R5E1VE", extra={"ev_settings": {
        "chargeModeRq": "SCHEDULED", "chargeTimeStart": "00:00", "chargeDuration": 300,
        "preconditioningTemperature": 20.0, "programs": [program]}})
    async with connect(sim) as account:
        r5 = await account.vehicle(R5)
        settings = await r5.refresh("ev-settings")
        assert settings.charge_mode.value == "SCHEDULED" and settings.programs[0].activated
        result = await r5.command("charge-start")
        assert result.status == "CONFIRMED" and sim.world.car(R5).charging
        [(route, body)] = actions(sim, R5)
        assert route == "ev-settings" and body["programs"][0]["programActivationStatus"] is False
        assert body["programs"][0]["programDepartureTime"] == "07:30"  # the rest of the program is kept
        assert (await r5.refresh("ev-settings")).charge_mode.value == "ALWAYS"


async def test_hvac_start_checks_the_temperature_and_start_time_before_any_request(sim):
    async with connect(sim) as account:
        zoe = await account.vehicle(ZOE)
        before = len(sim.log)
        for bad in ({"temperature": 35}, {"temperature": 15.5}, {"temperature": "warm"}, {},
                    {"temperature": 21, "at": "tomorrow"}, {"temperature": 21, "fan": 3}):
            with pytest.raises(InvalidInputError):
                await zoe.command("hvac-start", **bad)
        past = dt.datetime.fromtimestamp(sim.world.clock.wall() - 60, dt.UTC)
        with pytest.raises(InvalidInputError, match="not in the future"):
            await zoe.command("hvac-start", temperature=21, at=past)
        assert len(sim.log) == before


async def test_hvac_runs_and_stops_with_each_models_word(sim):
    async with connect(sim) as account:
        zoe, megane = await account.vehicle(ZOE), await account.vehicle(MEGANE)
        assert (await zoe.command("hvac-start", temperature=21.5)).status == "CONFIRMED"
        assert sim.world.car(ZOE).hvac_on and zoe.value("hvac-status").hvac_on
        assert (await zoe.command("hvac-stop")).status == "CONFIRMED" and not sim.world.car(ZOE).hvac_on
        await megane.command("hvac-start", temperature=19)
        assert (await megane.command("hvac-stop")).status == "CONFIRMED" and not sim.world.car(MEGANE).hvac_on
        words = [body["data"]["attributes"]["action"] for route, body in actions(sim, ZOE) + actions(sim, MEGANE)]
        assert words == ["start", "cancel", "start", "stop"]  # the Mégane ignores "cancel"
        assert actions(sim, ZOE)[0][1]["data"]["attributes"]["targetTemperature"] == 21.5


async def test_a_delayed_hvac_start_shows_as_the_next_start_and_then_runs(sim):
    async with connect(sim) as account:
        zoe = await account.vehicle(ZOE)
        when = dt.datetime.fromtimestamp(sim.world.clock.wall() + 600, dt.UTC).replace(second=0, microsecond=0)
        assert (await zoe.command("hvac-start", temperature=20, at=when)).status == "ACCEPTED"
        status = await zoe.refresh("hvac-status")
        assert status.next_hvac_start == when and status.hvac_on is False
        await asyncio.sleep(620)
        status = await zoe.refresh("hvac-status")
        assert status.hvac_on is True and status.next_hvac_start is None


async def test_charge_schedules_merge_by_id_exactly_as_home_assistant_does(sim):
    async with connect(sim) as account:
        zoe = await account.vehicle(ZOE)
        result = await zoe.command("set-charge-schedules", schedules=[
            {"id": 1, "monday": None, "tuesday": {"startTime": "T01:00Z", "duration": 120}},
            {"id": 2, "activated": True, "sunday": {"startTime": "T22:45Z", "duration": 480}},
        ])
        assert result.status == "CONFIRMED"
        [(route, body)] = actions(sim, ZOE)
        assert route == "charge-schedule" and body["data"]["type"] == "ChargeSchedule"
        posted = {s["id"]: s for s in body["data"]["attributes"]["schedules"]}
        # id 1: activated kept, monday cleared, tuesday set, friday kept; id 2 switched on; 3–5 untouched.
        assert posted[1] == {"id": 1, "activated": True, "tuesday": {"startTime": "T01:00Z", "duration": 120},
                             "friday": {"startTime": "T23:00Z", "duration": 120}}
        assert posted[2] == {"id": 2, "activated": True, "sunday": {"startTime": "T22:45Z", "duration": 480}}
        assert [posted[i] for i in (3, 4, 5)] == [{"id": i, "activated": False} for i in (3, 4, 5)]
        read = await zoe.refresh("charging-settings")
        assert {s.id: s.to_json() for s in read.schedules} == posted


async def test_schedule_input_is_checked_before_any_request(sim):
    async with connect(sim) as account:
        zoe = await account.vehicle(ZOE)
        before = len(sim.log)
        for bad in (
            {"id": 1, "monday": {"startTime": "T01:10Z", "duration": 60}},  # not on a quarter hour
            {"id": 1, "monday": {"startTime": "01:00", "duration": 60}},  # not THH:MMZ
            {"id": 1, "monday": {"startTime": "T01:00Z"}},  # no duration
            {"id": 1, "monday": {"startTime": "T01:00Z", "duration": 5}},
            {"id": 6},
            {"activated": True},
            [{"id": 1}, {"id": 1}],
            {"id": 1, "activated": "yes"},
            {"id": 1, "funday": None},
            [],
        ):
            with pytest.raises(InvalidInputError):
                await zoe.command("set-charge-schedules", schedules=bad)
        with pytest.raises(InvalidInputError):
            await zoe.command("set-hvac-schedules", schedules={"id": 1, "monday": {"startTime": "T01:00Z",
                                                                                   "duration": 15}})
        assert len(sim.log) == before


async def test_hvac_schedules_and_the_meganes_kcm_charge_schedule(sim):
    async with connect(sim) as account:
        zoe, megane = await account.vehicle(ZOE), await account.vehicle(MEGANE)
        result = await zoe.command("set-hvac-schedules", schedules={"id": 1, "wednesday": None,
                                                                     "friday": {"readyAtTime": "T06:30Z"}})
        assert result.status == "CONFIRMED"
        [(route, body)] = actions(sim, ZOE)
        assert route == "hvac-schedule" and body["data"]["type"] == "HvacSchedule"
        assert body["data"]["attributes"]["schedules"][0] == {"id": 1, "activated": True,
                                                               "friday": {"readyAtTime": "T06:30Z"}}
        await megane.command("set-charge-schedules", schedules={"id": 3, "activated": True,
                                                               "saturday": {"startTime": "T02:00Z", "duration": 60}})
        assert [route for route, _ in actions(sim, MEGANE)] == ["kcm-charge-schedule"]


async def test_horn_lights_location_and_soc_levels(sim):
    async with connect(sim) as account:
        megane, zoe, spring = [await account.vehicle(v) for v in (MEGANE, ZOE, SPRING)]
        assert (await megane.command("horn")).status == "ACCEPTED"
        assert (await megane.command("lights")).status == "ACCEPTED"
        with pytest.raises(NotSupportedError):
            await zoe.command("horn")
        before = (await spring.refresh("location")).last_update
        result = await spring.command("refresh-location")
        assert result.status == "CONFIRMED" and spring.value("location").last_update > before
        with pytest.raises(InvalidInputError):
            await megane.command("set-soc-levels", minimum=10, target=80)
        with pytest.raises(InvalidInputError):
            await megane.command("set-soc-levels", minimum=20, target=82)
        assert (await megane.command("set-soc-levels", minimum=25, target=90)).status == "CONFIRMED"
        assert megane.value("soc-levels").soc_min == 25 and megane.value("soc-levels").soc_target == 90
        assert sim.world.car(MEGANE).extra["signals"] == ["horn", "lights"]


async def test_charge_mode_on_the_zoe_phase_1(sim):
    add_car(sim, ZOE1, "X101VE", extra={"reports_watts": True, "charge_mode": "always"})
    async with connect(sim) as account:
        zoe1 = await account.vehicle(ZOE1)
        with pytest.raises(InvalidInputError):
            await zoe1.command("charge-mode", mode="sometimes")
        assert (await zoe1.command("charge-mode", mode="schedule_mode")).status == "CONFIRMED"
        assert zoe1.value("charge-mode").value == "schedule_mode"
        with pytest.raises(NotSupportedError):
            await (await account.vehicle(ZOE)).command("charge-mode", mode="always")


async def test_an_unknown_model_tries_every_action_and_the_server_says_no(sim):
    add_car(sim, NEWCAR, "ZZ99VE", extra={"unsupported": {"action:refresh-location": "err.func.wired.forbidden"}})
    async with connect(sim) as account:
        car = await account.vehicle(NEWCAR)
        assert set(car.commands) == {spec.name for spec in account.brand.commands}
        assert (await car.command("horn")).status == "ACCEPTED"
        with pytest.raises(NotSupportedError):
            await car.command("refresh-location")


async def _kamereon(account, car, method: str, path: str, body=None):
    """A raw Kamereon request through the account's own pipeline (what another client would send)."""
    from evclient.brands.renault.endpoints import KCA1
    from evclient.scheduler import Priority
    from evclient.transport import Request

    request = Request(method=method, server="kamereon", path=(KCA1 + path).format_map(car.info.context),
                      endpoint="raw", json=body)
    return await account.pipeline.send(request, Priority.REFRESH)


async def test_the_zoe_phase_2_refuses_a_kca_charge_stop_and_is_stopped_through_pause_resume(sim):
    """renault-api PR #1867 and Home Assistant issue #129228: a real X102VE answers charging-start
    {action: stop} with err.func.wired.invalid-body-format; evclient stops it through kcm pause-resume."""
    async with connect(sim) as account:
        zoe = await account.vehicle(ZOE)
        assert (await zoe.command("charge-start")).status == "CONFIRMED"
        stop = {"data": {"type": "ChargingStart", "attributes": {"action": "stop"}}}
        with pytest.raises(NotSupportedError, match="invalid-body-format"):
            await _kamereon(account, zoe, "POST", "/actions/charging-start", stop)
        assert sim.requests(brand="renault")[-1].status == 400
        assert sim.world.car(ZOE).charging  # refused: still charging
        assert (await zoe.command("charge-stop")).status == "CONFIRMED"
        assert not sim.world.car(ZOE).charging
        assert actions(sim, ZOE)[-1][0] == "pause-resume"


async def test_a_pause_resume_accepted_without_effect_is_not_reported_as_done(sim):
    """renault-api #2133: the cloud may accept pause-resume and the car not stop; the confirmation read says so."""
    async with connect(sim) as account:
        zoe = await account.vehicle(ZOE)
        assert (await zoe.command("charge-start")).status == "CONFIRMED"
        sim.world.set_script("pause-resume", vin=ZOE, outcome="never")
        with pytest.raises((evclient.CommandTimedOut, CommandFailed)):
            await zoe.command("charge-stop", deadline=600)
        assert zoe.status.charge_state is not None and zoe.status.charge_state.value == "charging"


async def test_the_zoe_phase_2_refuses_a_charge_mode_read_with_a_400(sim):
    async with connect(sim) as account:
        zoe = await account.vehicle(ZOE)
        with pytest.raises(NotSupportedError, match=r"charge-mode\.error"):
            await _kamereon(account, zoe, "GET", "/charge-mode")
        assert sim.requests(brand="renault")[-1].status == 400  # the peer's 400 (its code is our assumption)
