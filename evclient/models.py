"""Helpers every brand's models share: enums that survive new server values, time conversions."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Self

import attrs


class ApiEnum(enum.StrEnum):
    """A server enumeration. A value evclient does not know yet becomes ``UNKNOWN`` instead of an error;
    the model's ``raw`` keeps what the server said. Subclasses must define ``UNKNOWN``."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls.__members__["UNKNOWN"]

    @classmethod
    def parse(cls, value: Any) -> Self:
        # The value map first: calling an Enum class costs several times more, at every poll.
        member = cls._value2member_map_.get(value) if isinstance(value, str) else None
        return member if member is not None else cls(value)  # type: ignore[return-value]


def from_epoch_ms(value: Any) -> dt.datetime:
    """Epoch milliseconds (int, float or digit string) → an aware UTC datetime."""
    if isinstance(value, bool):
        raise TypeError("a timestamp is a number")
    return dt.datetime.fromtimestamp(float(value) / 1000.0, dt.UTC)


def optional(parse: Any, value: Any) -> Any:
    """``parse(value)``, or ``None`` when the server left the field out or sent null."""
    return None if value is None else parse(value)


def plain(value: Any) -> Any:
    """A model as JSON-ready data: datetimes ISO 8601, durations in seconds, enums by value, no ``raw``."""
    if attrs.has(type(value)):
        return {a.name: plain(getattr(value, a.name)) for a in attrs.fields(type(value)) if a.name != "raw"}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"bytes": len(value)}  # an image: its size, never a repr of its content
    return value
