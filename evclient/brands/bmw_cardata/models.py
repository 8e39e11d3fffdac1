"""CarData's answers as typed models. Telematic values arrive as strings over REST and typed over the stream;
both become the same :class:`TelematicValue`, and unknown keys are kept as they came."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from typing import Any

import attrs

from ...models import ApiEnum

#: The times a car can have measured anything: 2000-01-01 to 2100-01-01 (epoch seconds). A stamp outside is
#: not a time but a broken field (``1e15``, a 401-digit number), and would break every date it meets later.
FIRST_STAMP = 946684800.0
LAST_STAMP = 4102444800.0
#: The largest magnitude a telematic number may have, and the longest text (a VIN, an address, a message).
MAX_NUMBER = 1e15
MAX_TEXT = 4096


def epoch(stamp: Any) -> float | None:
    """An ISO 8601 time (``2025-09-30T08:15:00Z``) or epoch seconds/milliseconds, as epoch seconds.

    ``None`` and an empty text are no time; anything that is not a time between 2000 and 2100 raises
    ``ValueError``.
    """
    if stamp is None or isinstance(stamp, bool):
        return None
    if isinstance(stamp, int | float):
        try:
            value = float(stamp)
        except OverflowError:
            raise ValueError("a timestamp out of range") from None
        if not math.isfinite(value):
            raise ValueError("a timestamp that is not a number")
        value = value / 1000 if value > 1e11 else value
    else:
        text = str(stamp).strip()
        if not text:
            return None
        if len(text) > 64:
            raise ValueError("a timestamp too long to be one")
        return _iso_epoch(text)
    if not FIRST_STAMP <= value <= LAST_STAMP:
        raise ValueError("a timestamp outside 2000–2100")
    return value


@functools.lru_cache(maxsize=512)
def _iso_epoch(text: str) -> float:
    """An ISO 8601 text as epoch seconds, parsed once: a message's keys mostly share one stamp, and a car's
    messages repeat the stamps of keys that did not move."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except OverflowError:
        raise ValueError("a timestamp out of range") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    value = parsed.timestamp()
    if not FIRST_STAMP <= value <= LAST_STAMP:
        raise ValueError("a timestamp outside 2000–2100")
    return value


def typed(value: Any) -> Any:
    """A telematic value as Python: numbers from their text, ``true``/``false`` and BMW's ``asn_istrue`` /
    ``asn_isfalse`` as booleans, the rest as strings (``None`` stays ``None``). A number beyond any car's
    reading or an overlong text raises ``ValueError``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            raise ValueError("a number out of range") from None
        if not math.isfinite(number) or abs(number) > MAX_NUMBER:
            raise ValueError("a number out of range")
        return value
    if isinstance(value, dict | list):
        raise ValueError("a structure where a value belongs")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValueError("an overlong text")
    lowered = text.lower()
    if lowered in ("true", "asn_istrue"):
        return True
    if lowered in ("false", "asn_isfalse"):
        return False
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
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
        """One entry; ``ValueError`` when any of its fields is broken."""
        unit = data.get("unit")
        if unit is not None and (not isinstance(unit, str) or len(unit) > 64):
            raise ValueError("a unit that is not one")
        return cls(typed(data.get("value")), unit or None, epoch(data.get("timestamp")))


#: A car's telematic values by key (BMW's technical descriptor).
Telematics = dict[str, TelematicValue]


@attrs.define
class Parsed:
    """Telematic entries read from an answer or a message, with what was left out and why."""

    values: Telematics = attrs.field(factory=dict)
    #: Entries with a broken field (skipped: never raised, never stored).
    rejected: int = 0
    #: Entries stamped too far in the future (stored with their arrival time instead).
    restamped: int = 0


#: A stamp further ahead of the account's clock than this is the car's clock gone wrong, not a measurement.
FUTURE_SLACK = 300.0


def parse_entries(entries: Mapping[str, Any], wall_now: float | None = None) -> Parsed:
    """Every good entry of ``entries``; an entry with no value is missing, not a measurement of nothing.

    With ``wall_now``, an entry stamped more than :data:`FUTURE_SLACK` ahead of it is stored as measured at
    ``wall_now``: a stamp from 2099 must not outrank every later value of its key.
    """
    parsed = Parsed()
    values = parsed.values
    for key, entry in entries.items():
        if type(entry) is dict and type(key) is str and len(key) <= 256:
            value = _fast(entry)  # a stream message's usual entry, checked without the general path's detours
            if value is None:
                try:
                    value = TelematicValue.from_json(entry)
                except (ValueError, TypeError):
                    parsed.rejected += 1
                    continue
        elif not isinstance(entry, Mapping) or not isinstance(key, str) or len(key) > 256:
            parsed.rejected += 1
            continue
        else:
            try:
                value = TelematicValue.from_json(entry)
            except (ValueError, TypeError):
                parsed.rejected += 1
                continue
        if value.value is None:
            continue  # {"value": null, "unit": "%", "timestamp": null}: the key has no data
        if wall_now is not None and value.timestamp is not None and value.timestamp > wall_now + FUTURE_SLACK:
            value = attrs.evolve(value, timestamp=wall_now)
            parsed.restamped += 1
        values[key] = value
    return parsed


def _fast(entry: dict[str, Any]) -> TelematicValue | None:
    """An entry of a number or a word stamped with an ISO time and at most a short unit, as
    :meth:`TelematicValue.from_json` would read it; ``None`` for anything else (read by the general path)."""
    value: Any = entry.get("value")
    stamp, unit = entry.get("timestamp"), entry.get("unit")
    if type(stamp) is not str or not 0 < len(stamp) <= 64 or stamp[0].isspace() or stamp[-1].isspace():
        return None
    if unit is not None and (type(unit) is not str or len(unit) > 64):
        return None
    kind = type(value)
    if kind is int or kind is float:
        if not -MAX_NUMBER <= value <= MAX_NUMBER:  # also false for NaN
            return None
    elif not isinstance(value, str) or len(value) > 64 or value.lower() in _WORDS or value[:1].isdigit() \
            or not value.isalnum():
        return None  # a text that may be a number or a boolean, or needs trimming: the general path
    try:
        return TelematicValue(value, unit or None, _iso_epoch(stamp))
    except ValueError:
        return None


#: Words the general path turns into booleans.
_WORDS = frozenset(("true", "false", "asn_istrue", "asn_isfalse"))


def parse_telematics(body: Any) -> Telematics:
    """``GET .../telematicData``: ``{"telematicData": {key: {"timestamp", "unit", "value"}}}``."""
    entries = body["telematicData"]
    if not isinstance(entries, Mapping):
        raise TypeError("telematicData")
    return parse_entries(entries).values


def parse_stream_data(data: Mapping[str, Any], wall_now: float | None = None) -> Parsed:
    """A stream message's ``data``: only the keys that changed, with typed values."""
    return parse_entries(data, wall_now)


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
    """``GET .../basicData``: what the car is (the rest stays in ``raw``).

    The live API sends no ``vin`` (the VIN is the path's) and ``countryCode`` where the swagger says
    ``countryCodeISO``; both shapes are read (REFERENCE §3c).
    """

    vin: str
    brand: str | None = None
    model_name: str | None = None
    series: str | None = None
    series_development: str | None = None  # BMW's development code, "U11", "I20"
    body_type: str | None = None  # in words on the live API: "Sports Activity Vehicle"
    colour: str | None = None
    country_code: str | None = None
    construction_date: dt.datetime | None = None
    drive_train: str | None = None
    propulsion_type: str | None = None
    charging_modes: tuple[str, ...] = ()
    battery_kwh: float | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_json(cls, data: Any, vin: str | None = None) -> BasicData:
        """The answer for ``vin`` (the path's: the live answer has none of its own)."""
        energy = typed(data.get("hvsMaxEnergyAbsolute"))
        own = data.get("vin")
        if not isinstance(own, str) or not own:
            if vin is None:
                raise KeyError("vin")
            own = vin

        def text(*names: str) -> str | None:
            for name in names:
                value = data.get(name)
                if isinstance(value, str) and value.strip():
                    return value.strip()
            return None

        return cls(vin=own, brand=text("brand"), model_name=text("modelName"), series=text("series"),
                   series_development=text("seriesDevt"), body_type=text("bodyType"),
                   colour=text("colourDescription"), country_code=text("countryCode", "countryCodeISO"),
                   construction_date=_date(data.get("constructionDate")), drive_train=text("driveTrain"),
                   propulsion_type=text("propulsionType"),
                   charging_modes=tuple(str(m) for m in data.get("chargingModes") or ()),
                   battery_kwh=float(energy) if isinstance(energy, int | float) else None, raw=dict(data))


def _date(value: Any) -> dt.datetime | None:
    """``2022-10-17T00:00:00.000+0000`` (the live API) or ``2023-05-01T00:00:00Z`` (the swagger's example)."""
    try:
        stamp = epoch(value)
    except ValueError:
        return None
    return None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.UTC)


#: Kilometres in a mile.
MILE_KM = 1.609344


@attrs.frozen(kw_only=True)
class ChargingSession:
    """One charging session of ``chargingHistory`` (times as epoch seconds)."""

    start: float
    end: float
    start_soc: int
    end_soc: int
    duration_s: int
    energy_kwh: float | None = None
    #: The odometer at the session, in km whatever unit the car counts in (``mileageUnits`` "KM" or "MI").
    mileage_km: float | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChargingSession:
        energy = data.get("energyConsumedFromPowerGridKwh")
        mileage = typed(data.get("mileage"))
        unit = str(data.get("mileageUnits") or "KM").upper().rsplit(".", 1)[-1]  # "MI", or the swagger's enum name
        if unit not in ("KM", "MI"):
            raise ValueError(f"a mileage unit evclient does not know: {unit!r}")
        mileage_km = None if not isinstance(mileage, int | float) else \
            round(float(mileage) * (MILE_KM if unit == "MI" else 1.0), 1)
        return cls(start=float(epoch(data["startTime"]) or 0.0), end=float(epoch(data["endTime"]) or 0.0),
                   start_soc=int(data["displayedStartSoc"]), end_soc=int(data["displayedSoc"]),
                   duration_s=int(data["totalChargingDurationSec"]),
                   energy_kwh=None if energy is None else float(energy),
                   mileage_km=mileage_km, raw=dict(data))


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
