"""The car's last reported position."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import evclient
from homeassistant.components.device_tracker.config_entry import TrackerEntity
from homeassistant.components.device_tracker.const import SourceType
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .entity import StatusEntity, add_when_reported

PARALLEL_UPDATES = 0


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data

    def make(vin: str, status: evclient.VehicleStatus) -> Iterable[CarTracker]:
        if status.position is not None:
            yield CarTracker(coordinator, vin)

    entry.async_on_unload(add_when_reported(coordinator, add, make))


class CarTracker(StatusEntity, TrackerEntity):
    """Where the car last said it was."""

    _attr_translation_key = "location"

    def __init__(self, coordinator: Any, vin: str) -> None:
        super().__init__(coordinator, vin, "location", "position")

    @property
    def source_type(self) -> SourceType:
        return SourceType.GPS

    @property
    def latitude(self) -> float | None:
        position = self.reading
        return None if position is None else position.latitude

    @property
    def longitude(self) -> float | None:
        position = self.reading
        return None if position is None else position.longitude

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        position = self.reading
        return {} if position is None or position.heading is None else {"heading": position.heading}
