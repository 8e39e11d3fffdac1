"""Helpers every brand's models share: enums that survive new server values, time conversions."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Self


class ApiEnum(enum.StrEnum):
    """A server enumeration. A value evclient does not know yet becomes ``UNKNOWN`` instead of an error;
    the model's ``raw`` keeps what the server said. Subclasses must define ``UNKNOWN``."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls.__members__["UNKNOWN"]

    @classmethod
    def parse(cls, value: Any) -> Self:
        return cls(value)


def from_epoch_ms(value: Any) -> dt.datetime:
    """Epoch milliseconds (int, float or digit string) → an aware UTC datetime."""
    if isinstance(value, bool):
        raise TypeError("a timestamp is a number")
    return dt.datetime.fromtimestamp(float(value) / 1000.0, dt.UTC)


def optional(parse: Any, value: Any) -> Any:
    """``parse(value)``, or ``None`` when the server left the field out or sent null."""
    return None if value is None else parse(value)
