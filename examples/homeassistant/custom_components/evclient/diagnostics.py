"""Diagnostics download: evclient's own report, redacted by evclient."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from . import EVClientConfigEntry
from .const import CONF_APP_KEY, CONF_APP_SECRET, CONF_BRAND, CONF_LOCALE, CONF_REGION, CONF_SIMULATOR


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: EVClientConfigEntry) -> dict[str, Any]:
    kept = {k: entry.data.get(k) for k in (CONF_BRAND, CONF_LOCALE, CONF_REGION, CONF_SIMULATOR) if k in entry.data}
    return {
        "entry": {**kept, "has_app_key": CONF_APP_KEY in entry.data and CONF_APP_SECRET in entry.data},
        "account": await entry.runtime_data.account.diagnostics(),  # each car's status and endpoints, redacted
    }
