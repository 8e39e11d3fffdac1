"""Constants of the evclient example integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "evclient"

CONF_BRAND: Final = "brand"
CONF_LOCALE: Final = "locale"
CONF_REGION: Final = "region"
CONF_ACCOUNT_ID: Final = "account_id"
CONF_APP_KEY: Final = "app_key"
CONF_APP_SECRET: Final = "app_secret"  # noqa: S105 - a field name
CONF_TOKENS: Final = "tokens"
CONF_CODE: Final = "code"
# Advanced: the base URL of an `evclient simulator` server, to try the integration without a car.
CONF_SIMULATOR: Final = "simulator_url"
# Kept across restarts so the hourly budget and the learnt command latencies survive them.
CONF_BUDGET_STATE: Final = "budget_state"
CONF_COMMAND_HISTORY: Final = "command_history"

ATTR_VEHICLE: Final = "vehicle"
ATTR_TEMPERATURE: Final = "temperature"
ATTR_WHEN: Final = "when"
ATTR_SCHEDULES: Final = "schedules"
ATTR_COMMAND: Final = "command"
ATTR_PARAMS: Final = "params"
