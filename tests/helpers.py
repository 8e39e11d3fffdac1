"""Helpers the test modules share."""

from __future__ import annotations

import enum
from typing import Any

import attrs


def unknown_enums(value: Any, path: str = "") -> list[str]:
    """Where a parsed model holds an enum that fell back to UNKNOWN (every ``UNKNOWN`` member counts)."""
    if isinstance(value, enum.Enum):
        return [path or "value"] if value.name == "UNKNOWN" else []
    found = []
    if attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            if field.name != "raw":
                found += unknown_enums(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += unknown_enums(item, f"{path}[{key}]")
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            found += unknown_enums(item, f"{path}[{n}]")
    return found
