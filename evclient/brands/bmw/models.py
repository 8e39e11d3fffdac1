"""BMW ConnectedDrive (legacy ``webapi/v1``) answers as typed models.

Units follow the API: distances in km (``…_mls`` fields in miles), fuel in litres, consumption in
kWh/100 km, durations in minutes (as ``timedelta``), the battery size in Wh. Enumerations keep the
server's spelling, typo included (``CHARGIN_STARTED``), and fall back to ``UNKNOWN``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from ...models import ApiEnum, optional


class ChargingStatus(ApiEnum):
    CHARGING = "CHARGING"
    ERROR = "ERROR"
    FINISHED_FULLY_CHARGED = "FINISHED_FULLY_CHARGED"
    FINISHED_NOT_FULL = "FINISHED_NOT_FULL"
    INVALID = "INVALID"
    NOT_CHARGING = "NOT_CHARGING"
    WAITING_FOR_CHARGING = "WAITING_FOR_CHARGING"
    UNKNOWN = "UNKNOWN"


class ConnectionStatus(ApiEnum):
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"
    UNKNOWN = "UNKNOWN"


class LockState(ApiEnum):
    UNLOCKED = "UNLOCKED"
    LOCKED = "LOCKED"  # locked remotely
    SECURED = "SECURED"  # locked with the key
    SELECTIVE_LOCKED = "SELECTIVE_LOCKED"
    UNKNOWN = "UNKNOWN"


class UpdateReason(ApiEnum):
    CHARGING_DONE = "CHARGING_DONE"
    CHARGING_INTERRUPED = "CHARGING_INTERRUPED"  # sic
    CHARGING_PAUSED = "CHARGING_PAUSED"
    CHARGIN_STARTED = "CHARGIN_STARTED"  # sic: the server's own spelling
    CYCLIC_RECHARGING = "CYCLIC_RECHARGING"
    DISCONNECTED = "DISCONNECTED"
    DOOR_STATE_CHANGED = "DOOR_STATE_CHANGED"
    NO_CYCLIC_RECHARGING = "NO_CYCLIC_RECHARGING"
    NO_LSC_TRIGGER = "NO_LSC_TRIGGER"
    ON_DEMAND = "ON_DEMAND"
    PREDICTION_UPDATE = "PREDICTION_UPDATE"
    TEMPORARY_POWER_SUPPLY_FAILURE = "TEMPORARY_POWER_SUPPLY_FAILURE"
    VEHICLE_MOVING = "VEHICLE_MOVING"
    VEHICLE_SECURED = "VEHICLE_SECURED"
    VEHICLE_SHUTDOWN = "VEHICLE_SHUTDOWN"
    VEHICLE_SHUTDOWN_SECURED = "VEHICLE_SHUTDOWN_SECURED"
    VEHICLE_UNSECURED = "VEHICLE_UNSECURED"
    UNKNOWN = "UNKNOWN"


class OpenState(ApiEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    INTERMEDIATE = "INTERMEDIATE"
    INVALID = "INVALID"  # the car has no such part
    UNKNOWN = "UNKNOWN"


class PositionStatus(ApiEnum):
    OK = "OK"
    DRIVER_DISABLED = "DRIVER_DISABLED"  # the driver switched location sharing off
    VEHICLE_ACTIVE = "VEHICLE_ACTIVE"  # not reported while the car is in use
    UNKNOWN = "UNKNOWN"


class ChargingMode(ApiEnum):
    IMMEDIATE_CHARGING = "IMMEDIATE_CHARGING"
    DELAYED_CHARGING = "DELAYED_CHARGING"
    UNKNOWN = "UNKNOWN"


class ChargingPreferences(ApiEnum):
    NO_PRESELECTION = "NO_PRESELECTION"
    CHARGING_WINDOW = "CHARGING_WINDOW"
    UNKNOWN = "UNKNOWN"


class Weekday(ApiEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"
    UNKNOWN = "UNKNOWN"


class ExecutionStatus(ApiEnum):
    """Where a remote service is: INITIATED → PENDING → DELIVERED → EXECUTED (or NOT_EXECUTED / TIMED_OUT)."""

    INITIATED = "INITIATED"
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    EXECUTED = "EXECUTED"
    NOT_EXECUTED = "NOT_EXECUTED"
    TIMED_OUT = "TIMED_OUT"
    UNKNOWN = "UNKNOWN"


def timestamp(value: Any) -> dt.datetime:
    """The API's ``2015-10-30T18:45:04+0100`` (with offset) or ``2015-10-30T18:47:44`` (UTC) → aware datetime."""
    text = str(value)
    parsed = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z" if len(text) > 19 else "%Y-%m-%dT%H:%M:%S")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _minutes(value: Any) -> dt.timedelta:
    return dt.timedelta(minutes=float(value))


@attrs.frozen
class Position:
    """GPS position (degrees), heading (degrees) and whether the car shares it (``status``)."""

    status: PositionStatus
    lat: float | None = None
    lon: float | None = None
    heading: int | None = None

    @classmethod
    def from_json(cls, body: Any) -> Position:
        return cls(
            status=PositionStatus.parse(body.get("status", "UNKNOWN")),
            lat=optional(float, body.get("lat")),
            lon=optional(float, body.get("lon")),
            heading=optional(int, body.get("heading")),
        )


DOORS = ("doorDriverFront", "doorDriverRear", "doorPassengerFront", "doorPassengerRear")
WINDOWS = ("windowDriverFront", "windowDriverRear", "windowPassengerFront", "windowPassengerRear")
LIDS = ("trunk", "hood", "rearWindow", "convertibleRoofState", "sunroof")


@attrs.frozen(kw_only=True)
class StatusReport:
    """``GET .../{VIN}/status`` → ``vehicleStatus``. Electric fields are ``None`` on combustion cars and
    fuel fields on pure electric ones; ``charging_time_remaining`` is there only while charging."""

    vin: str
    mileage_km: int | None
    update_reason: UpdateReason | None
    update_time: dt.datetime | None
    doors: Mapping[str, OpenState]
    windows: Mapping[str, OpenState]
    lids: Mapping[str, OpenState]
    door_lock_state: LockState | None
    parking_light: str | None
    position_light: str | None
    remaining_fuel_l: float | None
    max_fuel_l: float | None
    remaining_range_fuel_km: float | None
    remaining_range_fuel_mls: float | None
    remaining_range_electric_km: float | None
    remaining_range_electric_mls: float | None
    max_range_electric_km: float | None
    max_range_electric_mls: float | None
    charging_level_hv: int | None
    connection_status: ConnectionStatus | None
    charging_status: ChargingStatus | None
    charging_time_remaining: dt.timedelta | None
    last_charging_end_reason: str | None
    last_charging_end_result: str | None
    position: Position | None
    internal_data_time_utc: dt.datetime | None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> StatusReport:
        s = body["vehicleStatus"]

        def states(keys: tuple[str, ...]) -> dict[str, OpenState]:
            return {k: OpenState.parse(s[k]) for k in keys if k in s}

        return cls(
            vin=str(s["vin"]),
            mileage_km=optional(int, s.get("mileage")),
            update_reason=optional(UpdateReason.parse, s.get("updateReason")),
            update_time=optional(timestamp, s.get("updateTime")),
            doors=states(DOORS),
            windows=states(WINDOWS),
            lids=states(LIDS),
            door_lock_state=optional(LockState.parse, s.get("doorLockState")),
            parking_light=optional(str, s.get("parkingLight")),
            position_light=optional(str, s.get("positionLight")),
            # A pure-electric i3 reports "remainingFuel": 0 and no tank (I01_NOREX): that is no fuel level.
            remaining_fuel_l=optional(float, s.get("remainingFuel"))
            if "remainingRangeFuel" in s or "maxFuel" in s else None,
            max_fuel_l=optional(float, s.get("maxFuel")),
            remaining_range_fuel_km=optional(float, s.get("remainingRangeFuel")),
            remaining_range_fuel_mls=optional(float, s.get("remainingRangeFuelMls")),
            remaining_range_electric_km=optional(float, s.get("remainingRangeElectric")),
            remaining_range_electric_mls=optional(float, s.get("remainingRangeElectricMls")),
            max_range_electric_km=optional(float, s.get("maxRangeElectric")),
            max_range_electric_mls=optional(float, s.get("maxRangeElectricMls")),
            charging_level_hv=optional(int, s.get("chargingLevelHv")),
            connection_status=optional(ConnectionStatus.parse, s.get("connectionStatus")),
            charging_status=optional(ChargingStatus.parse, s.get("chargingStatus")),
            charging_time_remaining=optional(_minutes, s.get("chargingTimeRemaining")),
            last_charging_end_reason=optional(str, s.get("lastChargingEndReason")),
            last_charging_end_result=optional(str, s.get("lastChargingEndResult")),
            position=optional(Position.from_json, s.get("position")),
            internal_data_time_utc=optional(timestamp, s.get("internalDataTimeUTC")),
            raw=body,
        )

    @property
    def all_closed(self) -> bool:
        """Every door, window and lid the car has is closed."""
        parts = [*self.doors.values(), *self.windows.values(), *self.lids.values()]
        return all(p in (OpenState.CLOSED, OpenState.INVALID) for p in parts)


@attrs.frozen(kw_only=True)
class LastTrip:
    """``statistics/lastTrip``: distances in km, consumption and recuperation in kWh/100 km."""

    date: dt.datetime
    duration: dt.timedelta
    total_distance_km: float
    electric_distance_km: float | None
    electric_distance_ratio_percent: float | None
    avg_electric_consumption: float | None
    avg_recuperation: float | None
    avg_combined_consumption: float | None
    saved_fuel: float | None
    efficiency_value: float | None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> LastTrip:
        t = body["lastTrip"]
        return cls(
            date=timestamp(t["date"]),
            duration=_minutes(t["duration"]),
            total_distance_km=float(t["totalDistance"]),
            electric_distance_km=optional(float, t.get("electricDistance")),
            electric_distance_ratio_percent=optional(float, t.get("electricDistanceRatio")),
            avg_electric_consumption=optional(float, t.get("avgElectricConsumption")),
            avg_recuperation=optional(float, t.get("avgRecuperation")),
            avg_combined_consumption=optional(float, t.get("avgCombinedConsumption")),
            saved_fuel=optional(float, t.get("savedFuel")),
            efficiency_value=optional(float, t.get("efficiencyValue")),
            raw=body,
        )


@attrs.frozen(kw_only=True)
class AllTrips:
    """``statistics/allTrips``: the driver's figures against the community's (dicts as the API sends them:
    ``communityLow``, ``communityAverage``, ``communityHigh``, ``userAverage`` …). ``battery_size_max_wh``
    is in Wh, the saved CO2 figures in kg, ``chargecycle_range`` and ``total_electric_distance`` in km."""

    avg_electric_consumption: Mapping[str, float]
    avg_recuperation: Mapping[str, float]
    avg_combined_consumption: Mapping[str, float]
    chargecycle_range: Mapping[str, float]
    total_electric_distance: Mapping[str, float]
    battery_size_max_wh: float | None
    saved_co2_kg: float | None
    saved_co2_green_energy_kg: float | None
    total_saved_fuel: float | None
    reset_date: dt.datetime | None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> AllTrips:
        t = body["allTrips"]

        def figures(key: str) -> dict[str, float]:
            return {k: float(v) for k, v in (t.get(key) or {}).items()}

        return cls(
            avg_electric_consumption=figures("avgElectricConsumption"),
            avg_recuperation=figures("avgRecuperation"),
            avg_combined_consumption=figures("avgCombinedConsumption"),
            chargecycle_range=figures("chargecycleRange"),
            total_electric_distance=figures("totalElectricDistance"),
            battery_size_max_wh=optional(float, t.get("batterySizeMax")),
            saved_co2_kg=optional(float, t.get("savedCO2")),
            saved_co2_green_energy_kg=optional(float, t.get("savedCO2greenEnergy")),
            total_saved_fuel=optional(float, t.get("totalSavedFuel")),
            reset_date=optional(timestamp, t.get("resetDate")),
            raw=body,
        )


@attrs.frozen
class Timer:
    """A departure timer: leave at ``departure_time`` (the car's local time) on ``weekdays``."""

    departure_time: dt.time | None
    enabled: bool
    weekdays: tuple[Weekday, ...]

    @classmethod
    def from_json(cls, body: Any) -> Timer:
        departure = body.get("departureTime")
        return cls(
            departure_time=None if departure is None else dt.time.fromisoformat(departure),
            enabled=bool(body.get("timerEnabled", False)),
            weekdays=tuple(Weekday.parse(d) for d in body.get("weekdays") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"timerEnabled": self.enabled, "weekdays": [d.value for d in self.weekdays]}
        if self.departure_time is not None:
            body["departureTime"] = self.departure_time.strftime("%H:%M")
        return body


@attrs.frozen
class ChargingWindow:
    """The preferred charging window (local times)."""

    enabled: bool
    start: dt.time
    end: dt.time

    @classmethod
    def from_json(cls, body: Any) -> ChargingWindow:
        return cls(
            enabled=bool(body.get("enabled", False)),
            start=dt.time.fromisoformat(body["startTime"]),
            end=dt.time.fromisoformat(body["endTime"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "startTime": self.start.strftime("%H:%M"),
                "endTime": self.end.strftime("%H:%M")}


@attrs.frozen(kw_only=True)
class ChargingProfile:
    """``chargingprofile`` → ``weeklyPlanner``: charging mode, three departure timers, an override timer and
    the preferred charging window."""

    climatization_enabled: bool
    charging_mode: ChargingMode
    charging_preferences: ChargingPreferences
    timer1: Timer
    timer2: Timer
    timer3: Timer
    override_timer: Timer
    preferred_charging_window: ChargingWindow
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> ChargingProfile:
        p = body["weeklyPlanner"]
        return cls(
            climatization_enabled=bool(p.get("climatizationEnabled", False)),
            charging_mode=ChargingMode.parse(p["chargingMode"]),
            charging_preferences=ChargingPreferences.parse(p.get("chargingPreferences", "UNKNOWN")),
            timer1=Timer.from_json(p["timer1"]),
            timer2=Timer.from_json(p["timer2"]),
            timer3=Timer.from_json(p["timer3"]),
            override_timer=Timer.from_json(p["overrideTimer"]),
            preferred_charging_window=ChargingWindow.from_json(p["preferredChargingWindow"]),
            raw=body,
        )

    def to_json(self) -> dict[str, Any]:
        return {"weeklyPlanner": {
            "climatizationEnabled": self.climatization_enabled,
            "chargingMode": self.charging_mode.value,
            "chargingPreferences": self.charging_preferences.value,
            "timer1": self.timer1.to_json(),
            "timer2": self.timer2.to_json(),
            "timer3": self.timer3.to_json(),
            "overrideTimer": self.override_timer.to_json(),
            "preferredChargingWindow": self.preferred_charging_window.to_json(),
        }}


@attrs.frozen(kw_only=True)
class Destination:
    """A place sent to the car before (``lat`` / ``lon`` in degrees)."""

    lat: float
    lon: float
    country: str | None
    city: str | None
    street: str | None
    type: str | None
    created_at: dt.datetime | None

    @classmethod
    def from_json(cls, body: Any) -> Destination:
        return cls(
            lat=float(body["lat"]), lon=float(body["lon"]), country=body.get("country"), city=body.get("city"),
            street=body.get("street"), type=body.get("type"), created_at=optional(timestamp, body.get("createdAt")),
        )


def parse_last_trip(body: Any) -> LastTrip | None:
    """The last trip, or ``None`` for a car that has none yet (the server sends ``{"lastTrip": {}}``)."""
    return LastTrip.from_json(body) if body["lastTrip"] else None


def parse_range_map(body: Any) -> RangeMap | None:
    """The range map, or ``None`` when the car has not sent one (``{"rangemap": {}}``)."""
    return RangeMap.from_json(body) if body["rangemap"] else None


def parse_destinations(body: Any) -> tuple[Destination, ...]:
    return tuple(Destination.from_json(d) for d in body["destinations"])


@attrs.frozen(kw_only=True)
class RangeMap:
    """``rangemap``: the centre and, per driving mode (``ECO_PRO_PLUS``, ``COMFORT`` …), a polygon of
    (lat, lon) points the car can reach."""

    center: tuple[float, float]
    quality: str | None
    polygons: Mapping[str, tuple[tuple[float, float], ...]]
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> RangeMap:
        r = body["rangemap"]
        return cls(
            center=(float(r["center"]["lat"]), float(r["center"]["lon"])),
            quality=r.get("quality"),
            polygons={
                str(m["type"]): tuple((float(p["lat"]), float(p["lon"])) for p in m["polyline"])
                for m in r.get("rangemaps") or ()
            },
            raw=body,
        )


@attrs.frozen(kw_only=True)
class ServiceExecution:
    """``executeService`` / ``serviceExecutionStatus`` → ``executionStatus``."""

    service_type: str | None  # absent from some answers (e.g. sending a message)
    status: ExecutionStatus
    event_id: str | None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_json(cls, body: Any) -> ServiceExecution:
        e = body["executionStatus"]
        return cls(
            service_type=optional(str, e.get("serviceType")),
            status=ExecutionStatus.parse(e["status"]),
            event_id=optional(str, e.get("eventId")),
            raw=body,
        )
