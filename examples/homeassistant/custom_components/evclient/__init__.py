"""evclient for Home Assistant: Renault (MyRenault, ZE Services) and BMW cars, polled politely.

Built only on evclient's public API: ``evclient.connect`` with the stored tokens (never the password),
``account.subscribe`` for pushed updates, ``vehicle.command`` for the buttons and actions, and
``account.diagnostics`` for the diagnostics download.
"""

from __future__ import annotations

from typing import Any

import evclient
import evclient.brands
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_BRAND,
    CONF_BUDGET_STATE,
    CONF_COMMAND_HISTORY,
    CONF_SIMULATOR,
    CONF_TOKENS,
    DOMAIN,
)
from .coordinator import EVClientCoordinator, clear_issues, refresh_error, remove_stale_devices
from .services import async_setup_services

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.DEVICE_TRACKER,
    Platform.LOCK,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

type EVClientConfigEntry = ConfigEntry[EVClientCoordinator]


def connect_args(data: dict[str, Any]) -> dict[str, Any]:
    """``evclient.connect`` keyword arguments from an entry's (or a flow's) data, without the secrets."""
    brand = evclient.brands.get(data[CONF_BRAND])
    # What the brand declares an application keeps (never a secret it can ask for again).
    args: dict[str, Any] = {s.name: data[s.name] for s in brand.settings if s.kept and data.get(s.name) is not None}
    if data.get(CONF_SIMULATOR):
        from evclient.simulator.server import servers_for

        args["servers"] = servers_for(data[CONF_BRAND], data[CONF_SIMULATOR])
    return args


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry) -> bool:
    data = dict(entry.data)
    budget = evclient.Budget(state=data.get(CONF_BUDGET_STATE))
    try:
        account = await evclient.connect(
            data[CONF_BRAND],
            session=async_get_clientsession(hass),
            tokens=data[CONF_TOKENS],
            budget=budget,
            command_history=data.get(CONF_COMMAND_HISTORY),
            **connect_args(data),
        )
    except evclient.EVClientError as err:
        if isinstance(err, evclient.TwoFactorRequired):
            await err.challenge.close()
        failure = refresh_error(hass, entry, err)
        if isinstance(failure, ConfigEntryAuthFailed):
            raise failure from err
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="cannot_connect",
                                  translation_placeholders={"error": str(err)}) from err

    coordinator = EVClientCoordinator(hass, entry, account)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await account.close()
        raise
    entry.runtime_data = coordinator
    clear_issues(hass, entry)
    remove_stale_devices(hass, entry, set(coordinator.vehicles))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await coordinator.async_start()
    return True


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EVClientConfigEntry, device: dr.DeviceEntry
) -> bool:
    """The owner may delete a car's device only once the account no longer lists that car."""
    vins = set(entry.runtime_data.vehicles)
    return not any(domain == DOMAIN and ident in vins for domain, ident in device.identifiers)


async def async_unload_entry(hass: HomeAssistant, entry: EVClientConfigEntry) -> bool:
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
