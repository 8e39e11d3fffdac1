"""What the integration knows of each evclient brand: its login fields and which commands back which entity.

Everything else (endpoints, status fields, validation, quotas) comes from evclient itself, so a new brand
needs only a row here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import voluptuous as vol
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.helpers import selector

from .const import CONF_APP_KEY, CONF_APP_SECRET, CONF_LOCALE, CONF_REGION

Command = tuple[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ButtonSpec:
    """A button that runs one command with fixed parameters."""

    key: str
    command: str
    name: str
    icon: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class SelectSpec:
    """A select whose current option is an endpoint's value and whose change runs a command."""

    key: str
    name: str
    icon: str
    endpoint: str
    command: str
    param: str
    options: tuple[str, ...]
    current: Callable[[Any], str | None]


@dataclass(frozen=True, kw_only=True)
class BrandSpec:
    """One brand as the integration shows it."""

    name: str
    label: str
    manufacturer: str
    extra_fields: Mapping[Any, Any] = field(default_factory=dict)
    buttons: tuple[ButtonSpec, ...] = ()
    selects: tuple[SelectSpec, ...] = ()
    lock: tuple[str, str] | None = None  # (lock command, unlock command)
    ac_start: Callable[[float | None, dt.datetime | None], Command] | None = None
    ac_cancel: str | None = None
    charge_schedules: str | None = None
    ac_schedules: str | None = None

    def credentials_schema(self, defaults: Mapping[str, Any]) -> vol.Schema:
        fields: dict[Any, Any] = {
            vol.Required(CONF_USERNAME, default=defaults.get(CONF_USERNAME, vol.UNDEFINED)): str,
            vol.Required(CONF_PASSWORD): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
            ),
        }
        for key, value in self.extra_fields.items():
            fields[key] = value
        return vol.Schema(fields)


def _renault_ac_start(temperature: float | None, when: dt.datetime | None) -> Command:
    params: dict[str, Any] = {"temperature": 21.0 if temperature is None else temperature}
    if when is not None:
        params["at"] = when
    return "hvac-start", params


def _ze_ac_start(temperature: float | None, when: dt.datetime | None) -> Command:
    # ZE Services preconditions to the car's own set point and takes a time of day, not a date.
    if when is not None:
        return "precondition-at", {"start": when.strftime("%H:%M")}
    return "precondition", {}


def _bmw_ac_start(temperature: float | None, when: dt.datetime | None) -> Command:
    if when is not None:
        raise vol.Invalid("BMW climate starts now only; leave out 'when'")
    return "climate-now", {}


def _renault_charge_mode(value: Any) -> str | None:
    mode = getattr(value, "value", None)
    return {"always": "always_charging", "always_charging": "always_charging", "schedule_mode": "schedule_mode",
            "scheduled": "schedule_mode"}.get(mode) if isinstance(mode, str) else None


RENAULT = BrandSpec(
    name="renault",
    label="MyRenault (Renault, Dacia, Alpine)",
    manufacturer="Renault",
    extra_fields={vol.Required(CONF_LOCALE, default="fr_FR"): str},
    buttons=(
        ButtonSpec(key="start_air_conditioner", command="hvac-start", name="Start air conditioner",
                   icon="mdi:air-conditioner", params={"temperature": 21.0}),
        ButtonSpec(key="start_charge", command="charge-start", name="Start charge", icon="mdi:ev-station"),
        ButtonSpec(key="stop_charge", command="charge-stop", name="Stop charge", icon="mdi:ev-station"),
        ButtonSpec(key="sound_horn", command="horn", name="Sound horn", icon="mdi:bullhorn"),
        ButtonSpec(key="flash_lights", command="lights", name="Flash lights", icon="mdi:car-light-high"),
        ButtonSpec(key="refresh_location", command="refresh-location", name="Refresh location",
                   icon="mdi:crosshairs-gps"),
    ),
    selects=(
        SelectSpec(key="charge_mode", name="Charge mode", icon="mdi:calendar-clock", endpoint="charge-mode",
                   command="charge-mode", param="mode", options=("always_charging", "schedule_mode"),
                   current=_renault_charge_mode),
    ),
    ac_start=_renault_ac_start,
    ac_cancel="hvac-stop",
    charge_schedules="set-charge-schedules",
    ac_schedules="set-hvac-schedules",
)

RENAULT_ZE = BrandSpec(
    name="renault-ze",
    label="Renault ZE Services (older Zoe)",
    manufacturer="Renault",
    buttons=(
        ButtonSpec(key="start_air_conditioner", command="precondition", name="Start air conditioner",
                   icon="mdi:air-conditioner"),
        ButtonSpec(key="start_charge", command="charge-now", name="Start charge", icon="mdi:ev-station"),
    ),
    ac_start=_ze_ac_start,
)

BMW = BrandSpec(
    name="bmw",
    label="BMW ConnectedDrive",
    manufacturer="BMW",
    extra_fields={
        vol.Required(CONF_REGION, default="rest_of_world"): selector.SelectSelector(
            selector.SelectSelectorConfig(options=["rest_of_world", "usa", "china"], translation_key="region")
        ),
        vol.Required(CONF_APP_KEY): str,
        vol.Required(CONF_APP_SECRET): selector.TextSelector(
            selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
        ),
    },
    buttons=(
        ButtonSpec(key="start_climate", command="climate-now", name="Start climate", icon="mdi:air-conditioner"),
        ButtonSpec(key="start_charge", command="charge-now", name="Start charge", icon="mdi:ev-station"),
        ButtonSpec(key="flash_lights", command="light-flash", name="Flash lights", icon="mdi:car-light-high"),
        ButtonSpec(key="sound_horn", command="horn-blow", name="Sound horn", icon="mdi:bullhorn"),
        ButtonSpec(key="find_vehicle", command="vehicle-finder", name="Find vehicle", icon="mdi:crosshairs-gps"),
    ),
    lock=("door-lock", "door-unlock"),
    ac_start=_bmw_ac_start,
)

BRANDS: dict[str, BrandSpec] = {spec.name: spec for spec in (RENAULT, RENAULT_ZE, BMW)}
