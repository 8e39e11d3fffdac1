"""Sensors: battery, range, charge, odometer, fuel, temperatures and tyre pressures, from VehicleStatus."""

from __future__ import annotations

from collections.abc import Iterable
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
from .entity import EVClientEntity, StatusEntity, add_when_reported


@dataclass(frozen=True, kw_only=True)
class StatusSensorDescription(SensorEntityDescription):
    field: str
    item: str | None = None


def _m(key: str, field: str, **kwargs: Any) -> StatusSensorDescription:
    return StatusSensorDescription(key=key, field=field, state_class=SensorStateClass.MEASUREMENT, **kwargs)


SENSORS: tuple[StatusSensorDescription, ...] = (
    _m("battery_level", "battery_percent", name="Battery", device_class=SensorDeviceClass.BATTERY,
       native_unit_of_measurement=PERCENTAGE),
    _m("battery_autonomy", "range_km", name="Battery autonomy", device_class=SensorDeviceClass.DISTANCE,
       native_unit_of_measurement=UnitOfLength.KILOMETERS),
    StatusSensorDescription(key="charge_state", field="charge_state", name="Charge state",
                            device_class=SensorDeviceClass.ENUM, options=[s.value for s in evclient.ChargeState]),
    StatusSensorDescription(key="plug_state", field="plug_state", name="Plug state",
                            device_class=SensorDeviceClass.ENUM, options=[s.value for s in evclient.PlugState]),
    _m("charging_power", "charge_power_kw", name="Admissible charging power", device_class=SensorDeviceClass.POWER,
       native_unit_of_measurement=UnitOfPower.KILO_WATT),
    _m("charging_remaining_time", "minutes_to_full", name="Charging remaining time",
       device_class=SensorDeviceClass.DURATION, native_unit_of_measurement=UnitOfTime.MINUTES),
    StatusSensorDescription(key="mileage", field="odometer_km", name="Mileage", device_class=SensorDeviceClass.DISTANCE,
                            state_class=SensorStateClass.TOTAL_INCREASING,
                            native_unit_of_measurement=UnitOfLength.KILOMETERS),
    _m("fuel_quantity", "fuel_litres", name="Fuel quantity", device_class=SensorDeviceClass.VOLUME_STORAGE,
       native_unit_of_measurement=UnitOfVolume.LITERS),
    _m("fuel_autonomy", "fuel_range_km", name="Fuel autonomy", device_class=SensorDeviceClass.DISTANCE,
       native_unit_of_measurement=UnitOfLength.KILOMETERS),
    _m("inside_temperature", "inside_temperature_c", name="Inside temperature",
       device_class=SensorDeviceClass.TEMPERATURE, native_unit_of_measurement=UnitOfTemperature.CELSIUS),
    _m("outside_temperature", "outside_temperature_c", name="Outside temperature",
       device_class=SensorDeviceClass.TEMPERATURE, native_unit_of_measurement=UnitOfTemperature.CELSIUS),
    *(
        _m(f"{wheel}_tyre_pressure", "tyre_pressures_kpa", item=wheel, name=f"{wheel.replace('_', ' ').capitalize()} "
           "tyre pressure", device_class=SensorDeviceClass.PRESSURE, native_unit_of_measurement=UnitOfPressure.KPA,
           entity_category=EntityCategory.DIAGNOSTIC)
        for wheel in ("front_left", "front_right", "rear_left", "rear_right")
    ),
)


async def async_setup_entry(hass: HomeAssistant, entry: EVClientConfigEntry, add: AddEntitiesCallback) -> None:
    coordinator = entry.runtime_data

    def make(vin: str, status: evclient.VehicleStatus) -> Iterable[StatusSensor]:
        for description in SENSORS:
            value = getattr(status, description.field)
            if description.item is not None:
                value = value.get(description.item)
            if value is not None:
                yield StatusSensor(coordinator, vin, description)

    entry.async_on_unload(add_when_reported(coordinator, add, make))
    if coordinator.account.stream_state.supported:
        add(StreamSensor(coordinator, vin) for vin in coordinator.vehicles)


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


class StreamSensor(EVClientEntity, SensorEntity):
    """The account's stream (BMW CarData's MQTT): connected, reconnecting, or not available — for diagnostics."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_name = "Stream"

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

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        state = self.coordinator.account.stream_state
        return {"messages": state.messages, "reconnects": state.reconnects, "last_error": state.last_error,
                "connected_since": state.connected_since}
