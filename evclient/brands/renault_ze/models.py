"""ZE Services answers as typed models. Field names follow the API; units are in the names or below.

``remaining_time`` is a :class:`~datetime.timedelta` everywhere: the server sends minutes in the
battery answer but milliseconds in the charge history, and evclient hides that difference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from ...models import ApiEnum, from_epoch_ms, optional

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NOTIFICATION_KEYS = (
    "battery_status", "charge_start", "charge_end", "charge_problem", "low_battery", "low_battery_reminder",
)


class ChargingPoint(ApiEnum):
    SLOW = "SLOW"
    ACCELERATED = "ACCELERATED"
    FAST = "FAST"
    INVALID = "INVALID"
    UNKNOWN = "UNKNOWN"


class PreconditionType(ApiEnum):
    USER_REQUEST = "USER_REQUEST"
    CAR_NOTIFICATION = "CAR_NOTIFICATION"
    UNKNOWN = "UNKNOWN"


class PreconditionResult(ApiEnum):
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"


class ChargeEventType(ApiEnum):
    START_NOTIFICATION = "START_NOTIFICATION"
    END_NOTIFICATION = "END_NOTIFICATION"
    UNKNOWN = "UNKNOWN"


class Channel(ApiEnum):
    """Where the cloud sends a notification."""

    EMAIL = "EMAIL"
    SMS = "SMS"
    NONE = "NONE"
    UNKNOWN = "UNKNOWN"


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


def _hhmm(value: Any) -> dt.time:
    text = str(value)
    if len(text) != 4 or not text.isdigit():
        raise ValueError(f"{text!r} is not HHMM")
    return dt.time(int(text[:2]), int(text[2:]))


def hhmm(value: dt.time) -> str:
    """A time as the API writes it (``"1753"``)."""
    return f"{value.hour:02d}{value.minute:02d}"


def _hhmm_duration(value: Any) -> dt.timedelta:
    text = str(value)
    if len(text) != 4 or not text.isdigit():
        raise ValueError(f"{text!r} is not HHMM")
    return dt.timedelta(hours=int(text[:2]), minutes=int(text[2:]))


def hhmm_duration(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60:02d}{minutes % 60:02d}"


@attrs.frozen(kw_only=True)
class Battery:
    """``GET /vehicle/{VIN}/battery``: the state the car last reported.

    ``charge_level`` is percent, ``remaining_range`` km; ``charging_point`` is there only while
    plugged in and ``remaining_time`` (time to full) only while charging.
    """

    charging: bool
    plugged: bool
    charge_level: int
    remaining_range: float | None
    last_update: dt.datetime
    charging_point: ChargingPoint | None = None
    remaining_time: dt.timedelta | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> Battery:
        return cls(
            charging=_bool(body["charging"]),
            plugged=_bool(body["plugged"]),
            charge_level=int(body["charge_level"]),
            remaining_range=optional(float, body.get("remaining_range")),
            last_update=from_epoch_ms(body["last_update"]),
            charging_point=optional(ChargingPoint.parse, body.get("charging_point")),
            remaining_time=optional(lambda m: dt.timedelta(minutes=float(m)), body.get("remaining_time")),
            raw=body,
        )


@attrs.frozen(kw_only=True)
class PreconditionRecord:
    """One preconditioning: when (``date``), who asked (``type``) and how it went (``result``)."""

    date: dt.datetime
    type: PreconditionType
    result: PreconditionResult
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> PreconditionRecord:
        return cls(
            date=from_epoch_ms(body["date"]),
            type=PreconditionType.parse(body["type"]),
            result=PreconditionResult.parse(body["result"]),
            raw=body,
        )


def parse_precondition_last(body: Any) -> PreconditionRecord | None:
    """The latest preconditioning, or ``None`` for a car that has never been preconditioned."""
    if isinstance(body, dict) and body.get("code") == "NOT_FOUND":
        return None
    return PreconditionRecord.from_json(body)


def parse_precondition_history(body: Any) -> tuple[PreconditionRecord, ...]:
    if not isinstance(body, list):
        raise TypeError("expected a list of records")
    return tuple(PreconditionRecord.from_json(item) for item in body)


@attrs.frozen(kw_only=True)
class ChargeEvent:
    """One entry of the charge history (newest first): ``charge_level`` percent, ``remaining_autonomy`` km,
    ``remaining_time`` to full (the server's milliseconds, as a timedelta)."""

    date: dt.datetime
    type: ChargeEventType
    charging_point: ChargingPoint | None
    charge_level: int | None
    remaining_autonomy: float | None
    remaining_time: dt.timedelta | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> ChargeEvent:
        return cls(
            date=from_epoch_ms(body["date"]),
            type=ChargeEventType.parse(body["type"]),
            charging_point=optional(ChargingPoint.parse, body.get("charging_point")),
            charge_level=optional(int, body.get("charge_level")),
            remaining_autonomy=optional(float, body.get("remaining_autonomy")),
            remaining_time=optional(lambda ms: dt.timedelta(milliseconds=float(ms)), body.get("remaining_time")),
            raw=body,
        )


def parse_charge_history(body: Any) -> tuple[ChargeEvent, ...]:
    if not isinstance(body, list):
        raise TypeError("expected a list of charge events")
    return tuple(ChargeEvent.from_json(item) for item in body)


@attrs.frozen
class QuietHours:
    """The daily do-not-disturb window (local times; it may run past midnight)."""

    start: dt.time
    end: dt.time

    def to_json(self) -> dict[str, str]:
        return {"start": hhmm(self.start), "end": hhmm(self.end)}


@attrs.frozen(kw_only=True)
class NotificationSettings:
    """``GET /vehicle/{VIN}/settings/notification``: a channel per event, and an optional quiet window."""

    battery_status: Channel
    charge_start: Channel
    charge_end: Channel
    charge_problem: Channel
    low_battery: Channel
    low_battery_reminder: Channel
    do_not_disturb: QuietHours | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> NotificationSettings:
        quiet = body.get("do_not_disturb")
        return cls(
            **{key: Channel.parse(body[key]) for key in NOTIFICATION_KEYS},
            do_not_disturb=None if quiet is None else QuietHours(_hhmm(quiet["start"]), _hhmm(quiet["end"])),
            raw=body,
        )

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {key: getattr(self, key).value for key in NOTIFICATION_KEYS}
        body["do_not_disturb"] = None if self.do_not_disturb is None else self.do_not_disturb.to_json()
        return body


@attrs.frozen
class DaySlot:
    """One day's charging slot: it starts at ``start`` (local) and lasts ``duration``."""

    start: dt.time
    duration: dt.timedelta

    def to_json(self) -> dict[str, str]:
        return {"start": hhmm(self.start), "duration": hhmm_duration(self.duration)}


@attrs.frozen(kw_only=True)
class ChargeSchedule:
    """``GET /vehicle/{VIN}/charge/scheduler/onboard``: the weekly calendar and whether the car follows it."""

    enabled: bool
    days: Mapping[str, DaySlot] | None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> ChargeSchedule:
        schedule = body.get("schedule")
        days = None
        if schedule is not None:
            days = {
                day: DaySlot(_hhmm(schedule[day]["start"]), _hhmm_duration(schedule[day]["duration"]))
                for day in DAYS
                if schedule.get(day) is not None
            }
        return cls(enabled=_bool(body["enabled"]), days=days, raw=body)
