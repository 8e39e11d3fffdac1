"""Checks of values the caller passes (numbers, times): each raises :class:`~evclient.errors.InvalidInputError`."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from .errors import InvalidInputError


def is_number(value: Any) -> bool:
    """A real int or float (``True`` is not a number of seconds)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def positive_seconds(what: str, value: Any) -> float:
    """``value`` as a positive, finite number of seconds."""
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        raise InvalidInputError(f"{what} must be a positive number of seconds, got {value!r}")
    return float(value)


def whole(what: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as a whole number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"of at least {low}" if high is None else f"from {low} to {high}"
        raise InvalidInputError(f"{what} must be a whole number {bound}, got {value!r}")
    return value


def date_time(what: str, value: Any) -> dt.datetime:
    """``value`` as a datetime: one already, or ISO 8601 text (``Z`` for UTC); naive ones stay naive."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(f"{what} must be a date and time (ISO 8601), got {value!r}") from None
    if not isinstance(value, dt.datetime):
        raise InvalidInputError(f"{what} must be a datetime, got {value!r}")
    return value
