"""One brand-agnostic snapshot of a car: :class:`VehicleStatus`.

Each brand fills it from its own endpoint models (:meth:`~evclient.brand.Brand.vehicle_status`); a field
is ``None`` where the brand or the model does not report it, and ``measured_at`` says when the car
measured each field that has a value. Snapshots compare by value, so ``changed_fields(old, new)`` is
what an integration needs to update only what moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from .models import ApiEnum


class ChargeState(ApiEnum):
    CHARGING = "charging"
    NOT_CHARGING = "not_charging"
    WAITING = "waiting"  # plugged in, waiting for a planned charge or for current
    COMPLETE = "complete"
    ERROR = "error"
    DISCHARGING = "discharging"  # powering a device or the grid (V2L / V2G)
    UNKNOWN = "unknown"


class PlugState(ApiEnum):
    PLUGGED = "plugged"
    UNPLUGGED = "unplugged"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class GeoPosition:
    latitude: float
    longitude: float
    heading: float | None = None


@attrs.frozen(kw_only=True)
class VehicleStatus:
    """What the car last reported, in the same units for every brand.

    ``openings`` maps each door, window, hatch, hood, trunk or sunroof the car reports to whether it is
    open (names such as ``door_front_left``, ``window_rear_right``, ``trunk``); ``tyre_pressures_kpa`` maps
    ``front_left`` … ``rear_right``. ``measured_at`` (not compared) maps a field name to its time, and
    ``sources`` (not compared) to the endpoint it came from, so an integration can tell which fields an
    endpoint's failure leaves stale.
    """

    battery_percent: float | None = None
    range_km: float | None = None
    charge_state: ChargeState | None = None
    plug_state: PlugState | None = None
    charge_power_kw: float | None = None
    minutes_to_full: float | None = None
    odometer_km: float | None = None
    fuel_litres: float | None = None
    fuel_range_km: float | None = None
    position: GeoPosition | None = None
    locked: bool | None = None
    openings: Mapping[str, bool] = attrs.field(factory=dict)
    tyre_pressures_kpa: Mapping[str, float] = attrs.field(factory=dict)
    climate_on: bool | None = None
    inside_temperature_c: float | None = None
    outside_temperature_c: float | None = None
    measured_at: Mapping[str, dt.datetime] = attrs.field(factory=dict, eq=False, repr=False)
    sources: Mapping[str, str] = attrs.field(factory=dict, eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (enums as their values, times as ISO 8601)."""
        out: dict[str, Any] = {}
        for field in attrs.fields(VehicleStatus):
            value = getattr(self, field.name)
            if isinstance(value, ApiEnum):
                value = value.value
            elif isinstance(value, GeoPosition):
                value = attrs.asdict(value)
            elif field.name == "measured_at":
                value = {k: v.isoformat() for k, v in value.items()}
            elif field.name == "sources":
                continue
            elif isinstance(value, Mapping):
                value = dict(value)
            out[field.name] = value
        return out


#: The fields a snapshot compares (everything but ``measured_at`` and ``sources``).
FIELDS = tuple(f.name for f in attrs.fields(VehicleStatus) if f.eq)


def changed_fields(old: VehicleStatus | None, new: VehicleStatus) -> frozenset[str]:
    """The fields whose value differs between two snapshots (all that have one when ``old`` is None)."""
    if old is None:
        return frozenset(f for f in FIELDS if getattr(new, f) not in (None, {}))
    return frozenset(f for f in FIELDS if getattr(old, f) != getattr(new, f))


class StatusParts:
    """Collects a snapshot's fields from several endpoints, each with the time it was measured."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._times: dict[str, dt.datetime] = {}
        self._sources: dict[str, str] = {}

    def put(self, at: dt.datetime | None, source: Any, **fields: Any) -> None:
        """Set the fields that have a value (``None`` and empty mappings leave a field unreported).

        ``source`` is the endpoint (or its name) the values were read from.
        """
        origin = getattr(source, "name", source)
        for name, value in fields.items():
            if value is None or (isinstance(value, Mapping) and not value):
                continue
            self._values[name] = value
            if at is not None:
                self._times[name] = at
            if isinstance(origin, str):
                self._sources[name] = origin

    def build(self) -> VehicleStatus:
        return VehicleStatus(**self._values, measured_at=dict(self._times), sources=dict(self._sources))


def minutes(duration: dt.timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds() / 60


def when(endpoint: Any, reported: dt.datetime | None = None) -> dt.datetime | None:
    """The time a value was measured: the car's own timestamp, else when evclient read it."""
    if reported is not None:
        return reported
    fetched = getattr(endpoint, "fetched_at", None)
    return None if fetched is None else dt.datetime.fromtimestamp(fetched, dt.UTC)


class StatusBuilder:
    """A car's :class:`VehicleStatus`, built by the brand's ``build(endpoints)`` only when a value changed
    since it was last asked for (a status read per message costs nothing while the message moved nothing)."""

    __slots__ = ("_build", "_endpoints", "_status")

    def __init__(self, build: Callable[[Mapping[str, Any]], VehicleStatus], endpoints: Mapping[str, Any]) -> None:
        self._build = build
        self._endpoints = endpoints
        self._status: VehicleStatus | None = None

    def touched(self, name: str, keys: Iterable[str] | None = None) -> None:
        """Endpoint ``name`` changed (``keys``: only these parts of it)."""
        self._status = None

    def current(self) -> VehicleStatus:
        if self._status is None:
            self._status = self._build(self._endpoints)
        return self._status
