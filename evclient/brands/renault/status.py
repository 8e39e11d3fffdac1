"""MyRenault endpoints → :class:`~evclient.status.VehicleStatus`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ...endpoint import Endpoint
from ...status import (
    ChargeState,
    ChargingMode,
    GeoPosition,
    PlugState,
    Slot,
    StatusParts,
    VehicleStatus,
    WeeklySchedule,
    minutes,
    when,
)
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
CHARGING_MODES = {models.ChargeMode.ALWAYS: ChargingMode.ALWAYS, models.ChargeMode.ALWAYS_CHARGING: ChargingMode.ALWAYS,
                  models.ChargeMode.SCHEDULE_MODE: ChargingMode.SCHEDULED,
                  models.ChargeMode.SCHEDULED: ChargingMode.SCHEDULED}
EV_CHARGING_MODES = {models.EvChargeMode.ALWAYS: ChargingMode.ALWAYS,
                     models.EvChargeMode.SCHEDULED: ChargingMode.SCHEDULED}
TYRES = {"fl": "front_left", "fr": "front_right", "rl": "rear_left", "rr": "rear_right"}


def _weekly(schedule: models.Schedule) -> WeeklySchedule:
    days = {}
    for day, slot in schedule.days.items():
        at = slot.get("startTime", slot.get("readyAtTime"))
        if isinstance(at, str) and len(at) == 7:  # THH:MMZ
            days[day] = Slot(dt.time(int(at[1:3]), int(at[4:6])),
                             int(slot["duration"]) if "duration" in slot else None)
    return WeeklySchedule(id=schedule.id, activated=schedule.activated, days=days)


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
    levels, endpoint = value("soc-levels")
    if isinstance(levels, models.SocLevels):
        parts.put(when(endpoint, levels.last_update), endpoint, charge_limit_min_percent=levels.soc_min,
                  charge_target_percent=levels.soc_target)
    for name, field in (("charging-settings", "charge_schedules"), ("hvac-settings", "climate_schedules")):
        found, endpoint = value(name)
        if isinstance(found, models.ScheduleSettings):
            parts.put(when(endpoint), endpoint, **{field: tuple(_weekly(s) for s in found.schedules)})
            if name == "charging-settings":  # its mode, unless the car has a charge-mode of its own (put below)
                parts.put(when(endpoint), endpoint, charging_mode=CHARGING_MODES.get(
                    models.ChargeMode.parse(found.mode)) if found.mode is not None else None)
    settings, endpoint = value("ev-settings")  # the kcm generation: its mode is here
    if isinstance(settings, models.EvSettings) and settings.charge_mode in EV_CHARGING_MODES:
        parts.put(when(endpoint, settings.last_update), endpoint,
                  charging_mode=EV_CHARGING_MODES[settings.charge_mode])
    mode, endpoint = value("charge-mode")
    if isinstance(mode, models.ChargeMode) and mode in CHARGING_MODES:
        parts.put(when(endpoint), endpoint, charging_mode=CHARGING_MODES[mode])
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
