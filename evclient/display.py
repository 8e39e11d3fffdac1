"""Plain-text output shared by the command line and the demo: table cells and aligned tables."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from .models import plain


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 entry``, ``2 entries``."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def summary(value: Any, width: int = 100) -> str:
    """One line for a table cell."""
    data = plain(value)
    if isinstance(data, dict):
        text = ", ".join(f"{k}={short(v)}" for k, v in data.items() if v is not None)
    elif isinstance(data, list):
        text = plural(len(data), "entry", "entries") + (f", newest {short(data[0])}" if data else "")
    else:
        text = short(data)
    return text if len(text) <= width else text[: width - 1] + "…"


def short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={short(v)}" for k, v in value.items() if v is not None) + "}"
    return json.dumps(value) if isinstance(value, list) else str(value)


def pretty(value: Any) -> str:
    """A parsed model over several lines."""
    data = plain(value)
    if isinstance(data, list):
        return "\n".join(summary(v) for v in value) or "(none)"
    if isinstance(data, dict):
        return "\n".join(f"{k}: {short(v)}" for k, v in data.items())
    return str(data)


def table(rows: Sequence[Sequence[str]], out: Any = None) -> None:
    out = out or sys.stdout
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out)
