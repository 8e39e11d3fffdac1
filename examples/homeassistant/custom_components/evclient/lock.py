"""The door lock, where the brand has lock and unlock commands (BMW)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import evclient
from homeassistant.components.lock import LockEntity
from homeassistant.const import ATTR_CODE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .brands import brand_spec
from .commands import run_command
from .entity import StatusEntity, add_when_reported

PARALLEL_UPDATES = 1


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data
    commands = brand_spec(coordinator.account.brand.name).lock

    def make(vin: str, status: evclient.VehicleStatus) -> Iterable[DoorLock]:
        vehicle = coordinator.vehicles[vin]
        if commands is not None and status.locked is not None and set(commands) <= set(vehicle.commands):
            yield DoorLock(coordinator, vin, commands)

    entry.async_on_unload(add_when_reported(coordinator, add, make))


class DoorLock(StatusEntity, LockEntity):
    """Locks and unlocks the doors; the state is what the car last reported."""

    _attr_translation_key = "door_lock"

    def __init__(self, coordinator: Any, vin: str, commands: tuple[str, str]) -> None:
        super().__init__(coordinator, vin, "door_lock", "locked")
        self._lock_command, self._unlock_command = commands

    @property
    def is_locked(self) -> bool | None:
        value = self.reading
        return None if value is None else bool(value)

    async def async_lock(self, **kwargs: Any) -> None:
        await run_command(self.vehicle, self._lock_command, {})

    async def async_unlock(self, **kwargs: Any) -> None:
        # BMW asks for the answer to the account's security question: the lock's code carries it.
        params = {"security_answer": kwargs[ATTR_CODE]} if kwargs.get(ATTR_CODE) else {}
        await run_command(self.vehicle, self._unlock_command, params)
