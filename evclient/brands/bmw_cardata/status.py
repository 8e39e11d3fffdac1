"""CarData's telematic keys → :class:`~evclient.status.VehicleStatus`, each field with the time the car measured it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ...endpoint import Endpoint
from ...status import ChargeState, GeoPosition, PlugState, StatusParts, VehicleStatus
from . import keys
from .models import TelematicValue

#: hvStatus (BMW's catalogue) and charging.status as clients observe it (REFERENCE §3b).
CHARGE_STATES = {
    "CHARGING": ChargeState.CHARGING, "CHARGINGACTIVE": ChargeState.CHARGING,
    "NOT_CHARGING": ChargeState.NOT_CHARGING, "NOCHARGING": ChargeState.NOT_CHARGING,
    "WAITING_FOR_CHARGING": ChargeState.WAITING, "INITIALIZATION": ChargeState.WAITING,
    "CHARGINGPAUSED": ChargeState.WAITING,
    "FINISHED_FULLY_CHARGED": ChargeState.COMPLETE, "CHARGINGENDED": ChargeState.COMPLETE,
    "FINISHED_NOT_FULL": ChargeState.NOT_CHARGING,
    "ERROR": ChargeState.ERROR, "CHARGINGERROR": ChargeState.ERROR,
}
PLUG_STATES = {"CONNECTED": PlugState.PLUGGED, "DISCONNECTED": PlugState.UNPLUGGED}
LOCKED = {"SECURED": True, "LOCKED": True, "UNLOCKED": False, "SELECTIVE-LOCKED": False, "SELECTIVE_LOCKED": False}
OPEN_WINDOW = {"OPEN", "INTERMEDIATE"}
CLIMATE_OFF = {"NOT_ACTIVE", "COMFORT_UNDEFINED"}


def _word(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    word = value.strip().upper()
    return word[4:] if word.startswith("ASN_") else word


def vehicle_status(endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
    parts = StatusParts()
    endpoint = endpoints.get("telematics")
    values = endpoint.value if endpoint is not None else None
    if not isinstance(values, dict):
        return parts.build()

    def get(key: str) -> TelematicValue | None:
        found = values.get(key)
        return found if isinstance(found, TelematicValue) and found.value is not None else None

    def at(*found: TelematicValue | None) -> dt.datetime | None:
        stamps = [f.timestamp for f in found if f is not None and f.timestamp is not None]
        return dt.datetime.fromtimestamp(max(stamps), dt.UTC) if stamps else None

    def number(key: str) -> float | None:
        found = get(key)
        return float(found.value) if found is not None and isinstance(found.value, int | float) \
            and not isinstance(found.value, bool) else None

    def put(key: str, **field: Any) -> None:
        parts.put(at(get(key)), endpoint, **field)

    soc_key = keys.SOC if get(keys.SOC) is not None else keys.SOC_NEW_CLASS
    put(soc_key, battery_percent=number(soc_key))
    put(keys.RANGE, range_km=number(keys.RANGE))
    put(keys.ODOMETER, odometer_km=number(keys.ODOMETER))
    charge_key = keys.HV_STATUS if get(keys.HV_STATUS) is not None else keys.CHARGING_STATUS
    charge = get(charge_key)
    state = _word(charge.value) if charge is not None else None
    put(charge_key, charge_state=None if state in (None, "INVALID", "UNKNOWN")
        else CHARGE_STATES.get(state, ChargeState.UNKNOWN))
    plug = get(keys.PLUG)
    word = _word(plug.value) if plug is not None else None
    put(keys.PLUG, plug_state=None if word in (None, "INVALID", "-NA-") else PLUG_STATES.get(word, PlugState.UNKNOWN))
    power = number(keys.CHARGE_POWER)
    put(keys.CHARGE_POWER, charge_power_kw=None if power is None else round(power / 1000.0, 3))
    put(keys.TIME_TO_FULL, minutes_to_full=number(keys.TIME_TO_FULL))
    # The lock: the REST-only lock key (daily) or the stream's sporadic door status, whichever the car measured
    # last; a door status in open/closed words (some MINIs) says nothing of the lock.
    daily_endpoint = endpoints.get("daily")
    daily = daily_endpoint.value if daily_endpoint is not None and isinstance(daily_endpoint.value, dict) else {}
    candidates = [(found, source) for found, source in ((daily.get(keys.LOCK), daily_endpoint),
                                                         (get(keys.DOOR_STATUS), endpoint))
                  if isinstance(found, TelematicValue) and _word(found.value) in LOCKED]
    if candidates:
        lock, source = max(candidates, key=lambda pair: pair[0].timestamp or 0.0)
        parts.put(at(lock), source, locked=LOCKED[_word(lock.value) or ""])
    comfort = get(keys.COMFORT)
    put(keys.COMFORT, climate_on=None if comfort is None else _word(comfort.value) not in CLIMATE_OFF)
    lat, lon = get(keys.LATITUDE), get(keys.LONGITUDE)
    latitude, longitude = number(keys.LATITUDE), number(keys.LONGITUDE)
    if latitude is not None and longitude is not None:
        parts.put(at(lat, lon), endpoint, position=GeoPosition(latitude=latitude, longitude=longitude,
                                                                heading=number(keys.HEADING)))
    openings: dict[str, bool] = {}
    opening_values = []
    for key, name in keys.OPENINGS.items():
        found = get(key)
        if found is None:
            continue
        if isinstance(found.value, bool):
            openings[name] = found.value
        elif _word(found.value) in OPEN_WINDOW | {"CLOSED"}:
            openings[name] = _word(found.value) in OPEN_WINDOW
        else:
            continue
        opening_values.append(found)
    parts.put(at(*opening_values), endpoint, openings=openings)
    tyres = {name: value for key, name in keys.TYRES.items() if (value := number(key)) is not None}
    parts.put(at(*(get(k) for k in keys.TYRES)), endpoint, tyre_pressures_kpa=tyres)
    return parts.build()
