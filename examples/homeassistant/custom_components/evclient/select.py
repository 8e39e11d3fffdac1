"""Selects: the charge mode (charge whenever plugged in, or by the schedules), for every car that can switch it,
whatever its brand. The options keep the names of Home Assistant's Renault integration."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import evclient
from evclient.actions import ChargeMode, ChargingMode
from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .commands import run_command
from .entity import EVClientEntity, add_when_reported, healthy

PARALLEL_UPDATES = 1

OPTIONS = {ChargingMode.ALWAYS: "always_charging", ChargingMode.SCHEDULED: "schedule_mode"}


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data

    def make(vin: str, status: evclient.VehicleStatus) -> Iterable[ChargeModeSelect]:
        if coordinator.vehicles[vin].can(ChargeMode) and status.charging_mode is not None:
            yield ChargeModeSelect(coordinator, vin)

    entry.async_on_unload(add_when_reported(coordinator, add, make))


class ChargeModeSelect(EVClientEntity, SelectEntity):
    """The charge mode, shown from the car's status and changed by the typed action."""

    _attr_translation_key = "charge_mode"

    def __init__(self, coordinator: Any, vin: str) -> None:
        super().__init__(coordinator, vin, "charge_mode")
        self._attr_options = list(OPTIONS.values())

    @property
    def available(self) -> bool:
        source = self.vehicle.status.sources.get("charging_mode")
        return self.coordinator.last_update_success and healthy(self.vehicle.endpoints.get(source or ""))

    @property
    def current_option(self) -> str | None:
        mode = self.vehicle.status.charging_mode
        return None if mode is None else OPTIONS[mode]

    async def async_select_option(self, option: str) -> None:
        mode = next(mode for mode, name in OPTIONS.items() if name == option)
        await run_command(self.vehicle, ChargeMode(mode=mode))
