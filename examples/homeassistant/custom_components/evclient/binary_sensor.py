"""Binary sensors: plugged in, charging, locked, climate and each door, window, hatch, hood and trunk."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import evclient
from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .entity import StatusEntity, add_when_reported


@dataclass(frozen=True, kw_only=True)
class StatusBinaryDescription(BinarySensorEntityDescription):
    field: str
    item: str | None = None
    is_on: Callable[[Any], bool] = bool


BINARY_SENSORS: tuple[StatusBinaryDescription, ...] = (
    StatusBinaryDescription(key="plugged_in", field="plug_state", name="Plugged in",
                            device_class=BinarySensorDeviceClass.PLUG,
                            is_on=lambda v: v is evclient.PlugState.PLUGGED),
    StatusBinaryDescription(key="charging", field="charge_state", name="Charging",
                            device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
                            is_on=lambda v: v is evclient.ChargeState.CHARGING),
    # Home Assistant's lock class is "on" when unlocked.
    StatusBinaryDescription(key="locked", field="locked", name="Lock", device_class=BinarySensorDeviceClass.LOCK,
                            is_on=lambda v: not v),
    StatusBinaryDescription(key="hvac_status", field="climate_on", name="HVAC",
                            device_class=BinarySensorDeviceClass.RUNNING),
)


def opening_description(name: str) -> StatusBinaryDescription:
    kind = name.split("_", 1)[0]
    device_class = {"door": BinarySensorDeviceClass.DOOR, "window": BinarySensorDeviceClass.WINDOW}.get(
        kind, BinarySensorDeviceClass.OPENING)
    return StatusBinaryDescription(key=f"{name}_status", field="openings", item=name,
                                   name=name.replace("_", " ").capitalize(), device_class=device_class)


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data

    def make(vin: str, status: evclient.VehicleStatus) -> Iterable[StatusBinarySensor]:
        for description in BINARY_SENSORS:
            if getattr(status, description.field) is not None:
                yield StatusBinarySensor(coordinator, vin, description)
        for name in status.openings:
            yield StatusBinarySensor(coordinator, vin, opening_description(name))

    entry.async_on_unload(add_when_reported(coordinator, add, make))


class StatusBinarySensor(StatusEntity, BinarySensorEntity):
    """One VehicleStatus field (or one opening) as a binary sensor."""

    entity_description: StatusBinaryDescription

    def __init__(self, coordinator: Any, vin: str, description: StatusBinaryDescription) -> None:
        super().__init__(coordinator, vin, description.key, description.field, description.item)
        self.entity_description = description

    @property
    def is_on(self) -> bool | None:
        value = self.reading
        return None if value is None else self.entity_description.is_on(value)
