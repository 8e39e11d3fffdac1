"""CarData's telematic keys → :class:`~evclient.status.VehicleStatus`, each field with the time the car measured it."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

from ...endpoint import Endpoint
from ...status import ChargeState, GeoPosition, PlugState, StatusPart, StatusParts, VehicleStatus
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


TELEMATICS = "telematics"
DAILY = "daily"


def _get(endpoints: Mapping[str, Endpoint[Any]], key: str, name: str = TELEMATICS) -> TelematicValue | None:
    endpoint = endpoints.get(name)
    values = endpoint.value if endpoint is not None else None
    found = values.get(key) if isinstance(values, dict) else None
    return found if isinstance(found, TelematicValue) and found.value is not None else None


def _at(*found: TelematicValue | None) -> dt.datetime | None:
    stamps = [f.timestamp for f in found if f is not None and f.timestamp is not None]
    return _utc(max(stamps)) if stamps else None


@functools.lru_cache(maxsize=256)
def _utc(stamp: float) -> dt.datetime:
    """A stamp as a time, made once: the keys of a message mostly share one."""
    return dt.datetime.fromtimestamp(stamp, dt.UTC)


def _number(found: TelematicValue | None) -> float | None:
    if found is None or not isinstance(found.value, int | float) or isinstance(found.value, bool):
        return None
    return float(found.value)


def _one(key: str, field: str, convert: Callable[[TelematicValue], Any]) -> StatusPart:
    """A field from one telematic key."""

    def build(endpoints: Mapping[str, Endpoint[Any]], parts: StatusParts) -> None:
        found = _get(endpoints, key)
        if found is not None:
            parts.one(field, convert(found), None if found.timestamp is None else _utc(found.timestamp), TELEMATICS)

    return StatusPart(build, {TELEMATICS: frozenset((key,))})


def _first(keys_in_order: tuple[str, ...], field: str, convert: Callable[[TelematicValue], Any]) -> StatusPart:
    """A field from the first of several keys that has a value (a newer model's key, else the older one's)."""

    def build(endpoints: Mapping[str, Endpoint[Any]], parts: StatusParts) -> None:
        for key in keys_in_order:
            found = _get(endpoints, key)
            if found is not None:
                parts.one(field, convert(found), None if found.timestamp is None else _utc(found.timestamp),
                          TELEMATICS)
                return

    return StatusPart(build, {TELEMATICS: frozenset(keys_in_order)})


def _charge_state(found: TelematicValue) -> ChargeState | None:
    state = _word(found.value)
    return None if state in (None, "INVALID", "UNKNOWN") else CHARGE_STATES.get(state or "", ChargeState.UNKNOWN)


def _plug_state(found: TelematicValue) -> PlugState | None:
    word = _word(found.value)
    return None if word in (None, "INVALID", "-NA-") else PLUG_STATES.get(word or "", PlugState.UNKNOWN)


def _power(found: TelematicValue) -> float | None:
    power = _number(found)
    return None if power is None else round(power / 1000.0, 3)


def _lock(endpoints: Mapping[str, Endpoint[Any]], parts: StatusParts) -> None:
    # The REST-only lock key (daily) or the stream's sporadic door status, whichever the car measured last; a door
    # status in open/closed words (some MINIs) says nothing of the lock.
    candidates = [(found, source) for found, source in ((_get(endpoints, keys.LOCK, DAILY), DAILY),
                                                         (_get(endpoints, keys.DOOR_STATUS), TELEMATICS))
                  if found is not None and _word(found.value) in LOCKED]
    if candidates:
        lock, source = max(candidates, key=lambda pair: pair[0].timestamp or 0.0)
        parts.put(_at(lock), source, locked=LOCKED[_word(lock.value) or ""])


def _position(endpoints: Mapping[str, Endpoint[Any]], parts: StatusParts) -> None:
    lat, lon = _get(endpoints, keys.LATITUDE), _get(endpoints, keys.LONGITUDE)
    latitude, longitude = _number(lat), _number(lon)
    if latitude is not None and longitude is not None:
        parts.put(_at(lat, lon), TELEMATICS, position=GeoPosition(
            latitude=latitude, longitude=longitude, heading=_number(_get(endpoints, keys.HEADING))))


def _openings(endpoints: Mapping[str, Endpoint[Any]], parts: StatusParts) -> None:
    openings: dict[str, bool] = {}
    seen = []
    for key, name in keys.OPENINGS.items():
        found = _get(endpoints, key)
        if found is None:
            continue
        if isinstance(found.value, bool):
            openings[name] = found.value
        elif _word(found.value) in OPEN_WINDOW | {"CLOSED"}:
            openings[name] = _word(found.value) in OPEN_WINDOW
        else:
            continue
        seen.append(found)
    parts.put(_at(*seen), TELEMATICS, openings=openings)


def _tyres(endpoints: Mapping[str, Endpoint[Any]], parts: StatusParts) -> None:
    found = {name: _get(endpoints, key) for key, name in keys.TYRES.items()}
    tyres = {name: value for name, item in found.items() if (value := _number(item)) is not None}
    parts.put(_at(*found.values()), TELEMATICS, tyre_pressures_kpa=tyres)


#: The status in parts, each with the keys it reads: a stream message rebuilds only the parts of its keys.
PARTS = (
    _first((keys.SOC, keys.SOC_NEW_CLASS), "battery_percent", _number),
    _one(keys.RANGE, "range_km", _number),
    _one(keys.CHARGE_TARGET, "charge_target_percent", _number),
    _one(keys.CHARGE_MIN, "charge_limit_min_percent", _number),
    _one(keys.ODOMETER, "odometer_km", _number),
    _first((keys.HV_STATUS, keys.CHARGING_STATUS), "charge_state", _charge_state),
    _one(keys.PLUG, "plug_state", _plug_state),
    _one(keys.CHARGE_POWER, "charge_power_kw", _power),
    _one(keys.TIME_TO_FULL, "minutes_to_full", _number),
    StatusPart(_lock, {DAILY: frozenset((keys.LOCK,)), TELEMATICS: frozenset((keys.DOOR_STATUS,))}),
    _one(keys.COMFORT, "climate_on", lambda found: _word(found.value) not in CLIMATE_OFF),
    StatusPart(_position, {TELEMATICS: frozenset((keys.LATITUDE, keys.LONGITUDE, keys.HEADING))}),
    StatusPart(_openings, {TELEMATICS: frozenset(keys.OPENINGS)}),
    StatusPart(_tyres, {TELEMATICS: frozenset(keys.TYRES)}),
)


def vehicle_status(endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
    """The whole status at once (every part built)."""
    parts = StatusParts()
    for part in PARTS:
        part.build(endpoints, parts)
    return parts.build()
