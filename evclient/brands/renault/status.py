"""MyRenault endpoints → :class:`~evclient.status.VehicleStatus`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...endpoint import Endpoint
from ...status import ChargeState, GeoPosition, PlugState, StatusParts, VehicleStatus, minutes, when
from . import models

CHARGE_STATES = {
    models.ChargeState.NOT_IN_CHARGE: ChargeState.NOT_CHARGING,
    models.ChargeState.WAITING_FOR_A_PLANNED_CHARGE: ChargeState.WAITING,
    models.ChargeState.CHARGE_ENDED: ChargeState.COMPLETE,
    models.ChargeState.WAITING_FOR_CURRENT_CHARGE: ChargeState.WAITING,
    models.ChargeState.ENERGY_FLAP_OPENED: ChargeState.NOT_CHARGING,
    models.ChargeState.CHARGE_IN_PROGRESS: ChargeState.CHARGING,
    models.ChargeState.CHARGE_ERROR: ChargeState.ERROR,
    models.ChargeState.V2L_IN_PROGRESS: ChargeState.DISCHARGING,
    models.ChargeState.V2G_IN_PROGRESS: ChargeState.DISCHARGING,
}
PLUG_STATES = {models.PlugState.PLUGGED: PlugState.PLUGGED, models.PlugState.UNPLUGGED: PlugState.UNPLUGGED}
DOORS = {"rearleft": "door_rear_left", "rearright": "door_rear_right", "driver": "door_front_left",
         "passenger": "door_front_right"}
TYRES = {"fl": "front_left", "fr": "front_right", "rl": "rear_left", "rr": "rear_right"}


def vehicle_status(endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
    parts = StatusParts()

    def value(name: str) -> tuple[Any, Endpoint[Any] | None]:
        endpoint = endpoints.get(name)
        return (endpoint.value, endpoint) if endpoint is not None else (None, None)

    battery, endpoint = value("battery-status")
    if isinstance(battery, models.BatteryStatus):
        remaining = battery.charging_remaining_time
        parts.put(when(endpoint, battery.timestamp), endpoint, battery_percent=battery.battery_level,
                  range_km=battery.battery_autonomy,
                  charge_state=CHARGE_STATES.get(battery.charge_state, ChargeState.UNKNOWN)
                  if battery.charging_status is not None else None,
                  plug_state=PLUG_STATES.get(battery.plug_state, PlugState.UNKNOWN)
                  if battery.plug_status is not None else None,
                  charge_power_kw=battery.charging_power_kw,
                  minutes_to_full=minutes(remaining) if battery.charging else None)
    cockpit, endpoint = value("cockpit")
    if isinstance(cockpit, models.Cockpit):
        parts.put(when(endpoint), endpoint, odometer_km=cockpit.total_mileage, fuel_litres=cockpit.fuel_quantity,
                  fuel_range_km=cockpit.fuel_autonomy)
    hvac, endpoint = value("hvac-status")
    if isinstance(hvac, models.HvacStatus):
        parts.put(when(endpoint, hvac.last_update), endpoint, climate_on=hvac.hvac_on,
                  inside_temperature_c=hvac.internal_temperature, outside_temperature_c=hvac.external_temperature)
    location, endpoint = value("location")
    if isinstance(location, models.Location):
        parts.put(when(endpoint, location.last_update), endpoint,
                  position=GeoPosition(latitude=location.latitude, longitude=location.longitude))
    locks, endpoint = value("lock-status")
    if isinstance(locks, models.LockStatus):
        openings = {DOORS.get(door, "door_" + door): state is models.OpenState.OPEN
                    for door, state in locks.doors.items() if state is not models.OpenState.UNKNOWN}
        if locks.hatch is not None and locks.hatch is not models.OpenState.UNKNOWN:
            openings["hatch"] = locks.hatch is models.OpenState.OPEN
        locked = None if locks.lock_status is models.LockState.UNKNOWN else locks.lock_status is models.LockState.LOCKED
        parts.put(when(endpoint, locks.last_update), endpoint, locked=locked, openings=openings)
    tyres, endpoint = value("pressure")
    if isinstance(tyres, models.TyrePressure):
        pressures = {TYRES[w]: mbar / 10 for w, mbar in tyres.pressures_mbar.items()}
        parts.put(when(endpoint), endpoint, tyre_pressures_kpa=pressures)
    return parts.build()
