"""Checking what callers ask of ZE Services before a request is spent.

Every function raises :class:`~evclient.errors.InvalidInputError` (a ``ValueError``) with a message
that says what was wrong and what is expected.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from ...errors import InvalidInputError
from .models import DAYS, NOTIFICATION_KEYS, Channel, DaySlot, QuietHours

_TIME = re.compile(r"^(\d{1,2}):?(\d{2})$")
_MONTH = re.compile(r"^(\d{2})(\d{2})$|^(\d{4})-(\d{2})$")


def time_of_day(value: Any, what: str = "time", *, quarter: bool = False) -> dt.time:
    """``datetime.time``, ``"HH:MM"`` or ``"HHMM"`` → a time; ``quarter`` demands :00/:15/:30/:45."""
    if isinstance(value, dt.time):
        parsed = value
    else:
        match = _TIME.match(str(value).strip()) if isinstance(value, str) else None
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise InvalidInputError(f"{what} must be a time of day as HH:MM, got {value!r}")
        parsed = dt.time(int(match[1]), int(match[2]))
    if parsed.second or parsed.microsecond:
        raise InvalidInputError(f"{what} must be whole minutes, got {parsed.isoformat()}")
    if quarter and parsed.minute % 15:
        raise InvalidInputError(f"{what} must start on :00, :15, :30 or :45, got {parsed.strftime('%H:%M')}")
    return parsed


def duration(value: Any, what: str = "duration") -> dt.timedelta:
    """``timedelta``, whole minutes, ``"H:MM"`` or ``"HHMM"`` → a duration of 15 min to 24 h in 15-minute steps."""
    if isinstance(value, dt.timedelta):
        parsed = value
    elif isinstance(value, int) and not isinstance(value, bool):
        parsed = dt.timedelta(minutes=value)
    else:
        match = _TIME.match(value.strip()) if isinstance(value, str) else None
        if match is None or int(match[2]) > 59:
            raise InvalidInputError(f"{what} must be H:MM, HHMM or minutes, got {value!r}")
        parsed = dt.timedelta(hours=int(match[1]), minutes=int(match[2]))
    minutes = parsed.total_seconds() / 60
    if minutes % 15 or not 15 <= minutes <= 24 * 60:
        raise InvalidInputError(f"{what} must be 15 minutes to 24 hours in 15-minute steps, got {minutes:g} min")
    return parsed


def month(value: Any, what: str) -> tuple[int, int]:
    """``"MMYY"``, ``"YYYY-MM"`` or a date → (year, month)."""
    if isinstance(value, dt.date):
        return value.year, value.month
    match = _MONTH.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidInputError(f"{what} must be a month as MMYY (e.g. 1016) or YYYY-MM, got {value!r}")
    year, number = (2000 + int(match[2]), int(match[1])) if match[1] else (int(match[3]), int(match[4]))
    if not 1 <= number <= 12:
        raise InvalidInputError(f"{what} has no month {number}")
    if not 2000 <= year <= 2099:
        raise InvalidInputError(f"{what}: the API counts years 2000-2099 only")
    return year, number


def month_range(*, begin: Any = None, end: Any = None) -> dict[str, str]:
    """The ``begin`` / ``end`` query of the history endpoints (months, inclusive).

    A missing bound takes the other one's month; with neither, both are the current month (by this
    machine's calendar)."""
    today = dt.date.today()
    first = month(begin, "begin") if begin is not None else None
    last = month(end, "end") if end is not None else None
    first = first or last or (today.year, today.month)
    last = last or first
    if first > last:
        raise InvalidInputError("begin must not be after end")
    return {"begin": f"{first[1]:02d}{first[0] % 100:02d}", "end": f"{last[1]:02d}{last[0] % 100:02d}"}


def channel(value: Any, what: str) -> Channel:
    text = value.value if isinstance(value, Channel) else str(value).strip().upper()
    if text not in {"EMAIL", "SMS", "NONE"}:
        raise InvalidInputError(f"{what} must be EMAIL, SMS or NONE, got {value!r}")
    return Channel(text)


def quiet_hours(value: Any) -> QuietHours | None:
    """``None`` (no quiet hours), a :class:`QuietHours`, ``{"start", "end"}`` or ``"HH:MM-HH:MM"``."""
    if value is None or isinstance(value, QuietHours):
        return value
    if isinstance(value, str) and value.strip().lower() in {"", "none", "null", "off"}:
        return None
    if isinstance(value, str) and "-" in value:
        start, _, end = value.partition("-")
    elif isinstance(value, Mapping) and set(value) == {"start", "end"}:
        start, end = value["start"], value["end"]
    else:
        raise InvalidInputError(f"do_not_disturb must be null, HH:MM-HH:MM or {{start, end}}, got {value!r}")
    return QuietHours(time_of_day(start, "do_not_disturb start"), time_of_day(end, "do_not_disturb end"))


def notification_changes(params: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a caller wants changed (the rest stay as they are)."""
    unknown = set(params) - {*NOTIFICATION_KEYS, "do_not_disturb"}
    if unknown:
        raise InvalidInputError(
            f"unknown notification settings: {', '.join(sorted(unknown))}; "
            f"known: {', '.join((*NOTIFICATION_KEYS, 'do_not_disturb'))}"
        )
    if not params:
        raise InvalidInputError("give at least one setting to change")
    changes: dict[str, Any] = {key: channel(params[key], key) for key in NOTIFICATION_KEYS if key in params}
    if "do_not_disturb" in params:
        changes["do_not_disturb"] = quiet_hours(params["do_not_disturb"])
    return changes


def day_slot(value: Any, day: str) -> DaySlot:
    """A :class:`DaySlot`, ``{"start", "duration"}`` or ``"HH:MM/H:MM"`` (start / duration)."""
    start: Any
    length: Any
    if isinstance(value, DaySlot):
        start, length = value.start, value.duration
    elif isinstance(value, Mapping) and set(value) == {"start", "duration"}:
        start, length = value["start"], value["duration"]
    elif isinstance(value, str) and "/" in value:
        start, _, length = value.partition("/")
    else:
        raise InvalidInputError(f"{day} must be {{start, duration}} or HH:MM/H:MM, got {value!r}")
    return DaySlot(time_of_day(start, f"{day} start", quarter=True), duration(length, f"{day} duration"))


def weekly_schedule(value: Any) -> dict[str, DaySlot]:
    """One slot for each of the seven days (the API insists on all seven)."""
    if not isinstance(value, Mapping):
        raise InvalidInputError("schedule must map mon … sun to a slot each")
    days = {str(k).lower()[:3]: v for k, v in value.items()}
    unknown = set(days) - set(DAYS)
    if unknown:
        raise InvalidInputError(f"unknown days in the schedule: {', '.join(sorted(unknown))}")
    missing = [d for d in DAYS if d not in days]
    if missing:
        raise InvalidInputError(f"the schedule needs a slot for every day; missing: {', '.join(missing)}")
    return {day: day_slot(days[day], day) for day in DAYS}


def flag(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "1", "on", "false", "no", "0", "off"}:
        return value.strip().lower() in {"true", "yes", "1", "on"}
    raise InvalidInputError(f"{what} must be true or false, got {value!r}")
