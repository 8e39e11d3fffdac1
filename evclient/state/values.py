"""The cars' last values as a part of the account's state: exported for a later process, taken back by it."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..vehicle import Source

if TYPE_CHECKING:
    from ..vehicle import Vehicle

_LOG = logging.getLogger("evclient")


def export_values(cars: Iterable[Vehicle]) -> dict[str, dict[str, Any]]:
    """Each car's last values read by request (VIN → endpoint → the answer and its times)."""
    saved: dict[str, dict[str, Any]] = {}
    for vehicle in cars:
        for name, endpoint in vehicle.endpoints.items():
            if endpoint.source not in (Source.POLL, Source.READ) or endpoint.spec.binary or endpoint.raw is None:
                continue
            saved.setdefault(vehicle.vin, {})[name] = {
                "raw": endpoint.raw, "fetched_at": endpoint.fetched_at, "measured_at": endpoint.measured_at,
                "source": endpoint.source}
    return saved


def import_values(cars: Mapping[str, Vehicle], saved: Mapping[str, Any], wall_now: float) -> int:
    """Take back what :func:`export_values` gave into endpoints that hold nothing yet; returns how many values
    were taken. A saved answer that no longer parses (an older evclient's) is skipped: it is read again."""
    taken = 0
    for vin, endpoints in (saved.items() if isinstance(saved, Mapping) else ()):
        vehicle = cars.get(vin)
        if vehicle is None or not isinstance(endpoints, Mapping):
            continue
        for name, entry in endpoints.items():
            endpoint = vehicle.endpoints.get(name)
            if endpoint is None or endpoint.value is not None or not isinstance(entry, Mapping):
                continue
            fetched = entry.get("fetched_at")
            if not isinstance(fetched, int | float) or not math.isfinite(fetched):
                continue
            try:
                value = endpoint.spec.parse(entry.get("raw"))
                source = Source(entry.get("source", "read"))
            except Exception as err:
                _LOG.debug("a saved %s value no longer parses (%s): it is read again", name, type(err).__name__)
                continue
            measured = entry.get("measured_at")
            vehicle.store(name, value, source=source, received_at=min(float(fetched), wall_now), raw=entry.get("raw"),
                          measured_at=float(measured) if isinstance(measured, int | float) else None)
            taken += 1
    return taken
