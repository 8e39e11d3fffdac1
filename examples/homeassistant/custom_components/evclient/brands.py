"""What the integration knows of each evclient brand beyond what evclient declares: which commands back which
entity (buttons, selects, the lock, the actions).

The brand list, labels and login fields come from evclient's own declarations (``Brand.settings``), so a new
evclient brand is offered with its fields without a row here; a row only adds entities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import evclient
import evclient.brands
import evclient.settings
import voluptuous as vol
from homeassistant.helpers import selector

Command = tuple[str, dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ButtonSpec:
    """A button that runs one command with fixed parameters (named and drawn by its key's translation)."""

    key: str
    command: str
    params: Mapping[str, Any] = field(default_factory=dict)
    enabled_default: bool = True


@dataclass(frozen=True, kw_only=True)
class NumberSpec:
    """A number read from an endpoint's value and changed by a command that takes all of them at once."""

    key: str
    endpoint: str
    attribute: str
    command: str
    param: str
    #: The command's other parameters, from the same value: parameter → attribute.
    others: Mapping[str, str]
    minimum: float
    maximum: float
    step: float


@dataclass(frozen=True, kw_only=True)
class SelectSpec:
    """A select whose current option is an endpoint's value and whose change runs a command."""

    key: str
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
    buttons: tuple[ButtonSpec, ...] = ()
    selects: tuple[SelectSpec, ...] = ()
    numbers: tuple[NumberSpec, ...] = ()
    lock: tuple[str, str] | None = None  # (lock command, unlock command)
    ac_start: Callable[[float | None, dt.datetime | None], Command] | None = None
    ac_cancel: str | None = None
    charge_schedules: str | None = None
    ac_schedules: str | None = None
    #: Endpoints that hold the charge schedules, in the order to look (the kcm generation keeps them in ev-settings).
    schedule_endpoints: tuple[str, ...] = ()

    @property
    def settings(self) -> tuple[evclient.settings.Setting, ...]:
        """What evclient's brand declares it takes."""
        return evclient.brands.get(self.name).settings

    @property
    def identity(self) -> str:
        return evclient.brands.get(self.name).identity()

    def credentials_schema(self, defaults: Mapping[str, Any], *, advanced: bool = False) -> vol.Schema:
        """The login form, from the brand's declared settings."""
        return vol.Schema({_key(s, defaults): _field(s) for s in self.settings if advanced or not s.advanced})

    def asked_schema(self) -> vol.Schema:
        """The form re-authentication shows: the secrets that are asked for, never stored."""
        return vol.Schema({vol.Required(s.name): _field(s) for s in self.settings if not s.kept})


def _key(setting: evclient.settings.Setting, defaults: Mapping[str, Any]) -> Any:
    default = defaults.get(setting.name, setting.default)
    if setting.secret and not setting.kept:
        default = None  # a password is never shown again
    marker = vol.Required if setting.required else vol.Optional
    return marker(setting.name, default=vol.UNDEFINED if default is None else default)


def _field(setting: evclient.settings.Setting) -> Any:
    if setting.choices:
        return selector.SelectSelector(selector.SelectSelectorConfig(options=list(setting.choices),
                                                                     translation_key=setting.name))
    if setting.secret:
        return selector.TextSelector(selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD))
    return str


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
    buttons=(
        ButtonSpec(key="start_air_conditioner", command="hvac-start", params={"temperature": 21.0}),
        ButtonSpec(key="stop_air_conditioner", command="hvac-stop"),
        ButtonSpec(key="start_charge", command="charge-start"),
        ButtonSpec(key="stop_charge", command="charge-stop"),
        ButtonSpec(key="sound_horn", command="horn"),
        ButtonSpec(key="flash_lights", command="lights"),
        ButtonSpec(key="refresh_location", command="refresh-location"),
    ),
    selects=(
        SelectSpec(key="charge_mode", endpoint="charge-mode",
                   command="charge-mode", param="mode", options=("always_charging", "schedule_mode"),
                   current=_renault_charge_mode),
    ),
    numbers=(
        NumberSpec(key="charge_limit_min", endpoint="soc-levels", attribute="soc_min", command="set-soc-levels",
                   param="minimum", others={"target": "soc_target"}, minimum=15, maximum=45, step=5),
        NumberSpec(key="charge_limit_target", endpoint="soc-levels", attribute="soc_target",
                   command="set-soc-levels", param="target", others={"minimum": "soc_min"}, minimum=55, maximum=100,
                   step=5),
    ),
    ac_start=_renault_ac_start,
    ac_cancel="hvac-stop",
    charge_schedules="set-charge-schedules",
    ac_schedules="set-hvac-schedules",
    schedule_endpoints=("charging-settings", "ev-settings"),
)

RENAULT_ZE = BrandSpec(
    name="renault-ze",
    label="Renault ZE Services (older Zoe)",
    manufacturer="Renault",
    buttons=(
        ButtonSpec(key="start_air_conditioner", command="precondition"),
        ButtonSpec(key="start_charge", command="charge-now"),
    ),
    ac_start=_ze_ac_start,
)

BMW = BrandSpec(
    name="bmw",
    label="BMW ConnectedDrive",
    manufacturer="BMW",
    buttons=(
        ButtonSpec(key="start_climate", command="climate-now"),
        ButtonSpec(key="start_charge", command="charge-now"),
        ButtonSpec(key="flash_lights", command="light-flash"),
        ButtonSpec(key="sound_horn", command="horn-blow"),
        ButtonSpec(key="find_vehicle", command="vehicle-finder"),
    ),
    lock=("door-lock", "door-unlock"),
    ac_start=_bmw_ac_start,
)

_ROWS: dict[str, BrandSpec] = {spec.name: spec for spec in (RENAULT, RENAULT_ZE, BMW)}


def brand_spec(name: str) -> BrandSpec:
    """The integration's view of an evclient brand: its row, or one built from evclient's declarations."""
    brand = evclient.brands.get(name)
    row = _ROWS.get(name)
    if row is not None:
        return replace(row, label=brand.label())
    return BrandSpec(name=name, label=brand.label(), manufacturer=brand.manufacturer or brand.title or name)


def brand_names() -> list[str]:
    """Every evclient brand, current ones first (legacy brands are kept, and marked as such)."""
    found = evclient.brands.all_brands()
    return sorted(found, key=lambda name: (found[name].legacy is not None, name))
