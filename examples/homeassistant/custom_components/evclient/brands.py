"""What the integration knows of an evclient brand beyond what evclient declares: the MyRenault values that are
not yet in evclient's typed vocabulary (the charge-limit numbers, the charge-mode select, the schedules).

The brand list, labels and login fields come from evclient's own declarations (``Brand.settings``); the buttons,
the lock and the A/C actions from its typed actions (``car.can(...)``), the same for every brand. So a new evclient
brand is offered with its fields and entities without a row here; a row only adds entities.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import evclient
import evclient.brands
import evclient.settings
import voluptuous as vol
from homeassistant.helpers import selector


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
    selects: tuple[SelectSpec, ...] = ()
    numbers: tuple[NumberSpec, ...] = ()
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


def _renault_charge_mode(value: Any) -> str | None:
    mode = getattr(value, "value", None)
    return {"always": "always_charging", "always_charging": "always_charging", "schedule_mode": "schedule_mode",
            "scheduled": "schedule_mode"}.get(mode) if isinstance(mode, str) else None


RENAULT = BrandSpec(
    name="renault",
    label="MyRenault (Renault, Dacia, Alpine)",
    manufacturer="Renault",
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
    charge_schedules="set-charge-schedules",
    ac_schedules="set-hvac-schedules",
    schedule_endpoints=("charging-settings", "ev-settings"),
)

_ROWS: dict[str, BrandSpec] = {spec.name: spec for spec in (RENAULT,)}


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
