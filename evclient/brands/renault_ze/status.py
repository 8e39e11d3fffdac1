"""ZE Services endpoints → :class:`~evclient.status.VehicleStatus` (the battery, and whether the car follows
its charge calendar)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...endpoint import Endpoint
from ...status import ChargeState, ChargingMode, PlugState, StatusParts, VehicleStatus, minutes, when
from .models import Battery, ChargeSchedule


def vehicle_status(endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
    parts = StatusParts()
    endpoint = endpoints.get("battery")
    battery = endpoint.value if endpoint is not None else None
    if isinstance(battery, Battery):
        if battery.charging:
            state = ChargeState.CHARGING
        elif battery.plugged and battery.charge_level >= 100:
            state = ChargeState.COMPLETE
        else:
            state = ChargeState.NOT_CHARGING
        remaining = battery.remaining_time
        parts.put(when(endpoint, battery.last_update), endpoint, battery_percent=battery.charge_level,
                  range_km=battery.remaining_range, charge_state=state,
                  plug_state=PlugState.PLUGGED if battery.plugged else PlugState.UNPLUGGED,
                  minutes_to_full=minutes(remaining))
    endpoint = endpoints.get("charge-schedule")
    schedule = endpoint.value if endpoint is not None else None
    if isinstance(schedule, ChargeSchedule):
        parts.put(when(endpoint), endpoint,
                  charging_mode=ChargingMode.SCHEDULED if schedule.enabled else ChargingMode.ALWAYS)
    return parts.build()
