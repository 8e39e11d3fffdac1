"""An evclient brand as the integration shows it, all from evclient's own declarations: the brand list, labels
and login fields (``Brand.settings``). The entities and actions come from evclient's typed vocabulary
(``VehicleStatus``, ``car.can(...)``, ``car.ranges(...)``), the same for every brand: a new evclient brand is
offered with its fields and entities without a line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import evclient
import evclient.brands
import evclient.settings
import voluptuous as vol
from homeassistant.helpers import selector


@dataclass(frozen=True, kw_only=True)
class BrandSpec:
    """One brand as the integration shows it."""

    name: str
    label: str
    manufacturer: str

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


def brand_spec(name: str) -> BrandSpec:
    """The integration's view of an evclient brand, from evclient's declarations."""
    brand = evclient.brands.get(name)
    return BrandSpec(name=name, label=brand.label(), manufacturer=brand.manufacturer or brand.title or name)


def brand_names() -> list[str]:
    """Every evclient brand, current ones first (legacy brands are kept, and marked as such)."""
    found = evclient.brands.all_brands()
    return sorted(found, key=lambda name: (found[name].legacy is not None, name))
