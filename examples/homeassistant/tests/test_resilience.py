"""Trouble at the server: a quota answer keeps the values on show; a failing endpoint greys out only its own
entities; diagnostics hold nothing personal."""

from __future__ import annotations

import asyncio
import json

import evclient
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME
from homeassistant.core import HomeAssistant

from custom_components.evclient.const import DOMAIN
from custom_components.evclient.diagnostics import async_get_config_entry_diagnostics

from .conftest import BMW_ANSWER, I3, ZOE, add_account, entity_id, state

QUOTA = {"type": "FUNCTIONAL", "errors": [{"errorCode": "err.func.wired.overloaded",
                                           "errorMessage": "You have reached your quota limit"}]}


def kamereon(sim) -> list:
    return [e for e in sim.requests(brand="renault") if "/gigya/" not in e.path]


async def test_a_quota_pause_keeps_the_last_values_then_they_move_again(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim)
    sim.fault("renault.battery-status", status=429, body=QUOTA, headers={"Retry-After": "1200"}, times=1)
    sim.world.car(ZOE).battery_level = 20.0
    await asyncio.sleep(3600)  # a poll of some car's battery meets the quota answer
    [refused] = [e for e in kamereon(sim) if e.status == 429]
    # Paused for the 20 minutes the server asked: nothing was sent meanwhile.
    assert not [e for e in kamereon(sim) if refused.t < e.t < refused.t + 1200]
    await asyncio.sleep(2 * 3600)  # the polls have come round again since
    assert state(hass, "sensor", ZOE, "battery_level").state == "20"
    assert sim.max_in_window(3600, brand="renault") <= 60


async def test_entities_keep_their_values_through_a_quota_pause(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim)
    coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data
    before = {vin: state(hass, "sensor", vin, "battery_level").state for vin in coordinator.vehicles}
    sim.fault("renault.battery-status", status=429, body=QUOTA, headers={"Retry-After": "7200"}, times=None)
    await asyncio.sleep(3600)
    refused = [vin for vin, v in coordinator.vehicles.items()
               if isinstance(v.endpoints["battery-status"].last_error, evclient.QuotaExceeded)]
    assert len(refused) == 1  # one refusal, then the account waits the two hours out
    assert {vin: state(hass, "sensor", vin, "battery_level").state for vin in before} == before


async def test_a_failing_endpoint_greys_out_its_entities_only_and_they_come_back(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim)
    sim.fault("renault.battery-status", status=500, times=None)
    await asyncio.sleep(3 * 3600)
    assert state(hass, "sensor", ZOE, "battery_level").state == "unavailable"
    assert state(hass, "binary_sensor", ZOE, "plugged_in").state == "unavailable"
    assert state(hass, "sensor", ZOE, "mileage").state != "unavailable"  # another endpoint, still fine
    sim.faults.clear()
    await asyncio.sleep(3 * 3600)
    assert state(hass, "sensor", ZOE, "battery_level").state not in ("unavailable", "unknown")


async def test_diagnostics_and_logs_hold_no_personal_data(hass: HomeAssistant, sim, caplog) -> None:
    caplog.set_level("DEBUG")
    entry = await add_account(hass, sim, "bmw")
    await hass.services.async_call("lock", "unlock", {"entity_id": entity_id(hass, "lock", I3, "door_lock"),
                                                      "code": BMW_ANSWER}, blocking=True)
    report = json.dumps(await async_get_config_entry_diagnostics(hass, entry))
    car = sim.world.car(I3)
    token = entry.data["tokens"]["access_token"]
    for secret in (car.vin, str(car.latitude), str(car.longitude), DEMO_USERNAME, DEMO_PASSWORD, token,
                   "demo-secret", BMW_ANSWER):
        assert secret not in report, secret
    assert '"account"' in report and "budget" in report
    for secret in (DEMO_PASSWORD, BMW_ANSWER, token):
        assert secret not in caplog.text
