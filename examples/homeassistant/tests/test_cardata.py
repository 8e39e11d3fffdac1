"""BMW CarData inside Home Assistant: the device login as a progress step, entities fed by the stream, rotated
tokens saved at once, and the stream's state as a diagnostic entity."""

from __future__ import annotations

import asyncio

import paho.mqtt.client
import pytest
from evclient.simulator.brands.bmw_cardata import DEMO_CLIENT_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from .conftest import start_flow, state

IX = "WBY31AW0X0FP00001"


@pytest.fixture(autouse=True)
async def _mqtt_on_loop_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """paho's keep-alive on the loop's (virtual) clock, as the broker's is."""
    monkeypatch.setattr(paho.mqtt.client, "time_func", asyncio.get_running_loop().time)


async def test_cardata_is_set_up_through_the_device_login_and_streams(hass: HomeAssistant, sim) -> None:
    result = await start_flow(hass, sim, "bmw-cardata")
    assert [str(k) for k in result["data_schema"].schema] == ["client_id"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"client_id": DEMO_CLIENT_ID})
    assert result["type"] is FlowResultType.SHOW_PROGRESS and result["step_id"] == "device"
    placeholders = result["description_placeholders"]
    assert "/oneid/link" in placeholders["url"] and len(placeholders["code"]) == 8
    await asyncio.sleep(10)  # the simulated owner approves after 3 s; evclient looks after its 5 s interval
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.data["tokens"]["gcid"] and "password" not in entry.data
    battery = float(state(hass, "sensor", IX, "battery_level").state)
    assert battery == pytest.approx(58.0, abs=0.5)
    await asyncio.sleep(30)
    await hass.async_block_till_done()
    assert state(hass, "sensor", IX, "stream").state == "connected"
    rotated = entry.data["tokens"]["refresh_token"]
    await asyncio.sleep(3600)  # charging on: the stream pushes; the tokens are refreshed before they expire
    await hass.async_block_till_done()
    assert float(state(hass, "sensor", IX, "battery_level").state) > battery
    assert entry.data["tokens"]["refresh_token"] != rotated  # saved as it rotated, not at shutdown
    assert state(hass, "sensor", IX, "stream").attributes["messages"] > 0
    # The calls left on screen: the 50 a day, as the account counts them, with when the next frees.
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    calls = state(hass, "sensor", IX, "calls_left")
    rest = next(w for w in entry.runtime_data.account.budget.windows if w.name == "rest")
    assert int(calls.state) == rest.left == 50 - rest.used and rest.used > 0
    assert calls.attributes["windows"]["rest"]["limit"] == 50 and calls.attributes["windows"]["rest"]["next_free"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    await asyncio.sleep(5)  # the simulator's side of the stream ends too before the test does
    await hass.async_block_till_done()


async def test_a_lapsed_cardata_login_asks_for_the_device_login_again(hass: HomeAssistant, sim) -> None:
    from homeassistant.config_entries import SOURCE_REAUTH

    from custom_components.evclient.const import DOMAIN

    result = await start_flow(hass, sim, "bmw-cardata")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"client_id": DEMO_CLIENT_ID})
    await asyncio.sleep(10)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    sim.world.revoke("bmw-cardata", DEMO_CLIENT_ID, refresh=True)  # the 14-day login has lapsed
    await entry.runtime_data.async_refresh()  # the next read finds out (here at once, not after a poll tick)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS and result["step_id"] == "device"
    await asyncio.sleep(10)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data["tokens"]["refresh_token"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    await asyncio.sleep(5)  # the simulator's side of the stream ends too before the test does
    await hass.async_block_till_done()
