"""The door lock, for every car that can lock and unlock (legacy BMW today)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import evclient
from evclient.actions import Lock, Unlock
from homeassistant.components.lock import LockEntity
from homeassistant.const import ATTR_CODE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .commands import make_action, run_command
from .entity import StatusEntity, add_when_reported

PARALLEL_UPDATES = 1


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data

    def make(vin: str, status: evclient.VehicleStatus) -> Iterable[DoorLock]:
        vehicle = coordinator.vehicles[vin]
        if status.locked is not None and vehicle.can(Lock) and vehicle.can(Unlock):
            yield DoorLock(coordinator, vin)

    entry.async_on_unload(add_when_reported(coordinator, add, make))


class DoorLock(StatusEntity, LockEntity):
    """Locks and unlocks the doors; the state is what the car last reported."""

    _attr_translation_key = "door_lock"

    def __init__(self, coordinator: Any, vin: str) -> None:
        super().__init__(coordinator, vin, "door_lock", "locked")

    @property
    def is_locked(self) -> bool | None:
        value = self.reading
        return None if value is None else bool(value)

    async def async_lock(self, **kwargs: Any) -> None:
        await run_command(self.vehicle, Lock())

    async def async_unlock(self, **kwargs: Any) -> None:
        # A brand may ask for a code to unlock (BMW: the answer to the account's security question).
        await run_command(self.vehicle, make_action("unlock", {"code": kwargs.get(ATTR_CODE) or None}))
