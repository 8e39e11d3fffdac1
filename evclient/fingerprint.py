"""``evclient fingerprint``: every endpoint of every car read once, anonymised, written as fixtures.

The output is laid out like ``fixtures/<brand>/<endpoint>/<model>-<n>.json`` so that an owner of a model
evclient does not know yet can contribute its answers in one step. VINs are replaced consistently (the
same car keeps the same made-up VIN in every file); positions, registrations, addresses, ids, e-mails
and tokens are replaced by placeholders of the same type, so the files still parse.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import EMAIL, PERSONAL_KEYS
from .errors import EVClientError
from .redact import secret_keys

if TYPE_CHECKING:
    from .account import Account

PLACEHOLDER = "REDACTED"
#: The folder, beside the endpoints' folders, holding what the car listing says of each car.
LISTING = "_listing"
#: Where every anonymised position points (the middle of the Atlantic: obviously not a real car).
FAKE_POSITION = {"lat": 45.0, "latitude": 45.0, "gpslatitude": 45.0, "lon": -30.0, "longitude": -30.0,
                 "gpslongitude": -30.0}


#: Keys the generic redaction hides that a fixture needs: a model ``code`` is no secret here (the
#: two-factor ``code`` never appears in an endpoint's body), and VINs are replaced, not hidden.
KEPT = frozenset({"vin", "code"})


def fake_vin(n: int) -> str:
    """A made-up 17-character VIN, the same for the same car number."""
    return f"EVCLIENTFP{n:07d}"


class Anonymiser:
    """Replaces a set of VINs consistently and every personal value by a placeholder of the same type."""

    def __init__(self, vins: dict[str, str]) -> None:
        self.vins = vins

    def text(self, value: str) -> str:
        for real, fake in self.vins.items():
            value = value.replace(real, fake)
        return EMAIL.sub("owner@example.com", value)

    def __call__(self, data: Any, key: str = "") -> Any:
        lowered = key.lower()
        if isinstance(data, dict):
            return {k: self(v, str(k)) for k, v in data.items()}
        if isinstance(data, list):
            return [self(v, key) for v in data]
        if data is None or isinstance(data, bool):
            return data
        if lowered in FAKE_POSITION and isinstance(data, int | float):
            return FAKE_POSITION[lowered]
        if isinstance(data, str) and data in self.vins:
            return self.vins[data]
        if lowered in secret_keys() | PERSONAL_KEYS and lowered not in KEPT:
            return 0 if isinstance(data, int | float) else PLACEHOLDER
        return self.text(data) if isinstance(data, str) else data


async def fingerprint(account: Account, folder: Path) -> list[Path]:
    """Read every endpoint of every car once (through the account's budget) and write the anonymised
    bodies under ``folder/<brand>/``; returns the files written. Endpoints a car lacks are skipped."""
    cars = await account.vehicles()
    anonymise = Anonymiser({car.vin: fake_vin(n + 1) for n, car in enumerate(cars)})
    written = []
    for n, car in enumerate(cars):
        model = re.sub(r"[^A-Za-z0-9_.-]+", "_", car.model or "car")
        # The listing says what the model is and can do (BMW's capability flags): without it a
        # contributed model is incomplete.
        listing = {"vin": car.vin, "model": car.model, "name": car.name,
                   "capabilities": dict(car.info.capabilities), "commands": list(car.commands), "raw": car.info.raw}
        written.append(_write(folder / account.brand.name / LISTING / f"{model}-{n + 1}.json", anonymise(listing)))
        for name, endpoint in car.endpoints.items():
            if endpoint.supported is False:
                continue
            if endpoint.spec.needs_parameters(car.info.context):
                continue  # a history needs a date range: not part of a model's fingerprint
            try:
                await car.refresh(name)
            except EVClientError:
                continue
            if endpoint.raw is None:
                continue
            written.append(_write(folder / account.brand.name / name / f"{model}-{n + 1}.json",
                                  anonymise(endpoint.raw)))
    return written


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
