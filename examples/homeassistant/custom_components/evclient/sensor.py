"""Sensors: battery, range, charge, odometer, fuel, temperatures and tyre pressures, from VehicleStatus."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import evclient
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfLength,
    UnitOfPower,
    UnitOfPressure,
    UnitOfTemperature,
    UnitOfTime,
    UnitOfVolume,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import EVClientConfigEntry
from .entity import EVClientEntity, StatusEntity, add_when_reported, healthy

# Entities only show what evclient's scheduler already holds: no update of their own, so no limit needed.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class StatusSensorDescription(SensorEntityDescription):
    """A sensor of one :class:`evclient.VehicleStatus` field (the same for every brand)."""

    field: str
    item: str | None = None


@dataclass(frozen=True, kw_only=True)
class EndpointSensorDescription(SensorEntityDescription):
    """A sensor of one attribute of one endpoint's value, where a brand's endpoint has it."""

    endpoint: str
    value: Callable[[Any], Any]


def _m(key: str, field: str, **kwargs: Any) -> StatusSensorDescription:
    return StatusSensorDescription(key=key, translation_key=key, field=field,
                                   state_class=SensorStateClass.MEASUREMENT, **kwargs)


SENSORS: tuple[StatusSensorDescription, ...] = (
    _m("battery_level", "battery_percent", device_class=SensorDeviceClass.BATTERY,
       native_unit_of_measurement=PERCENTAGE),
    _m("battery_autonomy", "range_km", device_class=SensorDeviceClass.DISTANCE,
       native_unit_of_measurement=UnitOfLength.KILOMETERS),
    StatusSensorDescription(key="charge_state", translation_key="charge_state", field="charge_state",
                            device_class=SensorDeviceClass.ENUM, options=[s.value for s in evclient.ChargeState]),
    StatusSensorDescription(key="plug_state", translation_key="plug_state", field="plug_state",
                            device_class=SensorDeviceClass.ENUM, options=[s.value for s in evclient.PlugState]),
    # Moves with every poll while charging: recorded history the owner rarely wants, off until asked for.
    _m("charging_power", "charge_power_kw", device_class=SensorDeviceClass.POWER,
       native_unit_of_measurement=UnitOfPower.KILO_WATT, entity_registry_enabled_default=False),
    _m("charging_remaining_time", "minutes_to_full", device_class=SensorDeviceClass.DURATION,
       native_unit_of_measurement=UnitOfTime.MINUTES),
    StatusSensorDescription(key="mileage", translation_key="mileage", field="odometer_km",
                            device_class=SensorDeviceClass.DISTANCE, state_class=SensorStateClass.TOTAL_INCREASING,
                            native_unit_of_measurement=UnitOfLength.KILOMETERS),
    _m("fuel_quantity", "fuel_litres", device_class=SensorDeviceClass.VOLUME_STORAGE,
       native_unit_of_measurement=UnitOfVolume.LITERS),
    _m("fuel_autonomy", "fuel_range_km", device_class=SensorDeviceClass.DISTANCE,
       native_unit_of_measurement=UnitOfLength.KILOMETERS),
    _m("inside_temperature", "inside_temperature_c", device_class=SensorDeviceClass.TEMPERATURE,
       native_unit_of_measurement=UnitOfTemperature.CELSIUS),
    _m("outside_temperature", "outside_temperature_c", device_class=SensorDeviceClass.TEMPERATURE,
       native_unit_of_measurement=UnitOfTemperature.CELSIUS),
    *(
        _m(f"{wheel}_tyre_pressure", "tyre_pressures_kpa", item=wheel, device_class=SensorDeviceClass.PRESSURE,
           native_unit_of_measurement=UnitOfPressure.KPA, entity_category=EntityCategory.DIAGNOSTIC)
        for wheel in ("front_left", "front_right", "rear_left", "rear_right")
    ),
)

def _last_activity(key: str, endpoint: str, attribute: str) -> EndpointSensorDescription:
    """When the car last reported an endpoint: a diagnostic, off by default (it moves with every report)."""
    return EndpointSensorDescription(
        key=key, translation_key=key, endpoint=endpoint, value=lambda v: getattr(v, attribute),
        device_class=SensorDeviceClass.TIMESTAMP, entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False)


#: What a brand's endpoints say beyond the common status (MyRenault's, as the core integration shows them).
ENDPOINT_SENSORS: tuple[EndpointSensorDescription, ...] = (
    EndpointSensorDescription(
        key="battery_temperature", translation_key="battery_temperature", endpoint="battery-status",
        value=lambda v: v.battery_temperature, device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT, native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        entity_category=EntityCategory.DIAGNOSTIC, entity_registry_enabled_default=False),
    EndpointSensorDescription(
        key="battery_available_energy", translation_key="battery_available_energy", endpoint="battery-status",
        value=lambda v: v.battery_available_energy, device_class=SensorDeviceClass.ENERGY_STORAGE,
        state_class=SensorStateClass.MEASUREMENT, native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR),
    _last_activity("battery_last_activity", "battery-status", "timestamp"),
    EndpointSensorDescription(
        key="hvac_soc_threshold", translation_key="hvac_soc_threshold", endpoint="hvac-status",
        value=lambda v: v.soc_threshold, native_unit_of_measurement=PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC),
    _last_activity("hvac_last_activity", "hvac-status", "last_update"),
    _last_activity("location_last_activity", "location", "last_update"),
)


def endpoint_reading(vehicle: evclient.Vehicle, description: EndpointSensorDescription) -> Any:
    value = vehicle.value(description.endpoint) if description.endpoint in vehicle.endpoints else None
    if value is None:
        return None
    try:
        return description.value(value)
    except AttributeError:  # another brand's endpoint of that name, without this attribute
        return None


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data

    def make(vin: str, status: evclient.VehicleStatus) -> Iterable[SensorEntity]:
        for description in SENSORS:
            value = getattr(status, description.field)
            if description.item is not None:
                value = value.get(description.item)
            if value is not None:
                yield StatusSensor(coordinator, vin, description)
        vehicle = coordinator.vehicles[vin]
        for extra in ENDPOINT_SENSORS:
            if endpoint_reading(vehicle, extra) is not None:
                yield EndpointSensor(coordinator, vin, extra)
        # Every car, a car added later too: the account's stream and its calls left (deduplicated by unique id).
        if coordinator.account.stream_state.supported:
            yield StreamSensor(coordinator, vin)
        yield CallsLeftSensor(coordinator, vin)

    entry.async_on_unload(add_when_reported(coordinator, add, make))


class StatusSensor(StatusEntity, SensorEntity):
    """One VehicleStatus field as a sensor."""

    entity_description: StatusSensorDescription

    def __init__(self, coordinator: Any, vin: str, description: StatusSensorDescription) -> None:
        super().__init__(coordinator, vin, description.key, description.field, description.item)
        self.entity_description = description

    @property
    def native_value(self) -> Any:
        value = self.reading
        return value.value if isinstance(value, evclient.ChargeState | evclient.PlugState) else value


class EndpointSensor(EVClientEntity, SensorEntity):
    """One attribute of one endpoint's value as a sensor."""

    entity_description: EndpointSensorDescription

    def __init__(self, coordinator: Any, vin: str, description: EndpointSensorDescription) -> None:
        super().__init__(coordinator, vin, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        endpoint = self.vehicle.endpoints.get(self.entity_description.endpoint)
        return self.coordinator.last_update_success and healthy(endpoint) and self.native_value is not None

    @property
    def native_value(self) -> Any:
        return endpoint_reading(self.vehicle, self.entity_description)


class StreamSensor(EVClientEntity, SensorEntity):
    """The account's stream (BMW CarData's MQTT): connected, reconnecting, or not available — for diagnostics."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "stream"

    def __init__(self, coordinator: Any, vin: str) -> None:
        super().__init__(coordinator, vin, "stream")
        self._attr_options = ["connected", "disconnected", "not_available"]

    @property
    def available(self) -> bool:
        return True  # the stream's state is news even when the car's values are not

    @property
    def native_value(self) -> str:
        state = self.coordinator.account.stream_state
        if not state.available:
            return "not_available"
        return "connected" if state.connected else "disconnected"

    # Counters that move with every message would make a recorder row each time: kept out of the history.
    _unrecorded_attributes = frozenset({"messages", "reconnects", "last_error", "connected_since"})

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        state = self.coordinator.account.stream_state
        return {"messages": state.messages, "reconnects": state.reconnects, "last_error": state.last_error,
                "connected_since": state.connected_since}


class CallsLeftSensor(EVClientEntity, SensorEntity):
    """How many requests the account may still make to its car server now (the tightest of the windows its polls
    share: for BMW CarData the 50 a day), with each window's figures and when the next call frees — what CarData
    owners ask for most after the stream. It sends nothing: the figures are the account's own."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "calls_left"
    _attr_state_class = SensorStateClass.MEASUREMENT
    _unrecorded_attributes = frozenset({"windows", "paused_until"})

    def __init__(self, coordinator: Any, vin: str) -> None:
        super().__init__(coordinator, vin, "calls_left")

    @property
    def available(self) -> bool:
        return True  # the budget is the account's, whatever the car's values

    def _windows(self) -> list[Any]:
        account = self.coordinator.account
        polled = {w.name for w in account.scheduler.windows_for(account.brand.poll_server)}
        return [w for w in account.budget.windows if w.name in polled]

    @property
    def native_value(self) -> int | None:
        windows = self._windows()
        return min((w.left for w in windows), default=None)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        account = self.coordinator.account
        wall = account.clock.wall()
        figures = account.budget

        def at(seconds: float | None) -> str | None:
            return None if seconds is None else dt.datetime.fromtimestamp(wall + seconds, dt.UTC).isoformat()

        return {
            "windows": {w.name: {"used": w.used, "limit": w.limit, "left": w.left, "hours": w.seconds / 3600,
                                 "next_free": at(w.next_free_s)} for w in self._windows()},
            "paused_until": {server: at(left) for server, left in figures.pauses.items()},
        }
