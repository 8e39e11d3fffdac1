"""Config flow: brand, credentials (and region or locale), the one-time code when the login asks for one,
the account when a login has several, and re-authentication. The entry keeps evclient's tokens, never the
password."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import evclient
import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_USERNAME
from homeassistant.core import callback
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from . import connect_args
from .brands import brand_names, brand_spec
from .const import CONF_ACCOUNT_ID, CONF_BRAND, CONF_CODE, CONF_SIMULATOR, CONF_TOKENS, DOMAIN

_LOGGER = logging.getLogger(__name__)


class EVClientConfigFlow(ConfigFlow, domain=DOMAIN):
    """Sets up one evclient account."""

    VERSION = 1

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self._device: evclient.DeviceCodeChallenge | None = None
        self._device_task: asyncio.Task[evclient.Account] | None = None
        self._device_error: str | None = None
        self._challenge: evclient.CodeChallenge | None = None
        self._account: evclient.Account | None = None
        self._choices: dict[str, str] = {}

    # -- steps ---------------------------------------------------------------------------------------

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            self._data = {CONF_BRAND: user_input[CONF_BRAND]}
            if user_input.get(CONF_SIMULATOR):
                self._data[CONF_SIMULATOR] = user_input[CONF_SIMULATOR]
            return await self.async_step_credentials()
        fields: dict[Any, Any] = {
            vol.Required(CONF_BRAND): selector.SelectSelector(selector.SelectSelectorConfig(
                options=[selector.SelectOptionDict(value=name, label=brand_spec(name).label)
                         for name in brand_names()])),
        }
        if self.show_advanced_options:
            fields[vol.Optional(CONF_SIMULATOR)] = str
        return self.async_show_form(step_id="user", data_schema=vol.Schema(fields))

    async def async_step_credentials(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        brand = brand_spec(self._data[CONF_BRAND])
        errors: dict[str, str] = {}
        if user_input is not None:
            # Secrets the brand lets us ask for again (a password) are used for this login and never stored.
            asked = {s.name: user_input.pop(s.name) for s in brand.settings if not s.kept and s.name in user_input}
            self._data.update(user_input)
            await self.async_set_unique_id(f"{brand.name}:{str(self._data[brand.identity]).lower()}")
            if self.source != "reauth":
                self._abort_if_unique_id_configured()
            result = await self._login(asked, errors)
            if result is not None:
                return result
        defaults = {**self._data, **(user_input or {})}
        schema = brand.credentials_schema(defaults, advanced=self.show_advanced_options)
        return self.async_show_form(step_id="credentials", data_schema=schema,
                                    errors=errors, description_placeholders={"brand": brand.label})

    async def async_step_code(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        assert self._challenge is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                account = await self._challenge.complete(user_input[CONF_CODE].strip())
            except evclient.TwoFactorCodeRejected:
                errors["base"] = "invalid_code"
            except evclient.TwoFactorExpired:
                self._challenge = None
                return self.async_abort(reason="code_expired")
            except evclient.TemporaryError:
                errors["base"] = "cannot_connect"
            else:
                self._challenge = None
                return await self._logged_in(account)
        return self.async_show_form(step_id="code", data_schema=vol.Schema({vol.Required(CONF_CODE): str}),
                                    errors=errors)

    async def async_step_device(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show BMW's link and code while evclient waits (politely) for the owner's approval."""
        assert self._device is not None
        if self._device_task is None:
            self._device_task = self.hass.async_create_task(self._device.wait(), eager_start=False)
        if not self._device_task.done():
            link = self._device.verification_uri_complete or self._device.verification_uri
            return self.async_show_progress(
                step_id="device", progress_action="wait_for_approval", progress_task=self._device_task,
                description_placeholders={"url": link, "code": self._device.user_code})
        try:
            self._account = self._device_task.result()
        except evclient.TwoFactorExpired:
            self._device_error = "code_expired"
        except evclient.AuthenticationError:
            self._device_error = "invalid_auth"
        except evclient.EVClientError:
            self._device_error = "cannot_connect"
        finally:
            self._device_task = None
        if self._device_error is not None:
            await self._device.close()
            self._device = None
            return self.async_show_progress_done(next_step_id="device_failed")
        return self.async_show_progress_done(next_step_id="device_done")

    async def async_step_device_done(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        assert self._account is not None
        self._device = None
        return await self._logged_in(self._account)

    async def async_step_device_failed(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_abort(reason=self._device_error or "cannot_connect")

    async def async_step_account(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        assert self._account is not None
        if user_input is not None:
            self._data[CONF_ACCOUNT_ID] = user_input[CONF_ACCOUNT_ID]
            return await self._finish()
        options = [selector.SelectOptionDict(value=k, label=v) for k, v in self._choices.items()]
        return self.async_show_form(step_id="account", data_schema=vol.Schema({
            vol.Required(CONF_ACCOUNT_ID): selector.SelectSelector(selector.SelectSelectorConfig(options=options)),
        }))

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change an account's settings (locale, region, keys, account) and log in with them again."""
        entry = self._get_reconfigure_entry()
        brand = brand_spec(entry.data[CONF_BRAND])
        errors: dict[str, str] = {}
        if user_input is not None:
            asked = {s.name: user_input.pop(s.name) for s in brand.settings if not s.kept and s.name in user_input}
            self._data = {**{k: v for k, v in entry.data.items() if k != CONF_TOKENS}, **user_input}
            await self.async_set_unique_id(f"{brand.name}:{str(self._data[brand.identity]).lower()}")
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            result = await self._login(asked, errors)
            if result is not None:
                return result
        defaults = {**entry.data, **(user_input or {})}
        return self.async_show_form(step_id="reconfigure", errors=errors,
                                    data_schema=brand.credentials_schema(defaults, advanced=self.show_advanced_options),
                                    description_placeholders={"brand": brand.label})

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        self._data = {k: v for k, v in entry_data.items() if k != CONF_TOKENS}
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        brand = brand_spec(self._data[CONF_BRAND])
        if user_input is not None:
            result = await self._login(dict(user_input), errors)
            if result is not None:
                return result
        return self.async_show_form(step_id="reauth_confirm", data_schema=brand.asked_schema(), errors=errors,
                                    description_placeholders={CONF_USERNAME: str(self._data[brand.identity])})

    # -- the login ------------------------------------------------------------------------------------

    async def _login(self, asked: dict[str, Any], errors: dict[str, str]) -> ConfigFlowResult | None:
        """Log in; a result moves the flow on, ``None`` shows the form again with ``errors``."""
        try:
            account = await evclient.connect(self._data[CONF_BRAND], session=async_get_clientsession(self.hass),
                                             **asked, **connect_args(self._data))
        except evclient.TwoFactorRequired as err:
            if isinstance(err.challenge, evclient.DeviceCodeChallenge):
                # BMW CarData: the owner approves on BMW's page; a progress step waits for it.
                self._device = err.challenge
                return await self.async_step_device()
            self._challenge = challenge = err.challenge
            try:
                await challenge.send_code()
            except evclient.EVClientError:
                errors["base"] = "cannot_connect"
                await self._drop_pending()
                return None
            return await self.async_step_code()
        except evclient.InvalidCredentialsError:
            errors["base"] = "invalid_auth"
        except evclient.AuthenticationError:
            errors["base"] = "invalid_auth"
        except evclient.InvalidInputError as err:
            _LOGGER.debug("login input refused: %s", err)
            errors["base"] = "invalid_input"
        except evclient.TemporaryError:
            errors["base"] = "cannot_connect"
        except evclient.EVClientError:
            _LOGGER.exception("unexpected answer while logging in")
            errors["base"] = "unknown"
        else:
            return await self._logged_in(account)
        return None

    async def _logged_in(self, account: evclient.Account) -> ConfigFlowResult:
        self._account = account
        if self._data.get(CONF_ACCOUNT_ID) is None:
            try:
                choices = await account.account_choices()
            except evclient.EVClientError:
                await self._drop_pending()
                return self.async_abort(reason="cannot_connect")
            if len(choices) > 1:
                self._choices = dict(choices)
                return await self.async_step_account()
            if choices:
                self._data[CONF_ACCOUNT_ID] = choices[0][0]
        return await self._finish()

    async def _finish(self) -> ConfigFlowResult:
        assert self._account is not None
        data = {**self._data, CONF_TOKENS: self._account.tokens}
        await self._drop_pending()
        if self.source == "reauth":
            return self.async_update_reload_and_abort(self._get_reauth_entry(), data_updates=data)
        if self.source == "reconfigure":
            return self.async_update_reload_and_abort(self._get_reconfigure_entry(), data_updates=data)
        brand = brand_spec(data[CONF_BRAND])
        return self.async_create_entry(title=f"{self._data[brand.identity]} ({brand.label})", data=data)

    async def _drop_pending(self) -> None:
        if self._device_task is not None and not self._device_task.done():
            self._device_task.cancel()
        self._device_task = None
        if self._device is not None:
            await self._device.close()
            self._device = None
        if self._challenge is not None:
            await self._challenge.close()
            self._challenge = None
        if self._account is not None:
            await self._account.close()  # evclient leaves Home Assistant's session open
            self._account = None

    @callback
    def async_remove(self) -> None:
        if self._challenge is not None or self._account is not None or self._device is not None:
            self.hass.async_create_task(self._drop_pending(), eager_start=True)
