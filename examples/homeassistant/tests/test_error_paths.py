"""The rarer ways setup, the config flow and the actions go wrong: each ends in the right state or message."""

from __future__ import annotations

import asyncio

import pytest
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir

from custom_components.evclient.const import DOMAIN

from .conftest import I3, TFA_USERNAME, ZE_ZOE, ZOE, add_account, start_flow
from .test_actions import device_id

SERVER_DOWN = {"status": 503, "times": None}


async def test_setup_waits_for_a_server_that_is_down_and_asks_the_owner_for_a_refused_login(
    hass: HomeAssistant, sim
) -> None:
    entry = await add_account(hass, sim)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await asyncio.sleep(3600)  # the saved JWT has expired: setting up asks Gigya for a new one
    sim.fault("renault.*", **SERVER_DOWN)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY  # not an error of the owner's: Home Assistant retries
    sim.faults.clear()
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(entry, data={**entry.data, "locale": "xx_XX"})
    await hass.config_entries.async_setup(entry.entry_id)  # evclient refuses the setting before any request
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    bmw = await add_account(hass, sim, "bmw")
    assert await hass.config_entries.async_unload(bmw.entry_id)
    await asyncio.sleep(9 * 3600)  # the 8-hour token lapsed, and only the password (never kept) gets another
    await hass.config_entries.async_setup(bmw.entry_id)
    await hass.async_block_till_done()
    assert bmw.state is ConfigEntryState.SETUP_ERROR
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"login_needs_owner_{bmw.entry_id}") is not None
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    # A command meeting a refused login says so, translated.
    await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {"password": DEMO_PASSWORD})
    await hass.async_block_till_done()
    assert bmw.state is ConfigEntryState.LOADED
    sim.world.account("bmw", DEMO_USERNAME).password = "changed"
    sim.fault("bmw.*", "revoke", revoke_refresh=True, times=1)
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(DOMAIN, "send_command", {"vehicle": device_id(hass, I3),
                                                                "command": "light-flash"}, blocking=True)
    assert raised.value.translation_key == "auth_failed"


async def test_the_login_form_says_when_the_server_is_down(hass: HomeAssistant, sim) -> None:
    result = await start_flow(hass, sim, "renault")
    sim.fault("renault.accounts.login", **SERVER_DOWN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "locale": "fr_FR"})
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "cannot_connect"}


async def test_the_code_cannot_be_sent_or_tried_too_often(hass: HomeAssistant, sim) -> None:
    fields = {"username": TFA_USERNAME, "password": DEMO_PASSWORD, "locale": "fr_FR"}
    result = await start_flow(hass, sim, "renault")
    sim.fault("renault.accounts.tfa.email.sendVerificationCode", **SERVER_DOWN)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fields)
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "cannot_connect"}
    sim.faults.clear()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fields)
    assert result["step_id"] == "code"
    code = sim.world.messages(TFA_USERNAME)[-1].body[-6:]
    wrong = "000000" if code != "000000" else "111111"
    sim.fault("renault.accounts.tfa.email.completeVerification", status=503, times=1)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"code": wrong})
    assert result["errors"] == {"base": "cannot_connect"}
    for _ in range(3):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {"code": wrong})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"code": code})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "code_expired"


async def test_actions_a_brand_lacks_and_cars_of_an_unloaded_account(hass: HomeAssistant, sim) -> None:
    ze = await add_account(hass, sim, "renault-ze")
    for action in ("charge_set_schedules", "ac_set_schedules"):
        with pytest.raises(ServiceValidationError) as raised:
            await hass.services.async_call(DOMAIN, action, {"vehicle": device_id(hass, ZE_ZOE), "schedules": []},
                                           blocking=True)
        assert raised.value.translation_key == "no_such_action"
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "ac_cancel", {"vehicle": device_id(hass, ZE_ZOE)}, blocking=True)
    renault = await add_account(hass, sim)
    zoe = device_id(hass, ZOE)
    assert await hass.config_entries.async_unload(renault.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(DOMAIN, "ac_cancel", {"vehicle": zoe}, blocking=True)
    assert raised.value.translation_key == "not_loaded"
    assert ze.state is ConfigEntryState.LOADED
