"""Buttons: each typed action that takes no choice (start / stop A/C, start / stop charge, horn, lights, locate),
for every car that can run it, whatever its brand."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from evclient.actions import Action, ChargeStart, ChargeStop, ClimateStart, ClimateStop, Flash, Horn, Locate
from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .commands import run_command
from .entity import EVClientEntity, add_when_reported

# A command holds the car's command channel until the car answers: one at a time per platform.
PARALLEL_UPDATES = 1

#: Each button's key (its name and icon by translation) and the action it runs.
BUTTONS: tuple[tuple[str, Action], ...] = (
    ("start_air_conditioner", ClimateStart()),
    ("stop_air_conditioner", ClimateStop()),
    ("start_charge", ChargeStart()),
    ("stop_charge", ChargeStop()),
    ("sound_horn", Horn()),
    ("flash_lights", Flash()),
    ("refresh_location", Locate()),
)


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data

    def make(vin: str, _status: Any) -> Iterable[CommandButton]:
        vehicle = coordinator.vehicles[vin]
        for key, action in BUTTONS:
            if vehicle.can(action):
                yield CommandButton(coordinator, vin, key, action)

    entry.async_on_unload(add_when_reported(coordinator, add, make))


class CommandButton(EVClientEntity, ButtonEntity):
    """Runs one action; the press returns once the car has carried it out."""

    def __init__(self, coordinator: Any, vin: str, key: str, action: Action) -> None:
        super().__init__(coordinator, vin, key)
        self.action = action
        self._attr_translation_key = key

    async def async_press(self) -> None:
        await run_command(self.vehicle, self.action)
