"""ZE Services endpoints → :class:`~evclient.status.VehicleStatus` (the API reports the battery only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...endpoint import Endpoint
from ...status import ChargeState, PlugState, StatusParts, VehicleStatus, minutes, when
from .models import Battery


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
    return parts.build()
