"""Charge and A/C schedules: checking what the caller asks, and merging it into what the car has.

The semantics are Home Assistant's (``renault.charge_set_schedules`` / ``renault.ac_set_schedules``):
each schedule names its ``id`` (1 to 5); ``activated`` left out keeps the current flag; a weekday left
out keeps its slot, a weekday given as ``None`` clears it. The API only takes the whole list, so the
library reads the current one, merges, and posts all of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ...errors import InvalidInputError
from .models import DAYS, Schedule

_UTC_TIME = re.compile(r"^T([01]\d|2[0-3]):([0-5]\d)Z$")
MAX_ID = 5


@attrs.frozen
class Kind:
    """A schedule family: the fields of a day's slot."""

    name: str
    time_key: str  # startTime (charge) or readyAtTime (A/C)
    has_duration: bool


CHARGE = Kind("charge schedule", "startTime", has_duration=True)
HVAC = Kind("A/C schedule", "readyAtTime", has_duration=False)


@attrs.frozen
class Change:
    """One schedule as the caller asked it: ``days`` holds only the weekdays given (``None``: clear)."""

    id: int
    activated: bool | None
    days: Mapping[str, Mapping[str, Any] | None]


def utc_time(value: Any, what: str) -> str:
    """``"THH:MMZ"`` (UTC, on a quarter hour) → the same string, checked."""
    match = _UTC_TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInputError(f"{what} must be a UTC time as THH:MMZ (e.g. 'T23:30Z'), got {value!r}")
    if int(match[2]) % 15:
        raise InvalidInputError(f"{what} must be on a quarter hour (:00, :15, :30, :45), got {value!r}")
    return str(value)


def _minutes(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{what} must be whole minutes, got {value!r}")
    if not 15 <= value <= 24 * 60:
        raise InvalidInputError(f"{what} must be 15 to 1440 minutes, got {value}")
    return value


def _slot(kind: Kind, value: Any, what: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{what} must be a mapping (or None to clear the day), got {value!r}")
    wanted = {kind.time_key, "duration"} if kind.has_duration else {kind.time_key}
    if set(value) != wanted:
        raise InvalidInputError(f"{what} takes exactly {', '.join(sorted(wanted))}, got {', '.join(sorted(value))}")
    slot: dict[str, Any] = {kind.time_key: utc_time(value[kind.time_key], f"{what}.{kind.time_key}")}
    if kind.has_duration:
        slot["duration"] = _minutes(value["duration"], f"{what}.duration")
    return slot


def changes(kind: Kind, value: Any) -> tuple[Change, ...]:
    """Check the caller's schedules (one mapping or a list of them) before any request is spent."""
    items: Sequence[Any] = [value] if isinstance(value, Mapping) else value
    if isinstance(value, str) or not isinstance(items, Sequence) or not items:
        raise InvalidInputError(f"schedules must be a {kind.name} (a mapping with an id) or a list of them")
    out: list[Change] = []
    for n, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidInputError(f"schedule #{n + 1} must be a mapping, got {item!r}")
        unknown = set(item) - {"id", "activated", *DAYS}
        if unknown:
            raise InvalidInputError(f"schedule #{n + 1}: unknown keys {', '.join(sorted(unknown))} "
                                    f"(id, activated, monday … sunday)")
        sid = item.get("id")
        if isinstance(sid, bool) or not isinstance(sid, int) or not 1 <= sid <= MAX_ID:
            raise InvalidInputError(f"schedule #{n + 1}: id must be 1 to {MAX_ID}, got {sid!r}")
        if any(c.id == sid for c in out):
            raise InvalidInputError(f"schedule id {sid} is given twice")
        activated = item.get("activated")
        if activated is not None and not isinstance(activated, bool):
            raise InvalidInputError(f"schedule {sid}: activated must be true or false, got {activated!r}")
        days = {day: _slot(kind, item[day], f"schedule {sid}.{day}") for day in DAYS if day in item}
        out.append(Change(id=sid, activated=activated, days=days))
    return tuple(out)


def merge(current: Sequence[Schedule], wanted: Sequence[Change]) -> list[dict[str, Any]]:
    """The whole list to post: ``current`` with each change applied by id (new ids are added)."""
    by_id = {s.id: {"id": s.id, "activated": s.activated, **{d: dict(slot) for d, slot in s.days.items()}}
             for s in current}
    for change in wanted:
        entry = by_id.setdefault(change.id, {"id": change.id, "activated": False})
        if change.activated is not None:
            entry["activated"] = change.activated
        for day, slot in change.days.items():
            if slot is None:
                entry.pop(day, None)
            else:
                entry[day] = dict(slot)
    return [by_id[sid] for sid in sorted(by_id)]


def same(read: Sequence[Schedule], posted: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the schedules read back are the ones posted (the car has taken them)."""
    return sorted((s.to_json() for s in read), key=lambda s: s["id"]) == sorted(
        (dict(p) for p in posted), key=lambda s: s["id"])
