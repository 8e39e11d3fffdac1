"""Buttons, select, lock and the actions run real commands against the simulator's cars."""

from __future__ import annotations

import datetime as dt

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.evclient.const import DOMAIN

from .conftest import BMW_ANSWER, I3, ZE_ZOE, ZOE, ZOE1, add_account, add_zoe_phase_1, entity_id, state


def device_id(hass: HomeAssistant, vin: str) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, vin)})
    assert device is not None
    return device.id


def posts(sim) -> int:
    return len([e for e in sim.requests(brand="renault") if e.method == "POST" and "/gigya/" not in e.path])


async def test_a_button_runs_its_command_to_the_end_and_the_entity_follows(hass: HomeAssistant, sim) -> None:
    add_zoe_phase_1(sim)
    await add_account(hass, sim)
    assert state(hass, "binary_sensor", ZOE1, "charging").state == "off"
    button = entity_id(hass, "button", ZOE1, "start_charge")
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    await hass.async_block_till_done()
    assert sim.world.car(ZOE1).charging
    assert state(hass, "binary_sensor", ZOE1, "charging").state == "on"
    button = entity_id(hass, "button", ZOE, "start_air_conditioner")
    await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
    assert sim.world.car(ZOE).hvac_on and state(hass, "binary_sensor", ZOE, "hvac_status").state == "on"


async def test_the_charge_mode_select_and_send_command(hass: HomeAssistant, sim) -> None:
    add_zoe_phase_1(sim)
    await add_account(hass, sim)
    select = entity_id(hass, "select", ZOE1, "charge_mode")
    await hass.services.async_call("select", "select_option", {"entity_id": select, "option": "schedule_mode"},
                                   blocking=True)
    assert hass.states.get(select).state == "schedule_mode"
    answer = await hass.services.async_call(
        DOMAIN, "send_command",
        {"vehicle": device_id(hass, ZOE1), "command": "charge-mode", "params": {"mode": "always_charging"}},
        blocking=True, return_response=True)
    assert answer is not None and answer["status"] == "CONFIRMED"
    assert hass.states.get(select).state == "always_charging"
    spent = posts(sim)
    with pytest.raises(ServiceValidationError, match="mode"):
        await hass.services.async_call(
            DOMAIN, "send_command", {"vehicle": device_id(hass, ZOE1), "command": "charge-mode",
                                     "params": {"mode": "sometimes"}}, blocking=True, return_response=True)
    with pytest.raises(ServiceValidationError, match="no command"):
        await hass.services.async_call(
            DOMAIN, "send_command", {"vehicle": device_id(hass, ZOE1), "command": "self-destruct"},
            blocking=True, return_response=True)
    assert posts(sim) == spent


async def test_the_four_renault_actions(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim)
    car = sim.world.car(ZOE)
    vehicle = device_id(hass, ZOE)
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    await hass.services.async_call(DOMAIN, "ac_start", {"vehicle": vehicle, "temperature": 21.5,
                                                        "when": when.isoformat()}, blocking=True)
    assert car.extra["next_hvac_start"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert car.extra["actions"][-1]["body"]["data"]["attributes"]["targetTemperature"] == 21.5
    await hass.services.async_call(DOMAIN, "ac_cancel", {"vehicle": vehicle}, blocking=True)
    assert "next_hvac_start" not in car.extra

    await hass.services.async_call(DOMAIN, "charge_set_schedules", {"vehicle": vehicle, "schedules": [
        {"id": 2, "activated": True, "monday": {"startTime": "T01:15Z", "duration": 90}},
        {"id": 1, "friday": None},
    ]}, blocking=True)
    first, second = car.extra["charging_settings"]["schedules"][:2]
    # Schedule 1 keeps its flag and its Monday; its Friday is cleared. Schedule 2 gets a Monday.
    assert first == {"id": 1, "activated": True, "monday": {"startTime": "T00:30Z", "duration": 360}}
    assert second == {"id": 2, "activated": True, "monday": {"startTime": "T01:15Z", "duration": 90}}

    await hass.services.async_call(DOMAIN, "ac_set_schedules", {"vehicle": vehicle, "schedules": {
        "id": 3, "activated": True, "tuesday": {"readyAtTime": "T06:45Z"}}}, blocking=True)
    third = car.extra["hvac_settings"]["schedules"][2]
    assert third == {"id": 3, "activated": True, "tuesday": {"readyAtTime": "T06:45Z"}}

    spent = posts(sim)
    with pytest.raises(ServiceValidationError, match="temperature"):
        await hass.services.async_call(DOMAIN, "ac_start", {"vehicle": vehicle, "temperature": 40}, blocking=True)
    with pytest.raises(ServiceValidationError, match="quarter hour"):
        await hass.services.async_call(DOMAIN, "charge_set_schedules", {"vehicle": vehicle, "schedules": [
            {"id": 1, "monday": {"startTime": "T01:10Z", "duration": 60}}]}, blocking=True)
    assert posts(sim) == spent  # bad input costs no request


async def test_the_bmw_lock_unlocks_and_locks_the_car(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim, "bmw")
    lock = entity_id(hass, "lock", I3, "door_lock")
    with pytest.raises(ServiceValidationError, match="security question"):
        await hass.services.async_call("lock", "unlock", {"entity_id": lock}, blocking=True)
    await hass.services.async_call("lock", "unlock", {"entity_id": lock, "code": BMW_ANSWER}, blocking=True)
    assert hass.states.get(lock).state == "unlocked"
    await hass.services.async_call("lock", "lock", {"entity_id": lock}, blocking=True)
    assert hass.states.get(lock).state == "locked"
    answer = await hass.services.async_call(DOMAIN, "send_command", {"vehicle": device_id(hass, I3),
                                            "command": "light-flash"}, blocking=True, return_response=True)
    assert answer is not None and answer["status"] == "EXECUTED" and answer["polls"] >= 1
    with pytest.raises(ServiceValidationError, match="no A/C cancel"):
        await hass.services.async_call(DOMAIN, "ac_cancel", {"vehicle": device_id(hass, I3)}, blocking=True)


async def test_send_command_runs_typed_actions_the_same_for_every_brand(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim, "bmw")
    car = device_id(hass, I3)
    answer = await hass.services.async_call(DOMAIN, "send_command", {"vehicle": car, "command": "flash"},
                                            blocking=True, return_response=True)
    assert answer is not None and answer["status"] == "EXECUTED"  # BMW's light-flash, by its typed name
    with pytest.raises(ServiceValidationError) as invalid:  # a value no car could take: refused before a request
        await hass.services.async_call(DOMAIN, "send_command", {"vehicle": car, "command": "send-destination",
                                                                "params": {"latitude": 91, "longitude": 0}},
                                       blocking=True)
    assert invalid.value.translation_key == "invalid_input" and "latitude" in str(invalid.value)
    with pytest.raises(ServiceValidationError) as unsupported:  # this REx has no horn
        await hass.services.async_call(DOMAIN, "send_command", {"vehicle": car, "command": "horn"}, blocking=True)
    assert unsupported.value.translation_key == "not_supported"
    # The ZE Zoe's A/C starts at its own set point, now or at a time typed in the UI (Home Assistant's zone).
    await add_account(hass, sim, "renault-ze")
    zoe = device_id(hass, ZE_ZOE)
    await hass.services.async_call(DOMAIN, "ac_start", {"vehicle": zoe, "when": "2026-12-05 07:30:00"},
                                   blocking=True)
    with pytest.raises(ServiceValidationError, match="own set point"):
        await hass.services.async_call(DOMAIN, "ac_start", {"vehicle": zoe, "temperature": 21}, blocking=True)


async def test_the_charge_mode_select_and_limits_come_from_the_typed_vocabulary_for_every_brand(
        hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim, "bmw")
    # Legacy BMW's weekly planner: the same select as MyRenault's, through the same typed action.
    select = entity_id(hass, "select", I3, "charge_mode")
    assert hass.states.get(select).state == "schedule_mode"  # the demo i3 charges by its planner
    await hass.services.async_call("select", "select_option", {"entity_id": select, "option": "always_charging"},
                                   blocking=True)
    assert sim.world.car(I3).extra["weeklyPlanner"]["chargingMode"] == "IMMEDIATE_CHARGING"
    await hass.async_block_till_done()
    assert hass.states.get(select).state == "always_charging"
    # No charge-limit numbers where the brand cannot set them.
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("number", DOMAIN, f"{I3}_charge_limit_min") is None
