"""The base of every evclient entity: one car's device, availability from its endpoints' health."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import evclient
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .brands import brand_spec
from .const import DOMAIN
from .coordinator import EVClientCoordinator


def healthy(endpoint: evclient.Endpoint[Any] | None) -> bool:
    """Whether an endpoint's value can be shown.

    A quota pause is evclient being polite, not the car going away: the last value stays on show.
    """
    if endpoint is None or endpoint.value is None:
        return False
    return endpoint.last_error is None or isinstance(endpoint.last_error, evclient.RateLimited)


class EVClientEntity(CoordinatorEntity[EVClientCoordinator]):
    """An entity of one car."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: EVClientCoordinator, vin: str, key: str) -> None:
        super().__init__(coordinator)
        self.vin = vin
        vehicle = coordinator.vehicles[vin]
        brand = brand_spec(coordinator.account.brand.name)
        self._attr_unique_id = f"{vin}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, vin)},
            manufacturer=brand.manufacturer,
            model=vehicle.model,
            name=vehicle.name or vehicle.model or f"{brand.manufacturer} {vin[-4:]}",
            serial_number=vin,
        )

    @property
    def vehicle(self) -> evclient.Vehicle:
        return self.coordinator.vehicles[self.vin]

    @property
    def status(self) -> evclient.VehicleStatus:
        return (self.coordinator.data or {}).get(self.vin) or evclient.VehicleStatus()


class StatusEntity(EVClientEntity):
    """An entity showing one :class:`evclient.VehicleStatus` field, or one ``item`` of a mapping field."""

    def __init__(
        self, coordinator: EVClientCoordinator, vin: str, key: str, field: str, item: str | None = None
    ) -> None:
        super().__init__(coordinator, vin, key)
        self.field = field
        self.item = item

    @property
    def reading(self) -> Any:
        value = getattr(self.status, self.field)
        if self.item is not None:
            return None if value is None else value.get(self.item)
        return value

    @property
    def available(self) -> bool:
        if not self.coordinator.last_update_success or self.reading is None:
            return False
        source = self.status.sources.get(self.field)
        return source is not None and healthy(self.vehicle.endpoints.get(source))


def add_when_reported(
    coordinator: EVClientCoordinator,
    add: AddEntitiesCallback,
    make: Callable[[str, evclient.VehicleStatus], Iterable[Entity]],
) -> Callable[[], None]:
    """Add each car's entities for the fields it reports, now and whenever a car reports a new one.

    Entities appear only where the data exists: a Zoe gets no fuel gauge, a BMW i3 no tyre pressures.
    """
    added: set[str | None] = set()

    @callback
    def add_new() -> None:
        fresh = []
        for vin, status in (coordinator.data or {}).items():
            for entity in make(vin, status):
                if entity.unique_id not in added:
                    added.add(entity.unique_id)
                    fresh.append(entity)
        if fresh:
            add(fresh)

    add_new()
    return coordinator.async_add_listener(add_new)
