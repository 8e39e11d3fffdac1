"""Buttons: each remote command that takes no choice (start A/C, start / stop charge, horn, lights …)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .brands import ButtonSpec, brand_spec
from .commands import run_command
from .entity import EVClientEntity, add_when_reported

# A command holds the car's command channel until the car answers: one at a time per platform.
PARALLEL_UPDATES = 1


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data
    brand = brand_spec(coordinator.account.brand.name)

    def make(vin: str, _status: Any) -> Iterable[CommandButton]:
        commands = coordinator.vehicles[vin].commands
        for spec in brand.buttons:
            if spec.command in commands:
                yield CommandButton(coordinator, vin, spec)

    entry.async_on_unload(add_when_reported(coordinator, add, make))


class CommandButton(EVClientEntity, ButtonEntity):
    """Runs one command; the press returns once the car has carried it out."""

    def __init__(self, coordinator: Any, vin: str, spec: ButtonSpec) -> None:
        super().__init__(coordinator, vin, spec.key)
        self.spec = spec
        self._attr_translation_key = spec.key
        self._attr_entity_registry_enabled_default = spec.enabled_default

    async def async_press(self) -> None:
        await run_command(self.vehicle, self.spec.command, dict(self.spec.params))
