"""Numbers: settings read from an endpoint and changed by a command (MyRenault's minimum and target charge)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .brands import NumberSpec, brand_spec
from .commands import run_command
from .entity import EVClientEntity, add_setting_entities, healthy

PARALLEL_UPDATES = 1


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data
    brand = brand_spec(coordinator.account.brand.name)

    entry.async_on_unload(add_setting_entities(
        coordinator, add, brand.numbers, lambda vin, spec: CommandNumber(coordinator, vin, spec)))


class CommandNumber(EVClientEntity, NumberEntity):
    """One level of a setting; changing it posts the whole setting with the others as the car has them."""

    _attr_device_class = NumberDeviceClass.BATTERY
    _attr_entity_category = EntityCategory.CONFIG
    _attr_mode = NumberMode.SLIDER
    _attr_native_unit_of_measurement = PERCENTAGE

    def __init__(self, coordinator: Any, vin: str, spec: NumberSpec) -> None:
        super().__init__(coordinator, vin, spec.key)
        self.spec = spec
        self._attr_translation_key = spec.key
        self._attr_native_min_value = spec.minimum
        self._attr_native_max_value = spec.maximum
        self._attr_native_step = spec.step

    @property
    def available(self) -> bool:
        return self.coordinator.last_update_success and healthy(self.vehicle.endpoints.get(self.spec.endpoint))

    @property
    def native_value(self) -> float | None:
        value = self.vehicle.value(self.spec.endpoint)
        return None if value is None else float(getattr(value, self.spec.attribute))

    async def async_set_native_value(self, value: float) -> None:
        current = self.vehicle.value(self.spec.endpoint)
        params: dict[str, Any] = {self.spec.param: int(value)}
        params.update({param: getattr(current, attribute) for param, attribute in self.spec.others.items()})
        await run_command(self.vehicle, self.spec.command, params)
        self.async_write_ha_state()
