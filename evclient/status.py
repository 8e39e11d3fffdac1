"""One brand-agnostic snapshot of a car: :class:`VehicleStatus`.

Each brand fills it from its own endpoint models (:meth:`~evclient.brand.Brand.vehicle_status`); a field
is ``None`` where the brand or the model does not report it, and ``measured_at`` says when the car
measured each field that has a value. Snapshots compare by value, so ``changed_fields(old, new)`` is
what an integration needs to update only what moved.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
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


class ChargingMode(enum.StrEnum):
    """When the car charges once plugged in (the status field and the :class:`~evclient.actions.ChargeMode`
    action's value)."""

    ALWAYS = "always"  # whenever plugged in
    SCHEDULED = "scheduled"  # by the car's schedules


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@attrs.frozen
class Slot:
    """One day's time in a weekly schedule, in UTC: a charge schedule's start and its ``minutes``, or an A/C
    schedule's ready-at time (no minutes)."""

    start: dt.time
    minutes: int | None = None


@attrs.frozen(kw_only=True)
class WeeklySchedule:
    """One of a car's weekly schedules, by ``id``: ``days`` maps a weekday (``monday`` …) to its slot. In a change
    (:class:`~evclient.actions.ChargeSchedules`), ``activated=None`` and a weekday left out keep what the car has,
    and a weekday given as ``None`` clears it."""

    id: int
    activated: bool | None = None
    days: Mapping[str, Slot | None] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The form Home Assistant's Renault actions use: ``{"id", "activated", "monday": {"startTime": "THH:MMZ",
        "duration": minutes} | {"readyAtTime": "THH:MMZ"} | None, …}`` (left-out values absent)."""
        out: dict[str, Any] = {"id": self.id}
        if self.activated is not None:
            out["activated"] = self.activated
        for day in WEEKDAYS:
            if day not in self.days:
                continue
            slot = self.days[day]
            if slot is None:
                out[day] = None
                continue
            at = f"T{slot.start:%H:%M}Z"
            out[day] = {"readyAtTime": at} if slot.minutes is None else {"startTime": at, "duration": slot.minutes}
        return out


@attrs.frozen(kw_only=True)
class GeoPosition:
    latitude: float
    longitude: float
    heading: float | None = None


@attrs.frozen(kw_only=True)
class VehicleStatus:
    """What the car last reported, in the same units for every brand.

    ``charge_limit_min_percent``: below it the car charges at once; ``charge_target_percent``: where charging
    stops (:class:`~evclient.actions.ChargeLimits` sets both); ``charging_mode``: always or by the schedules;
    ``charge_schedules`` / ``climate_schedules``: the car's weekly schedules (``None``: not reported).
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
    charge_limit_min_percent: float | None = None
    charge_target_percent: float | None = None
    charging_mode: ChargingMode | None = None
    charge_schedules: tuple[WeeklySchedule, ...] | None = None
    climate_schedules: tuple[WeeklySchedule, ...] | None = None
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
            if isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, GeoPosition):
                value = attrs.asdict(value)
            elif field.name == "measured_at":
                value = {k: v.isoformat() for k, v in value.items()}
            elif field.name == "sources":
                continue
            elif field.name.endswith("_schedules") and value is not None:
                value = [schedule.to_json() for schedule in value]
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


_MISSING = object()

#: Values that are never mappings: spared the (slow) check against the Mapping ABC.
_PLAIN = (int, float, str, GeoPosition)


class StatusParts:
    """Collects a snapshot's fields from several endpoints, each with the time it was measured."""

    __slots__ = ("_sources", "_times", "_values")

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._times: dict[str, dt.datetime] = {}
        self._sources: dict[str, str] = {}

    def put(self, at: dt.datetime | None, source: Any, **fields: Any) -> None:
        """Set the fields that have a value (``None`` and empty mappings leave a field unreported).

        ``source`` is the endpoint (or its name) the values were read from.
        """
        origin = source if type(source) is str else getattr(source, "name", source)
        for name, value in fields.items():
            self.one(name, value, at, origin if isinstance(origin, str) else None)

    def one(self, name: str, value: Any, at: dt.datetime | None, source: str | None) -> None:
        """:meth:`put` of one field (no keywords to unpack: the stream's parts call it per message)."""
        if value is None or (not isinstance(value, _PLAIN) and isinstance(value, Mapping) and not value):
            return
        self._values[name] = value
        if at is not None:
            self._times[name] = at
        if source is not None:
            self._sources[name] = source

    def build(self) -> VehicleStatus:
        return VehicleStatus(**self._values, measured_at=dict(self._times), sources=dict(self._sources))

    def replace(self, old: StatusParts | None, new: StatusParts, moved: set[str]) -> None:
        """Drop the fields ``old`` gave, then take every field ``new`` holds (with its time and source); the
        fields whose value this moved are added to ``moved``."""
        values, fresh = self._values, new._values
        if old is None:
            moved.update(fresh)
        elif old._values.keys() == fresh.keys():  # the usual case: the part gives the same fields, some moved
            prior = old._values
            for name, value in fresh.items():
                if prior[name] != value:
                    moved.add(name)
        else:
            for name, value in old._values.items():
                if fresh.get(name, _MISSING) != value:
                    moved.add(name)
                if name not in fresh:
                    del values[name]
                    self._times.pop(name, None)
                    self._sources.pop(name, None)
            moved.update(name for name in fresh if name not in old._values)
        values.update(fresh)
        self._times.update(new._times)
        self._sources.update(new._sources)

    def take(self, status: VehicleStatus) -> None:
        """Take every field a whole snapshot reports."""
        for name in FIELDS:
            value = getattr(status, name)
            if value is not None and not (isinstance(value, Mapping) and not value):
                self._values[name] = value
        self._times.update(status.measured_at)
        self._sources.update(status.sources)


def minutes(duration: dt.timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds() / 60


def when(endpoint: Any, reported: dt.datetime | None = None) -> dt.datetime | None:
    """The time a value was measured: the car's own timestamp, else when evclient read it."""
    if reported is not None:
        return reported
    fetched = getattr(endpoint, "fetched_at", None)
    return None if fetched is None else dt.datetime.fromtimestamp(fetched, dt.UTC)


@attrs.frozen
class StatusPart:
    """Some fields of a car's status, built by ``build(endpoints, parts)`` from what ``reads`` names: endpoint
    name → the keys of its (mapping) value the part looks at (``None``: any change of it). A brand that declares
    its status in parts has only the parts a change touched built again — a stream message that moved the state
    of charge costs the battery's part, not the whole status. ``reads=None``: every endpoint."""

    build: Callable[[Mapping[str, Any], StatusParts], None]
    reads: Mapping[str, frozenset[str] | None] | None = None


def whole(build: Callable[[Mapping[str, Any]], VehicleStatus]) -> tuple[StatusPart, ...]:
    """A brand's status built whole from every endpoint (one part that every change touches)."""

    def put(endpoints: Mapping[str, Any], parts: StatusParts) -> None:
        parts.take(build(endpoints))

    return (StatusPart(put),)


class StatusBuilder:
    """A car's :class:`VehicleStatus`, built from the brand's parts: only when a value changed since it was last
    asked for, and then only the parts that change touched. Parts own disjoint fields: a part built again
    replaces the fields it gave before."""

    __slots__ = ("_built", "_dirty", "_endpoints", "_every", "_fields", "_index", "_moved", "_parts", "_status")

    def __init__(self, parts: Sequence[StatusPart], endpoints: Mapping[str, Any]) -> None:
        self._parts = tuple(parts)
        self._endpoints = endpoints
        self._built: list[StatusParts | None] = [None] * len(self._parts)
        self._dirty: set[int] = set(range(len(self._parts)))
        self._fields = StatusParts()
        self._status: VehicleStatus | None = None
        self._moved: set[str] = set()
        # endpoint → (parts touched by any change of it, parts by key): a change finds its parts by lookup.
        self._every = tuple(i for i, part in enumerate(self._parts) if part.reads is None)
        self._index: dict[str, tuple[tuple[int, ...], dict[str, tuple[int, ...]]]] = {}
        for name in {name for part in self._parts if part.reads is not None for name in part.reads}:
            whole_parts = tuple(i for i, part in enumerate(self._parts)
                                if part.reads is not None and name in part.reads and part.reads[name] is None)
            by_key: dict[str, list[int]] = {}
            for i, part in enumerate(self._parts):
                for key in (None if part.reads is None else part.reads.get(name)) or ():
                    by_key.setdefault(key, []).append(i)
            self._index[name] = (whole_parts, {k: tuple(v) for k, v in by_key.items()})

    def touched(self, name: str, keys: Iterable[str] | None = None) -> None:
        """Endpoint ``name`` changed (``keys``: only these parts of its value)."""
        dirty = self._dirty
        if self._every:
            dirty.update(self._every)
        found = self._index.get(name)
        if found is not None:
            whole_parts, by_key = found
            if whole_parts:
                dirty.update(whole_parts)
            if keys is None:
                for indices in by_key.values():
                    dirty.update(indices)
            else:
                for key in keys:
                    touched = by_key.get(key)
                    if touched is not None:
                        dirty.update(touched)
        if dirty:
            self._status = None

    def current(self) -> VehicleStatus:
        if self._status is None:
            fields = self._fields
            for i in sorted(self._dirty) if len(self._dirty) > 1 else self._dirty:
                built = StatusParts()
                self._parts[i].build(self._endpoints, built)
                fields.replace(self._built[i], built, self._moved)
                self._built[i] = built
            self._dirty.clear()
            self._status = fields.build()
        return self._status

    def take_moved(self) -> frozenset[str]:
        """The fields whose value moved since the last call (the status watch's question, answered from the
        parts built again instead of by comparing two whole snapshots)."""
        self.current()
        moved = frozenset(self._moved)
        self._moved.clear()
        return moved
