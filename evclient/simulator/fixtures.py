"""Where evclient's own fixtures live: ``fixtures/`` in a checkout, ``evclient/_fixtures`` in a wheel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def fixtures_dir() -> Path:
    """The fixtures folder (server bodies and simulated cars, by brand)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_fixtures", package.parent / "fixtures"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("evclient's fixtures folder is missing from this installation")


def load(brand: str, *parts: str) -> Any:
    """One fixture as JSON, e.g. ``load("renault_ze", "battery", "charging.json")``."""
    return json.loads(fixtures_dir().joinpath(brand, *parts).read_text(encoding="utf-8"))


def cars(brand: str) -> list[dict[str, Any]]:
    """Every simulated car of a brand (``fixtures/<brand>/cars/*.json``), in file-name order."""
    folder = fixtures_dir() / brand / "cars"
    if not folder.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
