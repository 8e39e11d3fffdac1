"""Binary sensors: plugged in, charging, locked, climate and each door, window, hatch, hood and trunk."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class StatusBinaryDescription(BinarySensorEntityDescription):
    field: str
    item: str | None = None
    is_on: Callable[[Any], bool] = bool
    translation_placeholders: Mapping[str, str] | None = None


BINARY_SENSORS: tuple[StatusBinaryDescription, ...] = (
    StatusBinaryDescription(key="plugged_in", translation_key="plugged_in", field="plug_state",
                            device_class=BinarySensorDeviceClass.PLUG,
                            is_on=lambda v: v is evclient.PlugState.PLUGGED),
    StatusBinaryDescription(key="charging", translation_key="charging", field="charge_state",
                            device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
                            is_on=lambda v: v is evclient.ChargeState.CHARGING),
    # Home Assistant's lock class is "on" when unlocked.
    StatusBinaryDescription(key="locked", translation_key="locked", field="locked",
                            device_class=BinarySensorDeviceClass.LOCK, is_on=lambda v: not v),
    StatusBinaryDescription(key="hvac_status", translation_key="hvac_status", field="climate_on",
                            device_class=BinarySensorDeviceClass.RUNNING),
)
#: Every opening evclient's brands name (a door, window, lid); each has its own translated name.
OPENINGS = (
    "door_front_left", "door_front_right", "door_rear_left", "door_rear_right", "window_front_left",
    "window_front_right", "window_rear_left", "window_rear_right", "trunk", "hood", "hatch", "rear_window", "roof",
    "sunroof",
)


def opening_description(name: str) -> StatusBinaryDescription:
    kind = name.split("_", 1)[0]
    device_class = {"door": BinarySensorDeviceClass.DOOR, "window": BinarySensorDeviceClass.WINDOW}.get(
        kind, BinarySensorDeviceClass.OPENING)
    # A part a future brand names that has no translation yet gets the generic name with its own word in it.
    known = name in OPENINGS
    return StatusBinaryDescription(
        key=f"{name}_status", translation_key=f"{name}_status" if known else "opening", field="openings",
        item=name, device_class=device_class,
        translation_placeholders=None if known else {"part": name.replace("_", " ")})


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
        if description.translation_placeholders is not None:
            self._attr_translation_placeholders = dict(description.translation_placeholders)

    @property
    def is_on(self) -> bool | None:
        value = self.reading
        return None if value is None else self.entity_description.is_on(value)
