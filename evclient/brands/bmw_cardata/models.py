"""CarData's answers as typed models. Telematic values arrive as strings over REST and typed over the stream;
both become the same :class:`TelematicValue`, and unknown keys are kept as they came."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import attrs

from ...models import ApiEnum


def epoch(stamp: Any) -> float | None:
    """An ISO 8601 time (``2025-09-30T08:15:00Z``) or epoch seconds/milliseconds, as epoch seconds."""
    if stamp is None or isinstance(stamp, bool):
        return None
    if isinstance(stamp, int | float):
        value = float(stamp)
        return value / 1000 if value > 1e11 else value
    text = str(stamp).strip()
    if not text:
        return None
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def typed(value: Any) -> Any:
    """A telematic value as Python: numbers from their text, ``true``/``false`` and BMW's ``asn_istrue`` /
    ``asn_isfalse`` as booleans, the rest as strings (``None`` stays ``None``)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if not isinstance(value, float) or math.isfinite(value) else None
    text = str(value).strip()
    lowered = text.lower()
    if lowered in ("true", "asn_istrue"):
        return True
    if lowered in ("false", "asn_isfalse"):
        return False
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return int(number) if number.is_integer() and "." not in text and "e" not in lowered else number


@attrs.frozen
class TelematicValue:
    """One key's value, its unit and when the car measured it (epoch seconds)."""

    value: Any
    unit: str | None = None
    timestamp: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TelematicValue:
        unit = data.get("unit")
        return cls(typed(data.get("value")), None if unit in (None, "") else str(unit), epoch(data.get("timestamp")))


#: A car's telematic values by key (BMW's technical descriptor).
Telematics = dict[str, TelematicValue]


def parse_telematics(body: Any) -> Telematics:
    """``GET .../telematicData``: ``{"telematicData": {key: {"timestamp", "unit", "value"}}}``."""
    entries = body["telematicData"]
    if not isinstance(entries, Mapping):
        raise TypeError("telematicData")
    return {str(key): TelematicValue.from_json(entry) for key, entry in entries.items() if isinstance(entry, Mapping)}


def parse_stream_data(data: Mapping[str, Any]) -> Telematics:
    """A stream message's ``data``: only the keys that changed, with typed values."""
    return {str(key): TelematicValue.from_json(entry) for key, entry in data.items() if isinstance(entry, Mapping)}


def merge_telematics(old: Telematics, new: Telematics) -> Telematics:
    """Each key keeps the value the car measured last, whichever arrived last (a slow REST answer after a push,
    latitude and longitude in separate messages)."""
    merged = dict(old)
    for key, value in new.items():
        kept = merged.get(key)
        if kept is None or kept.timestamp is None or value.timestamp is None or value.timestamp >= kept.timestamp:
            merged[key] = value
    return merged


def newest(values: Telematics) -> float | None:
    stamps = [v.timestamp for v in values.values() if v.timestamp is not None]
    return max(stamps) if stamps else None


class MappingType(ApiEnum):
    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"
    UNKNOWN = "UNKNOWN"


@attrs.frozen
class VehicleMapping:
    """A car mapped to the owner's account; only PRIMARY cars may be queried."""

    vin: str
    mapping_type: MappingType
    mapped_since: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VehicleMapping:
        return cls(str(data["vin"]), MappingType.parse(data.get("mappingType")), data.get("mappedSince"))


def parse_mappings(body: Any) -> list[VehicleMapping]:
    """The swagger shows one object; the server sends a list (REFERENCE §3b): both are read."""
    items = body if isinstance(body, list) else [body]
    return [VehicleMapping.from_json(item) for item in items if isinstance(item, Mapping)]


class ContainerState(ApiEnum):
    ACTIVE = "ACTIVE"
    DELETED = "DELETED"
    UNKNOWN = "UNKNOWN"


@attrs.frozen
class Container:
    container_id: str
    name: str
    state: ContainerState
    purpose: str | None = None
    created: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Container:
        return cls(str(data["containerId"]), str(data.get("name") or ""), ContainerState.parse(data.get("state")),
                   data.get("purpose"), data.get("created"))


def parse_containers(body: Any) -> list[Container]:
    return [Container.from_json(item) for item in body["containers"]]


@attrs.frozen(kw_only=True)
class BasicData:
    """``GET .../basicData``: what the car is (the rest stays in ``raw``)."""

    vin: str
    brand: str | None = None
    model_name: str | None = None
    series: str | None = None
    drive_train: str | None = None
    propulsion_type: str | None = None
    charging_modes: tuple[str, ...] = ()
    battery_kwh: float | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> BasicData:
        energy = typed(data.get("hvsMaxEnergyAbsolute"))
        return cls(vin=str(data["vin"]), brand=data.get("brand"), model_name=data.get("modelName"),
                   series=data.get("series"), drive_train=data.get("driveTrain"),
                   propulsion_type=data.get("propulsionType"),
                   charging_modes=tuple(str(m) for m in data.get("chargingModes") or ()),
                   battery_kwh=float(energy) if isinstance(energy, int | float) else None, raw=dict(data))


@attrs.frozen(kw_only=True)
class ChargingSession:
    """One charging session of ``chargingHistory`` (times as epoch seconds)."""

    start: float
    end: float
    start_soc: int
    end_soc: int
    duration_s: int
    energy_kwh: float | None = None
    mileage: int | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChargingSession:
        energy = data.get("energyConsumedFromPowerGridKwh")
        return cls(start=float(epoch(data["startTime"]) or 0.0), end=float(epoch(data["endTime"]) or 0.0),
                   start_soc=int(data["displayedStartSoc"]), end_soc=int(data["displayedSoc"]),
                   duration_s=int(data["totalChargingDurationSec"]),
                   energy_kwh=None if energy is None else float(energy),
                   mileage=None if data.get("mileage") is None else int(data["mileage"]), raw=dict(data))


@attrs.frozen
class Page:
    """One page of a paged answer: the items and the token of the next page (``None``: the last)."""

    items: tuple[Any, ...]
    next_token: str | None


def parse_charging_history(body: Any) -> Page:
    return Page(tuple(ChargingSession.from_json(s) for s in body["data"]), body.get("next_token") or None)


def parse_charging_settings(body: Any) -> Page:
    return Page(tuple(dict(s) for s in body.get("data") or ()), body.get("nextToken") or None)


@attrs.frozen(kw_only=True)
class TyreDiagnosis:
    """``smartMaintenanceTyreDiagnosis``: the mounted and unmounted tyre sets as BMW describes them."""

    mounted: Mapping[str, Any] | None
    unmounted: Mapping[str, Any] | None
    errors: tuple[Any, ...] = ()
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> TyreDiagnosis:
        car = data.get("passengerCar") or {}
        return cls(mounted=car.get("mountedTyres"), unmounted=car.get("unmountedTyres"),
                   errors=tuple(data.get("errors") or ()), raw=dict(data))


def parse_image(body: Any) -> bytes:
    if not isinstance(body, bytes | bytearray) or not body:
        raise ValueError("image")
    return bytes(body)
