"""Numbers: the charge limits (minimum and target %), for every car that can set them, whatever its brand; the
slider's bounds are the brand's own (``Vehicle.ranges``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import evclient
from evclient.actions import ChargeLimits
from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .commands import run_command
from .entity import EVClientEntity, add_when_reported, healthy

PARALLEL_UPDATES = 1

#: Each number's key, the action's value it sets and the status field it shows; the other is sent as the car has it.
LIMITS = (("charge_limit_min", "minimum", "charge_limit_min_percent"),
          ("charge_limit_target", "target", "charge_target_percent"))


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data

    def make(vin: str, status: evclient.VehicleStatus) -> Iterable[LimitNumber]:
        vehicle = coordinator.vehicles[vin]
        if vehicle.can(ChargeLimits):
            for key, value, field in LIMITS:
                if getattr(status, field) is not None:
                    yield LimitNumber(coordinator, vin, key, value, field)

    entry.async_on_unload(add_when_reported(coordinator, add, make))


class LimitNumber(EVClientEntity, NumberEntity):
    """One charge limit; changing it sends both, the other as the car has it."""

    _attr_device_class = NumberDeviceClass.BATTERY
    _attr_entity_category = EntityCategory.CONFIG
    _attr_mode = NumberMode.SLIDER
    _attr_native_unit_of_measurement = PERCENTAGE

    def __init__(self, coordinator: Any, vin: str, key: str, value: str, field: str) -> None:
        super().__init__(coordinator, vin, key)
        self._value, self._field = value, field
        self._attr_translation_key = key
        bounds = self.vehicle.ranges(ChargeLimits).get(value)
        self._attr_native_min_value = 0 if bounds is None else bounds.low
        self._attr_native_max_value = 100 if bounds is None else bounds.high
        self._attr_native_step = 1 if bounds is None or bounds.step is None else bounds.step

    @property
    def available(self) -> bool:
        source = self.vehicle.status.sources.get(self._field)
        return self.coordinator.last_update_success and healthy(self.vehicle.endpoints.get(source or ""))

    @property
    def native_value(self) -> float | None:
        value = getattr(self.vehicle.status, self._field)
        return None if value is None else float(value)

    async def async_set_native_value(self, value: float) -> None:
        status = self.vehicle.status
        limits = {"minimum": status.charge_limit_min_percent, "target": status.charge_target_percent,
                  self._value: value}
        await run_command(self.vehicle, ChargeLimits(**{k: None if v is None else int(v) for k, v in limits.items()}))
        self.async_write_ha_state()
