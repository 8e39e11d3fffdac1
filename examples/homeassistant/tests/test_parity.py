"""What an owner moving from Home Assistant's own Renault integration finds here: the same entities and
actions (SoC numbers, horn and lights, the charge-schedules response action, tyre pressures, HVAC state and
SoC threshold, the charge mode), each translated, with a device class, unit, category and icon."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er

from custom_components.evclient.const import DOMAIN

from .conftest import ZOE, ZOE1, add_account, add_zoe_phase_1, entity_id, state
from .test_actions import device_id

MEGANE, SPRING, CAPTUR = "VF1RCB00X65000002", "UU1DBG00X66000003", "VF1RJB00X67000004"
INTEGRATION = Path(__file__).parents[1] / "custom_components" / "evclient"


async def test_soc_numbers_read_and_set_the_cars_levels(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim)
    low, high = entity_id(hass, "number", MEGANE, "charge_limit_min"), entity_id(hass, "number", MEGANE,
                                                                                  "charge_limit_target")
    levels = sim.world.car(MEGANE).extra["soc_levels"]
    assert float(hass.states.get(low).state) == levels["socMin"]
    assert hass.states.get(high).attributes["min"] == 55 and hass.states.get(high).attributes["step"] == 5
    await hass.services.async_call("number", "set_value", {"entity_id": high, "value": 90}, blocking=True)
    await hass.async_block_till_done()
    assert sim.world.car(MEGANE).extra["soc_levels"] == {"socMin": levels["socMin"], "socTarget": 90}
    assert float(hass.states.get(high).state) == 90
    with pytest.raises(ServiceValidationError):  # off the steps Home Assistant offers: nothing is sent
        await hass.services.async_call("number", "set_value", {"entity_id": low, "value": 50}, blocking=True)
    # Only cars with soc-levels get them (the Zoe phase 2 refuses the endpoint).
    assert er.async_get(hass).async_get_entity_id("number", DOMAIN, f"{ZOE}_charge_limit_min") is None


async def test_buttons_for_every_command_the_car_has(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim)
    registry = er.async_get(hass)

    def buttons(vin: str) -> set[str]:
        return {e.unique_id.removeprefix(vin + "_") for e in registry.entities.values()
                if e.domain == "button" and e.unique_id.startswith(vin)}

    assert {"sound_horn", "flash_lights", "start_air_conditioner", "stop_air_conditioner"} <= buttons(MEGANE)
    assert not {"sound_horn", "flash_lights"} & buttons(ZOE)  # the Zoe phase 2 refuses horn and lights
    assert not {"start_charge", "stop_charge", "sound_horn"} & buttons(CAPTUR)
    await hass.services.async_call("button", "press", {"entity_id": entity_id(hass, "button", MEGANE, "sound_horn")},
                                   blocking=True)
    await asyncio.sleep(60)  # acknowledged by the cloud; the car sounds it when the message reaches it
    assert sim.world.car(MEGANE).extra["signals"] == ["horn"]
    sim.world.car(MEGANE).hvac_on = True
    await hass.services.async_call("button", "press",
                                   {"entity_id": entity_id(hass, "button", MEGANE, "stop_air_conditioner")},
                                   blocking=True)
    assert not sim.world.car(MEGANE).hvac_on  # with the Mégane's own word ("stop")


async def test_get_charge_schedules_returns_data_and_changes_nothing(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim)
    before = len(sim.log)
    answer = await hass.services.async_call(DOMAIN, "get_charge_schedules", {"vehicle": device_id(hass, ZOE)},
                                            blocking=True, return_response=True)
    assert answer is not None and answer["endpoint"] == "charging-settings" and answer["mode"] == "scheduled"
    stored = sim.world.car(ZOE).extra["charging_settings"]["schedules"]
    assert [s["id"] for s in answer["schedules"]] == [s["id"] for s in stored]
    assert answer["schedules"][0]["monday"] == stored[0]["monday"]
    assert not [e for e in sim.log[before:] if e.method == "POST"]  # a read, never a change
    with pytest.raises(ServiceValidationError):  # the Spring has no charge schedules
        await hass.services.async_call(DOMAIN, "get_charge_schedules", {"vehicle": device_id(hass, SPRING)},
                                       blocking=True, return_response=True)


async def test_tyres_hvac_and_soc_threshold(hass: HomeAssistant, sim) -> None:
    add_zoe_phase_1(sim)
    await add_account(hass, sim)
    assert float(state(hass, "sensor", ZOE, "front_left_tyre_pressure").state) == 250.0
    assert state(hass, "binary_sensor", ZOE, "hvac_status").state == "off"
    assert float(state(hass, "sensor", ZOE, "hvac_soc_threshold").state) == 30.0
    assert state(hass, "select", ZOE1, "charge_mode").state == "always_charging"
    assert float(state(hass, "sensor", ZOE, "battery_available_energy").state) > 0


async def test_every_entity_is_translated_classified_and_drawn(hass: HomeAssistant, sim) -> None:
    add_zoe_phase_1(sim)
    sim.world.start_charging(sim.world.car(ZOE))  # charging, the Zoe reports its power too
    await add_account(hass, sim)
    await add_account(hass, sim, "bmw")
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert json.loads((INTEGRATION / "translations" / "en.json").read_text()) == strings
    entries = [e for e in er.async_get(hass).entities.values() if e.platform == DOMAIN]
    assert len(entries) > 60
    for entry in entries:
        assert entry.translation_key is not None, entry.unique_id
        assert entry.translation_key in strings["entity"][entry.domain], entry.unique_id
        current = hass.states.get(entry.entity_id)
        if entry.disabled_by is None:
            assert current is not None and not current.name.endswith("None"), entry.entity_id
    # Icons are drawn by translation key, for keys that exist.
    for domain, keys in icons["entity"].items():
        assert set(keys) <= set(strings["entity"][domain]), domain
    # Sensors and numbers carry a device class or a unit; diagnostics are categorised.
    registry = er.async_get(hass)
    tyre = registry.async_get(entity_id(hass, "sensor", ZOE, "front_left_tyre_pressure"))
    assert tyre is not None and tyre.entity_category is not None
    # The noisy ones are off until the owner asks for them.
    for key in ("charging_power", "battery_temperature", "battery_last_activity", "location_last_activity"):
        found = registry.async_get_entity_id("sensor", DOMAIN, f"{ZOE}_{key}")
        assert found is not None, key
        disabled = registry.async_get(found)
        assert disabled is not None and disabled.disabled_by is er.RegistryEntryDisabler.INTEGRATION, key
    # Every action has its translation and its icon.
    assert set(strings["services"]) == set(icons["services"]) == set(hass.services.async_services()[DOMAIN])


def test_legacy_brands_are_marked_in_the_config_flow() -> None:
    from custom_components.evclient.brands import brand_names, brand_spec

    names = brand_names()
    assert names[-2:] == sorted(["bmw", "renault-ze"])  # current brands first
    for legacy in ("bmw", "renault-ze"):
        assert "legacy" in brand_spec(legacy).label.lower()
    assert "bmw-cardata" in names and "legacy" not in brand_spec("bmw-cardata").label.lower()
