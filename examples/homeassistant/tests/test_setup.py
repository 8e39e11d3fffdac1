"""Setting up an account: entities for what each car reports, with the simulator's values."""

from __future__ import annotations

import json

import pytest
from evclient.simulator import DEMO_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.evclient.const import DOMAIN

from .conftest import CAPTUR, I3, ZE_ZOE, ZOE, ZOE1, add_account, add_zoe_phase_1, state


async def test_renault_entities_show_the_cars_state(hass: HomeAssistant, sim) -> None:
    add_zoe_phase_1(sim)
    entry = await add_account(hass, sim)
    assert DEMO_PASSWORD not in json.dumps(dict(entry.data))  # the tokens are kept, not the password
    assert entry.data["tokens"]["brand"] == "renault" and entry.data["account_id"] == "account-1"
    car = sim.world.car(ZOE)
    assert float(state(hass, "sensor", ZOE, "battery_level").state) == round(car.battery_level)
    assert float(state(hass, "sensor", ZOE, "battery_autonomy").state) == round(car.range_km)
    assert float(state(hass, "sensor", ZOE, "mileage").state) == pytest.approx(car.mileage_km)
    # The Zoe phase 1 reports the outside temperature (hvac-status.zoe); the phase 2 does not (.zoe_50).
    assert float(state(hass, "sensor", ZOE1, "outside_temperature").state) == \
        sim.world.car(ZOE1).outside_temperature_c
    assert float(state(hass, "sensor", ZOE, "front_left_tyre_pressure").state) == 250.0
    assert state(hass, "sensor", ZOE, "plug_state").state == "plugged"
    assert state(hass, "binary_sensor", ZOE, "plugged_in").state == "on"
    assert state(hass, "binary_sensor", ZOE, "charging").state == "off"
    tracker = state(hass, "device_tracker", ZOE, "location")
    assert (tracker.attributes["latitude"], tracker.attributes["longitude"]) == (car.latitude, car.longitude)
    assert state(hass, "select", ZOE1, "charge_mode").state == "always_charging"
    assert state(hass, "button", ZOE, "start_air_conditioner").state == "unknown"
    assert float(state(hass, "sensor", CAPTUR, "fuel_quantity").state) == 27.0
    # Only what a car reports becomes an entity: the Zoe has no fuel gauge and no charge-mode switch.
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{ZOE}_fuel_quantity") is None
    assert registry.async_get_entity_id("select", DOMAIN, f"{ZOE}_charge_mode") is None


async def test_bmw_has_locks_openings_and_its_remote_services_as_buttons(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim, "bmw")
    car = sim.world.car(I3)
    assert float(state(hass, "sensor", I3, "battery_level").state) == pytest.approx(car.battery_level, abs=1)
    assert state(hass, "lock", I3, "door_lock").state == "locked"
    assert state(hass, "binary_sensor", I3, "door_front_left_status").state == "off"
    assert state(hass, "binary_sensor", I3, "trunk_status").attributes["device_class"] == "opening"
    for key in ("start_air_conditioner", "flash_lights", "refresh_location"):
        assert state(hass, "button", I3, key)
    # This REx's listing says it has no horn and no charge-now: no button that could only fail.
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("button", DOMAIN, f"{I3}_sound_horn") is None
    assert registry.async_get_entity_id("button", DOMAIN, f"{I3}_start_charge") is None
    heading = state(hass, "device_tracker", I3, "location").attributes["heading"]
    assert heading == 211


async def test_ze_services_shows_the_battery(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim, "renault-ze")
    battery = sim.world.car(ZE_ZOE).battery_level
    assert float(state(hass, "sensor", ZE_ZOE, "battery_level").state) == pytest.approx(battery, abs=1)
    assert state(hass, "button", ZE_ZOE, "start_charge")
