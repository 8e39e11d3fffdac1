"""The config flow: wrong passwords, the one-time code, the account choice, re-authentication."""

from __future__ import annotations

import asyncio
import json

from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.evclient.const import DOMAIN

from .conftest import TFA_USERNAME, ZOE, add_account, start_flow, state


async def test_a_wrong_password_shows_the_form_again_without_the_password(hass: HomeAssistant, sim) -> None:
    result = await start_flow(hass, sim, "renault")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": DEMO_USERNAME, "password": "not-the-password", "locale": "fr_FR"})
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "invalid_auth"}
    assert "not-the-password" not in json.dumps(result, default=str)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "locale": "xx_XX"})
    assert result["errors"] == {"base": "invalid_input"}  # an unknown locale: no request spent on it


async def test_two_factor_code_then_account_choice(hass: HomeAssistant, sim) -> None:
    sim.world.account("renault", TFA_USERNAME).extra["other_accounts"] = {"dacia-9": "MYDACIA"}
    result = await start_flow(hass, sim, "renault")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": TFA_USERNAME, "password": DEMO_PASSWORD, "locale": "fr_FR"})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "code"
    [message] = sim.world.messages(TFA_USERNAME)
    code = message.body[-6:]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"code": "000000" if code != "000000" else "111111"})
    assert result["step_id"] == "code" and result["errors"] == {"base": "invalid_code"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"code": code})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "account"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"account_id": "dacia-9"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data["account_id"] == "dacia-9" and "password" not in entry.data
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # The device is remembered: setting up again from the tokens asks for no new code.
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert len(sim.world.messages(TFA_USERNAME)) == 1


async def test_the_same_account_twice_is_refused(hass: HomeAssistant, sim) -> None:
    await add_account(hass, sim)
    result = await start_flow(hass, sim, "renault")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "locale": "fr_FR"})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"


async def test_a_refused_login_in_the_background_asks_to_log_in_again(hass: HomeAssistant, sim) -> None:
    entry = await add_account(hass, sim, "bmw")
    bmw = sim.world.account("bmw", DEMO_USERNAME)
    bmw.password = "changed-password"
    sim.fault("bmw.*", "revoke", revoke_refresh=True)  # the server forgets every token of this login
    await asyncio.sleep(3600)  # a poll hits the 401; the stored tokens cannot log in again
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert state(hass, "lock", "WBY1Z21080V300001", "door_lock").state == "unavailable"
    logins = len(sim.requests(brand="bmw", route="bmw.login"))
    await asyncio.sleep(3600)
    assert len(sim.requests(brand="bmw", route="bmw.login")) == logins  # never retried on its own
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {"password": "changed-password"})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED and "changed-password" not in json.dumps(dict(entry.data))
    assert state(hass, "lock", "WBY1Z21080V300001", "door_lock").state == "locked"


async def test_setup_resumes_from_the_stored_tokens_without_a_login(hass: HomeAssistant, sim) -> None:
    entry = await add_account(hass, sim)
    logins = len([r for r in sim.requests(brand="renault") if r.route.endswith("accounts.login")])
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert len([r for r in sim.requests(brand="renault") if r.route.endswith("accounts.login")]) == logins
    assert state(hass, "sensor", ZOE, "battery_level").state != "unavailable"
