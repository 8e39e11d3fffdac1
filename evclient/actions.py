"""Typed actions: one vocabulary for what an application asks of a car, whatever its brand.

Reads map to one :class:`~evclient.status.VehicleStatus`; writes map the other way. An application builds an
action (``ClimateStart(temperature=21)``, ``Lock()``) and runs it with ``await car.act(action)``; each brand maps
the actions its cars can run to one of its own commands, inside its folder (``Brand.actions``). A car that lacks
one (its brand has no such command, or its model lacks the brand's) is refused with
:class:`~evclient.command_runner.CommandNotSupported` before any request; a value no car could take (a latitude
of 91°, a naive ``at``) with :class:`~evclient.errors.InvalidInputError` when the action is built, and one this
brand cannot take (a temperature on a brand whose climate has no set point) when it is mapped — both before any
request. Brand-specific commands stay reachable by their own names (``car.command("set-soc-levels", ...)``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from .errors import InvalidInputError
from .status import WEEKDAYS, ChargingMode, Slot, WeeklySchedule
from .validate import date_time

if TYPE_CHECKING:
    from .api import VehicleInfo

__all__ = [
    "ACTIONS", "Action", "ActionMap", "ChargeLimits", "ChargeMode", "ChargeSchedules", "ChargeStart", "ChargeStop",
    "ChargingMode", "ClimateSchedules", "ClimateStart", "ClimateStop", "Flash", "Horn", "Locate", "Lock", "Range",
    "SendDestination", "Slot", "Unlock", "WeeklySchedule", "action_fields", "action_from",
]


def _number(name: str, low: float, high: float) -> Callable[[Any, Any, Any], None]:
    def check(_: Any, __: Any, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidInputError(f"{name} must be a number, got {value!r}")
        if not low <= value <= high:
            raise InvalidInputError(f"{name} must be {low:g} to {high:g}, got {value!r}")

    return check


def _at(value: Any) -> dt.datetime | None:
    """A time: an aware datetime, or ISO 8601 text with an offset (``Z`` too)."""
    if value is None:
        return None
    when = date_time("at", value)
    if when.tzinfo is None:
        raise InvalidInputError("at must say its time zone (e.g. 2026-12-05T07:30:00+01:00)")
    return when


def _text(name: str, longest: int) -> Callable[[Any, Any, Any], None]:
    def check(_: Any, __: Any, value: Any) -> None:
        if value is not None and (not isinstance(value, str) or not value.strip() or len(value) > longest):
            raise InvalidInputError(f"{name} must be text of 1 to {longest} characters, got {value!r}")

    return check


@attrs.frozen(kw_only=True)
class Action:
    """One thing to ask of a car. Subclasses name it (``name``, as the CLI spells it) and hold its values."""

    name: ClassVar[str]
    description: ClassVar[str]

    def values(self) -> dict[str, Any]:
        """The values given (left-out ones absent)."""
        return {k: v for k, v in attrs.asdict(self, recurse=False).items() if v is not None}


@attrs.frozen(kw_only=True)
class ClimateStart(Action):
    """Heat or cool the cabin, to ``temperature`` °C where the brand takes one, now or ``at`` a later time."""

    name = "climate-start"
    description = "Heat or cool the cabin (temperature °C where the car takes one; at: a later start)."
    temperature: float | None = attrs.field(default=None, validator=_number("temperature", 10, 35))
    at: dt.datetime | None = attrs.field(default=None, converter=_at)


@attrs.frozen(kw_only=True)
class ClimateStop(Action):
    name = "climate-stop"
    description = "Stop heating or cooling the cabin."


@attrs.frozen(kw_only=True)
class ChargeStart(Action):
    name = "charge-start"
    description = "Start charging now (the car plugged in)."


@attrs.frozen(kw_only=True)
class ChargeStop(Action):
    name = "charge-stop"
    description = "Stop (pause) charging."


@attrs.frozen(kw_only=True)
class ChargeLimits(Action):
    """The battery levels in %: below ``minimum`` the car charges at once; it stops at ``target``."""

    name = "charge-limits"
    description = "Set the charge limits in % (minimum: charge at once below it; target: stop there)."
    minimum: int | None = attrs.field(default=None, validator=_number("minimum", 0, 100))
    target: int | None = attrs.field(default=None, validator=_number("target", 0, 100))

    def __attrs_post_init__(self) -> None:
        if self.minimum is None and self.target is None:
            raise InvalidInputError("charge-limits takes minimum, target or both (%)")
        if self.minimum is not None and self.target is not None and self.minimum >= self.target:
            raise InvalidInputError(f"the minimum ({self.minimum} %) must be below the target ({self.target} %)")


def _mode(value: Any) -> ChargingMode:
    try:
        return ChargingMode(value)
    except ValueError:
        raise InvalidInputError(f"mode must be one of {', '.join(m.value for m in ChargingMode)}, got {value!r}") \
            from None


@attrs.frozen(kw_only=True)
class ChargeMode(Action):
    name = "charge-mode"
    description = "Charge whenever plugged in (mode=always) or by the car's schedules (mode=scheduled)."
    mode: ChargingMode = attrs.field(converter=_mode)


_UTC_TIME = re.compile(r"^T?([01]\d|2[0-3]):([0-5]\d)Z?$")


def _slot(value: Any, what: str, *, timed: bool) -> Slot | None:
    """A day's slot: a :class:`Slot`, ``{"startTime": "THH:MMZ", "duration": minutes}`` (charge) or
    ``{"readyAtTime": "THH:MMZ"}`` (A/C), as Home Assistant's Renault actions take them; ``None`` clears the day."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        time_key = "startTime" if timed else "readyAtTime"
        wanted = {time_key, "duration"} if timed else {time_key}
        if set(value) != wanted:
            raise InvalidInputError(f"{what} takes exactly {', '.join(sorted(wanted))}, got "
                                    f"{', '.join(sorted(map(str, value))) or 'nothing'}")
        text = value[time_key]
        match = _UTC_TIME.match(text) if isinstance(text, str) else None
        if match is None:
            raise InvalidInputError(f"{what}.{time_key} must be a UTC time as THH:MMZ (e.g. 'T23:30Z'), got {text!r}")
        value = Slot(dt.time(int(match[1]), int(match[2])), value.get("duration"))
    if not isinstance(value, Slot):
        raise InvalidInputError(f"{what} must be a slot (or None to clear the day), got {value!r}")
    if value.start.minute % 15 or value.start.second or value.start.microsecond:
        raise InvalidInputError(f"{what} must start on a quarter hour (:00, :15, :30, :45), got {value.start:%H:%M}")
    if not timed and value.minutes is not None:
        raise InvalidInputError(f"{what}: an A/C schedule's day is a ready-at time, without minutes")
    if timed:
        minutes = value.minutes
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 15 <= minutes <= 24 * 60:
            raise InvalidInputError(f"{what}.duration must be whole minutes, 15 to 1440, got {minutes!r}")
    return value


def _schedules(value: Any, timed: bool) -> tuple[WeeklySchedule, ...]:
    """Schedules as typed objects, or as Home Assistant's Renault actions write them (JSON text too), checked;
    the id's upper bound and how many there may be are the brand's."""
    if isinstance(value, str):  # a command line's JSON
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidInputError("schedules must be JSON: a schedule or a list of them") from None
    items = [value] if isinstance(value, Mapping | WeeklySchedule) else value
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        raise InvalidInputError("schedules takes a schedule (with an id) or a list of them")
    out: list[WeeklySchedule] = []
    for n, item in enumerate(items):
        if isinstance(item, Mapping):
            unknown = set(item) - {"id", "activated", *WEEKDAYS}
            if unknown:
                raise InvalidInputError(f"schedule #{n + 1}: unknown keys {', '.join(sorted(map(str, unknown)))}"
                                        " (id, activated, monday … sunday)")
            item = WeeklySchedule(id=item.get("id"), activated=item.get("activated"),  # type: ignore[arg-type]
                                  days={day: item[day] for day in WEEKDAYS if day in item})
        if not isinstance(item, WeeklySchedule):
            raise InvalidInputError(f"schedule #{n + 1} must be a mapping, got {item!r}")
        if isinstance(item.id, bool) or not isinstance(item.id, int) or item.id < 1:
            raise InvalidInputError(f"schedule #{n + 1}: id must be a whole number from 1, got {item.id!r}")
        if any(done.id == item.id for done in out):
            raise InvalidInputError(f"schedule id {item.id} is given twice")
        if item.activated is not None and not isinstance(item.activated, bool):
            raise InvalidInputError(f"schedule {item.id}: activated must be true or false, got {item.activated!r}")
        unknown_days = set(item.days) - set(WEEKDAYS)
        if unknown_days:
            raise InvalidInputError(f"schedule {item.id}: no weekday {', '.join(sorted(unknown_days))}")
        out.append(attrs.evolve(item, days={day: _slot(slot, f"schedule {item.id}.{day}", timed=timed)
                                            for day, slot in item.days.items()}))
    return tuple(out)


def _charge_schedules(value: Any) -> tuple[WeeklySchedule, ...]:
    return _schedules(value, timed=True)


def _climate_schedules(value: Any) -> tuple[WeeklySchedule, ...]:
    return _schedules(value, timed=False)


@attrs.frozen(kw_only=True)
class ChargeSchedules(Action):
    """Change the car's weekly charge schedules by id (:class:`~evclient.status.WeeklySchedule`, each day a
    :class:`~evclient.status.Slot` with its minutes); what is left out is kept."""

    name = "charge-schedules"
    description = ("Change weekly charge schedules by id (schedules: [{id, activated?, monday: {startTime: "
                   "'THH:MMZ', duration: minutes} | null, …}]); the rest are kept.")
    schedules: tuple[WeeklySchedule, ...] = attrs.field(converter=_charge_schedules)


@attrs.frozen(kw_only=True)
class ClimateSchedules(Action):
    """Change the car's weekly A/C schedules by id (each day a ready-at :class:`~evclient.status.Slot`)."""

    name = "climate-schedules"
    description = ("Change weekly A/C schedules by id (schedules: [{id, activated?, monday: {readyAtTime: "
                   "'THH:MMZ'} | null, …}]); the rest are kept.")
    schedules: tuple[WeeklySchedule, ...] = attrs.field(converter=_climate_schedules)


@attrs.frozen(kw_only=True)
class Lock(Action):
    name = "lock"
    description = "Lock the doors."


@attrs.frozen(kw_only=True)
class Unlock(Action):
    """``code``: what the brand asks to unlock, where it asks (legacy BMW: the security answer; without it, the
    one given to ``connect()``). Never shown in a repr."""

    name = "unlock"
    description = "Unlock the doors (code: a PIN or security answer, where the brand asks for one)."
    code: str | None = attrs.field(default=None, repr=False, validator=_text("code", 100))


@attrs.frozen(kw_only=True)
class Horn(Action):
    name = "horn"
    description = "Sound the horn."


@attrs.frozen(kw_only=True)
class Flash(Action):
    name = "flash"
    description = "Flash the lights."


@attrs.frozen(kw_only=True)
class Locate(Action):
    name = "locate"
    description = "Ask the car to send its position now."


@attrs.frozen(kw_only=True)
class SendDestination(Action):
    name = "send-destination"
    description = "Send a destination to the car's navigation (latitude, longitude; title: what to call it)."
    latitude: float = attrs.field(validator=_number("latitude", -90, 90))
    longitude: float = attrs.field(validator=_number("longitude", -180, 180))
    title: str | None = attrs.field(default=None, validator=_text("title", 100))


#: Every action by its name.
ACTIONS: Mapping[str, type[Action]] = {cls.name: cls for cls in (
    ClimateStart, ClimateStop, ChargeStart, ChargeStop, ChargeLimits, ChargeMode, ChargeSchedules, ClimateSchedules,
    Lock, Unlock, Horn, Flash, Locate, SendDestination,
)}

@attrs.frozen
class Range:
    """The values a brand takes for one of an action's numbers: ``low`` to ``high``, on steps of ``step`` from
    ``low`` where it has steps (an application reads them with ``Vehicle.ranges`` to draw a slider)."""

    low: float
    high: float
    step: float | None = None

    def check(self, what: str, value: float) -> None:
        """``InvalidInputError`` unless ``value`` is in the range, on a step."""
        steps = f" in steps of {self.step:g}" if self.step else ""
        off_step = self.step and not math.isclose((value - self.low) / self.step,
                                                  round((value - self.low) / self.step), abs_tol=1e-9)
        if not self.low <= value <= self.high or off_step:
            raise InvalidInputError(f"{what} must be {self.low:g} to {self.high:g}{steps}, got {value!r}")


@attrs.frozen
class ActionMap:
    """How a brand runs one action: ``command``, one of its commands (whose support on a car decides whether the
    car can), with ``params`` made from the action's values (raising ``InvalidInputError`` for a value the brand
    cannot take; without ``params`` the action must bring no values); ``other`` may pick another of its commands
    for some values (ZE Services: a later climate start); ``ranges`` bounds the action's numbers on this brand
    (checked before ``params`` is called, and shown by ``Vehicle.ranges``)."""

    command: str
    params: Callable[[VehicleInfo, Any], Mapping[str, Any]] | None = None
    other: Callable[[Any], str | None] | None = None
    ranges: Mapping[str, Range] = attrs.field(factory=dict)

    def __call__(self, vehicle: VehicleInfo, action: Action) -> tuple[str, Mapping[str, Any]]:
        for field, bounds in self.ranges.items():
            value = getattr(action, field, None)
            if value is not None:
                bounds.check(f"{action.name} {field}", value)
        name = (self.other(action) if self.other is not None else None) or self.command
        if self.params is not None:
            return name, self.params(vehicle, action)
        given = action.values()
        if given:
            raise InvalidInputError(f"{action.name} on this car takes no {', '.join(sorted(given))}")
        return name, {}


def fields_of(action: type[Action]) -> dict[str, Any]:
    """An action's values and their types (for a command line or a form)."""
    return {f.name: f.type for f in attrs.fields(action)}


def action_fields() -> dict[str, list[str]]:
    """Every value any action takes, with the actions that take it (a command line's options)."""
    found: dict[str, list[str]] = {}
    for name, cls in ACTIONS.items():
        for field in fields_of(cls):
            found.setdefault(field, []).append(name)
    return found


def action_from(name: str, values: Mapping[str, Any]) -> Action:
    """The action called ``name`` with ``values`` (text is converted: numbers, ISO times), or
    ``InvalidInputError`` naming what it takes."""
    cls = ACTIONS.get(name)
    if cls is None:
        raise InvalidInputError(f"no action {name!r}; the actions are {', '.join(ACTIONS)}")
    known = fields_of(cls)
    unknown = sorted(set(values) - set(known))
    if unknown:
        takes = ", ".join(known) or "nothing"
        raise InvalidInputError(f"{name} does not take {', '.join(unknown)} (it takes {takes})")
    given = {key: _from_text(value) if key not in ("title", "mode", "at", "code", "schedules") else value
             for key, value in values.items() if value is not None}
    try:
        return cls(**given)
    except TypeError as err:
        raise InvalidInputError(f"{name}: {err}") from None


def _from_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in value else number
    return value
