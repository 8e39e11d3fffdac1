"""BMW endpoints → :class:`~evclient.status.VehicleStatus` (everything from ``status``, the charging mode
from ``charging-profile``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...endpoint import Endpoint
from ...status import ChargeState, ChargingMode, GeoPosition, PlugState, StatusParts, VehicleStatus, minutes, when
from . import models

CHARGE_STATES = {
    models.ChargingStatus.CHARGING: ChargeState.CHARGING,
    models.ChargingStatus.ERROR: ChargeState.ERROR,
    models.ChargingStatus.FINISHED_FULLY_CHARGED: ChargeState.COMPLETE,
    models.ChargingStatus.FINISHED_NOT_FULL: ChargeState.NOT_CHARGING,
    models.ChargingStatus.NOT_CHARGING: ChargeState.NOT_CHARGING,
    models.ChargingStatus.WAITING_FOR_CHARGING: ChargeState.WAITING,
}
PLUG_STATES = {models.ConnectionStatus.CONNECTED: PlugState.PLUGGED,
               models.ConnectionStatus.DISCONNECTED: PlugState.UNPLUGGED}
LOCKED = {models.LockState.LOCKED: True, models.LockState.SECURED: True, models.LockState.UNLOCKED: False,
          models.LockState.SELECTIVE_LOCKED: False}
CHARGING_MODES = {models.ChargingMode.IMMEDIATE_CHARGING: ChargingMode.ALWAYS,
                  models.ChargingMode.DELAYED_CHARGING: ChargingMode.SCHEDULED}
PART_NAMES = {
    "doorDriverFront": "door_front_left", "doorDriverRear": "door_rear_left",
    "doorPassengerFront": "door_front_right", "doorPassengerRear": "door_rear_right",
    "windowDriverFront": "window_front_left", "windowDriverRear": "window_rear_left",
    "windowPassengerFront": "window_front_right", "windowPassengerRear": "window_rear_right",
    "trunk": "trunk", "hood": "hood", "rearWindow": "rear_window", "convertibleRoofState": "roof", "sunroof": "sunroof",
}


def vehicle_status(endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
    parts = StatusParts()
    profile_endpoint = endpoints.get("charging-profile")
    profile = profile_endpoint.value if profile_endpoint is not None else None
    if isinstance(profile, models.ChargingProfile) and profile.charging_mode in CHARGING_MODES:
        parts.put(when(profile_endpoint), profile_endpoint, charging_mode=CHARGING_MODES[profile.charging_mode])
    endpoint = endpoints.get("status")
    s = endpoint.value if endpoint is not None else None
    if not isinstance(s, models.StatusReport):
        return parts.build()
    at = when(endpoint, s.update_time)
    # OPEN and INTERMEDIATE (a window ajar) are open; INVALID means the car has no such part.
    openings = {PART_NAMES[k]: state in (models.OpenState.OPEN, models.OpenState.INTERMEDIATE)
                for k, state in {**s.doors, **s.windows, **s.lids}.items()
                if state not in (models.OpenState.INVALID, models.OpenState.UNKNOWN)}
    position = None
    if s.position is not None and s.position.lat is not None and s.position.lon is not None:
        position = GeoPosition(latitude=s.position.lat, longitude=s.position.lon,
                               heading=None if s.position.heading is None else float(s.position.heading))
    remaining = s.charging_time_remaining
    charging = s.charging_status is models.ChargingStatus.CHARGING
    parts.put(
        at, endpoint, battery_percent=s.charging_level_hv, range_km=s.remaining_range_electric_km,
        charge_state=None if s.charging_status in (None, models.ChargingStatus.INVALID)
        else CHARGE_STATES.get(s.charging_status, ChargeState.UNKNOWN),
        plug_state=None if s.connection_status is None else PLUG_STATES.get(s.connection_status, PlugState.UNKNOWN),
        minutes_to_full=minutes(remaining) if charging else None,
        odometer_km=s.mileage_km, fuel_litres=s.remaining_fuel_l, fuel_range_km=s.remaining_range_fuel_km,
        locked=None if s.door_lock_state is None else LOCKED.get(s.door_lock_state),
        openings=openings, position=position,
    )
    return parts.build()
