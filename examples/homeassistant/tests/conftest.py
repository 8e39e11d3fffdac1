"""Home Assistant with the evclient integration, talking to evclient's simulator over loopback HTTP.

Time is virtual (looptime): Home Assistant's test loop binds ``loop.time`` to ``time.monotonic`` on the
instance, which would hide looptime's clock, so the first fixture removes that binding. A simulated hour
of polling then takes milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME, Simulator
from evclient.simulator.brands.bmw import DEMO_SECURITY_ANSWER
from evclient.simulator.world import Car
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.evclient.const import DOMAIN

ZOE, CAPTUR = "VF1AG000X64000001", "VF1RJB00X67000004"
ZOE1 = "VF1AG000X69000006"  # a Zoe phase 1, the one model with a charge-mode switch
ZE_ZOE = "VF1AG000164412345"
I3 = "WBY1Z21080V300001"
TFA_USERNAME = "tfa@evclient.dev"
BMW_ANSWER = DEMO_SECURITY_ANSWER
BMW_FIELDS = {"region": "rest_of_world", "app_key": "demo-key", "app_secret": "demo-secret"}


@pytest.fixture(autouse=True)
async def _virtual_time() -> None:
    loop = asyncio.get_running_loop()
    loop.__dict__.pop("time", None)
    # looptime keeps whole microseconds; let timers due within one fire (as in evclient's own suite).
    loop._clock_resolution = max(loop._clock_resolution, 1e-6)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _custom_integrations(enable_custom_integrations: Any) -> None:
    """Let Home Assistant load custom_components/evclient."""


@pytest.fixture
async def sim(socket_enabled: Any) -> AsyncIterator[Simulator]:
    """The simulator on 127.0.0.1 (Home Assistant's harness blocks sockets unless a test asks for them)."""
    simulator = Simulator()
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.close()


async def start_flow(hass: HomeAssistant, sim: Simulator, brand: str) -> dict[str, Any]:
    """The flow's credentials form for ``brand``, pointed at the simulator (an advanced option)."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user", "show_advanced_options": True}
    )
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"brand": brand, "simulator_url": sim.url}
    )
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "credentials"
    return result


async def add_account(hass: HomeAssistant, sim: Simulator, brand: str = "renault", **fields: Any) -> ConfigEntry:
    """Run the whole config flow and wait for the entry to be set up."""
    result = await start_flow(hass, sim, brand)
    defaults: dict[str, Any] = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
    if brand == "renault":
        defaults["locale"] = "fr_FR"
    if brand == "bmw":
        defaults.update(BMW_FIELDS)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**defaults, **fields})
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry = result["result"]
    assert isinstance(entry, ConfigEntry)
    return entry


def entity_id(hass: HomeAssistant, platform: str, vin: str, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{vin}_{key}")
    assert found is not None, f"no {platform} {key} for {vin}"
    return found


def state(hass: HomeAssistant, platform: str, vin: str, key: str) -> Any:
    current = hass.states.get(entity_id(hass, platform, vin, key))
    assert current is not None
    return current


def add_zoe_phase_1(sim: Simulator) -> Car:
    car = Car(brand="renault", vin=ZOE1, owner=DEMO_USERNAME, model="X101VE", name="ZOE1", plugged=True,
              battery_level=40.0, extra={"reports_watts": True, "charge_mode": "always"})
    return sim.world.add_car(car)
