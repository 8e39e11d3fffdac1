"""Selects: settings with a few values, read from an endpoint and changed by a command (charge mode)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .brands import SelectSpec, brand_spec
from .commands import run_command
from .entity import EVClientEntity, add_setting_entities, healthy

PARALLEL_UPDATES = 1


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data
    brand = brand_spec(coordinator.account.brand.name)

    entry.async_on_unload(add_setting_entities(
        coordinator, add, brand.selects, lambda vin, spec: CommandSelect(coordinator, vin, spec)))


class CommandSelect(EVClientEntity, SelectEntity):
    """A setting shown from its endpoint and changed through its command."""

    def __init__(self, coordinator: Any, vin: str, spec: SelectSpec) -> None:
        super().__init__(coordinator, vin, spec.key)
        self.spec = spec
        self._attr_translation_key = spec.key
        self._attr_options = list(spec.options)

    @property
    def available(self) -> bool:
        return self.coordinator.last_update_success and healthy(self.vehicle.endpoints.get(self.spec.endpoint))

    @property
    def current_option(self) -> str | None:
        return self.spec.current(self.vehicle.value(self.spec.endpoint))

    async def async_select_option(self, option: str) -> None:
        await run_command(self.vehicle, self.spec.command, {self.spec.param: option})
