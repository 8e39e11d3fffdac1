"""Kamereon answers as typed models. Every answer is JSON:API: ``{"data": {"attributes": {...}}}``.

Units: km, kWh, °C, minutes as :class:`~datetime.timedelta`, tyre pressures in mbar, power in kW (the
Zoe phase 1 reports watts; :func:`battery_status` is told the model and converts). Codes the server
sends as numbers become enums with an ``UNKNOWN`` member, and the model keeps the raw number.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import attrs

from ...models import ApiEnum, optional

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def attributes(body: Any) -> Mapping[str, Any]:
    """The ``attributes`` of a JSON:API answer (none: the car has sent no data yet)."""
    data = body["data"]
    attrs_ = data.get("attributes", {})
    if not isinstance(attrs_, dict):
        raise TypeError("attributes is not an object")
    return attrs_


def _time(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _minutes(value: Any) -> dt.timedelta:
    return dt.timedelta(minutes=float(value))


class PlugState(enum.Enum):
    UNPLUGGED = 0
    PLUGGED = 1
    PLUG_ERROR = -1
    PLUG_UNKNOWN = -2147483648
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls.UNKNOWN


class ChargeState(enum.Enum):
    NOT_IN_CHARGE = 0.0
    WAITING_FOR_A_PLANNED_CHARGE = 0.1
    CHARGE_ENDED = 0.2
    WAITING_FOR_CURRENT_CHARGE = 0.3
    ENERGY_FLAP_OPENED = 0.4
    CHARGE_IN_PROGRESS = 1.0
    CHARGE_ERROR = -1.0
    UNAVAILABLE = -1.1
    V2L_CONNECTED = -1.3
    V2L_IN_PROGRESS = -1.4
    V2G_CONNECTED = -1.5
    V2G_IN_PROGRESS = -1.6
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            for member in cls:
                if isinstance(member.value, float) and abs(member.value - float(value)) < 1e-6:
                    return member
        return cls.UNKNOWN


@attrs.frozen(kw_only=True)
class BatteryStatus:
    """battery-status: level %, range km, energy kWh, plug and charge state, remaining time, power kW."""

    timestamp: dt.datetime | None
    battery_level: int | None
    battery_temperature: float | None
    battery_autonomy: int | None
    battery_capacity: float | None
    battery_available_energy: float | None
    plug_state: PlugState
    plug_status: int | None
    charge_state: ChargeState
    charging_status: float | None
    charging_remaining_time: dt.timedelta | None
    charging_power_kw: float | None

    @property
    def charging(self) -> bool:
        return self.charge_state is ChargeState.CHARGE_IN_PROGRESS

    @property
    def plugged(self) -> bool:
        return self.plug_state is PlugState.PLUGGED


# Value → member, looked up directly: calling an Enum class is slow, and this runs at every poll.
_PLUG_STATES: dict[Any, PlugState] = {m.value: m for m in PlugState}
_CHARGE_STATES: dict[Any, ChargeState] = {m.value: m for m in ChargeState}


def battery_status(body: Any, *, power_in_watts: bool = False) -> BatteryStatus:
    a = attributes(body)
    plug, charge = a.get("plugStatus"), a.get("chargingStatus")
    power = a.get("chargingInstantaneousPower")
    return BatteryStatus(
        timestamp=optional(_time, a.get("timestamp")),
        battery_level=optional(int, a.get("batteryLevel")),
        battery_temperature=optional(float, a.get("batteryTemperature")),
        battery_autonomy=optional(int, a.get("batteryAutonomy")),
        battery_capacity=optional(float, a.get("batteryCapacity")),
        battery_available_energy=optional(float, a.get("batteryAvailableEnergy")),
        plug_state=_PLUG_STATES.get(int(plug), PlugState.UNKNOWN) if plug is not None else PlugState.UNKNOWN,
        plug_status=optional(int, plug),
        charge_state=(_CHARGE_STATES.get(float(charge), ChargeState.UNKNOWN) if charge is not None
                      else ChargeState.UNKNOWN),
        charging_status=optional(float, charge),
        charging_remaining_time=optional(_minutes, a.get("chargingRemainingTime")),
        charging_power_kw=None if power is None else float(power) / (1000.0 if power_in_watts else 1.0),
    )


@attrs.frozen(kw_only=True)
class Cockpit:
    """cockpit: odometer km; fuel range km and litres on combustion and hybrid cars."""

    total_mileage: float | None
    fuel_autonomy: float | None
    fuel_quantity: float | None


#: Energy codes of the listing that mean no fuel tank (vehicles/*.json: ELEC, ELECX).
ELECTRIC_ONLY = frozenset({"ELEC", "ELECX"})


def cockpit(body: Any, *, tank: bool = True) -> Cockpit:
    """``tank=False`` for a car without one: electric models report an empty tank (cockpit.zoe_50,
    cockpit.renault_5), which is no fuel level."""
    a = attributes(body)
    return Cockpit(total_mileage=optional(float, a.get("totalMileage")),
                   fuel_autonomy=optional(float, a.get("fuelAutonomy")) if tank else None,
                   fuel_quantity=optional(float, a.get("fuelQuantity")) if tank else None)


@attrs.frozen(kw_only=True)
class HvacStatus:
    """hvac-status: temperatures °C, climate on or off, the next planned start, the SoC it needs."""

    external_temperature: float | None
    internal_temperature: float | None
    hvac_on: bool | None
    next_hvac_start: dt.datetime | None
    soc_threshold: float | None
    last_update: dt.datetime | None


def hvac_status(body: Any) -> HvacStatus:
    a = attributes(body)
    status = a.get("hvacStatus")
    return HvacStatus(
        external_temperature=optional(float, a.get("externalTemperature")),
        internal_temperature=optional(float, a.get("internalTemperature")),
        hvac_on=None if status is None else str(status).lower() == "on",
        next_hvac_start=optional(_time, a.get("nextHvacStartDate")),
        soc_threshold=optional(float, a.get("socThreshold")),
        last_update=optional(_time, a.get("lastUpdateTime")),
    )


@attrs.frozen(kw_only=True)
class Location:
    latitude: float
    longitude: float
    last_update: dt.datetime | None


def location(body: Any) -> Location:
    a = attributes(body)
    return Location(latitude=float(a["gpsLatitude"]), longitude=float(a["gpsLongitude"]),
                    last_update=optional(_time, a.get("lastUpdateTime")))


class LockState(ApiEnum):
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    UNKNOWN = "unknown"


class OpenState(ApiEnum):
    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class LockStatus:
    lock_status: LockState
    doors: Mapping[str, OpenState]
    hatch: OpenState | None
    last_update: dt.datetime | None


def lock_status(body: Any) -> LockStatus:
    a = attributes(body)
    doors = {key.removeprefix("doorStatus").lower(): OpenState.parse(value) for key, value in a.items()
             if key.startswith("doorStatus")}
    return LockStatus(lock_status=LockState.parse(a.get("lockStatus")), doors=doors,
                      hatch=optional(OpenState.parse, a.get("hatchStatus")),
                      last_update=optional(_time, a.get("lastUpdateTime")))


@attrs.frozen(kw_only=True)
class ResState:
    """res-state: the remote engine start's state (a code and its text)."""

    code: str | None
    details: str | None


def res_state(body: Any) -> ResState:
    a = attributes(body)
    return ResState(code=optional(str, a.get("code")), details=optional(str, a.get("details")))


@attrs.frozen(kw_only=True)
class TyrePressure:
    """pressure: each tyre's pressure in mbar and its warning status (0: fine)."""

    pressures_mbar: Mapping[str, float]
    statuses: Mapping[str, int]


def pressure(body: Any) -> TyrePressure:
    a = attributes(body)
    wheels = ("fl", "fr", "rl", "rr")
    return TyrePressure(
        pressures_mbar={w: float(a[f"{w}Pressure"]) for w in wheels if a.get(f"{w}Pressure") is not None},
        statuses={w: int(a[f"{w}Status"]) for w in wheels if a.get(f"{w}Status") is not None},
    )


class ChargeMode(ApiEnum):
    ALWAYS = "always"
    ALWAYS_CHARGING = "always_charging"
    SCHEDULE_MODE = "schedule_mode"
    SCHEDULED = "scheduled"
    UNKNOWN = "unknown"


def charge_mode(body: Any) -> ChargeMode | None:
    """charge-mode; ``None`` when the car has not reported one yet."""
    mode = attributes(body).get("chargeMode")
    return None if mode is None else ChargeMode.parse(mode)


@attrs.frozen(kw_only=True)
class Schedule:
    """One of up to five weekly schedules. ``days`` maps a weekday to its slot: a charge schedule's
    ``{"startTime": "THH:MMZ", "duration": minutes}`` or an A/C schedule's ``{"readyAtTime": "THH:MMZ"}``."""

    id: int
    activated: bool
    days: Mapping[str, Mapping[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "activated": self.activated, **{d: dict(s) for d, s in self.days.items()}}


@attrs.frozen(kw_only=True)
class ScheduleSettings:
    """charging-settings / hvac-settings: the mode and the schedules."""

    mode: str | None
    schedules: tuple[Schedule, ...]


def schedules(body: Any) -> ScheduleSettings:
    a = attributes(body)
    parsed = []
    for item in a.get("schedules") or []:
        days = {day: dict(item[day]) for day in DAYS if isinstance(item.get(day), dict)}
        parsed.append(Schedule(id=int(item["id"]), activated=bool(item.get("activated", False)), days=days))
    return ScheduleSettings(mode=optional(str, a.get("mode")), schedules=tuple(parsed))


@attrs.frozen(kw_only=True)
class SocLevels:
    """soc-levels: charge stops at ``soc_target`` %; below ``soc_min`` % the car charges at once."""

    soc_min: int
    soc_target: int
    last_update: dt.datetime | None


def soc_levels(body: Any) -> SocLevels:
    a = body.get("data", {}).get("attributes", body) if isinstance(body.get("data"), dict) else body
    return SocLevels(soc_min=int(a["socMin"]), soc_target=int(a["socTarget"]),
                     last_update=optional(_time, a.get("lastEnergyUpdateTimestamp")))


@attrs.frozen(kw_only=True)
class KamereonAccount:
    """One of the person's Kamereon accounts (``MYRENAULT``, ``MYDACIA``, ``SFDC``, …)."""

    account_id: str
    account_type: str | None
    account_status: str | None


def person_accounts(body: Any) -> tuple[KamereonAccount, ...]:
    """The person's accounts (``GET /commerce/v1/persons/{personId}``)."""
    return tuple(KamereonAccount(account_id=str(a["accountId"]), account_type=optional(str, a.get("accountType")),
                                 account_status=optional(str, a.get("accountStatus")))
                 for a in body.get("accounts") or [])


def notification_settings(body: Any) -> Mapping[str, Any]:
    """notification-settings: the account's notification switches, as the server sends them."""
    return dict(attributes(body))


@attrs.frozen(kw_only=True)
class ChargeSession:
    """charges: one charging session."""

    start: dt.datetime
    end: dt.datetime | None
    duration: dt.timedelta | None
    start_level: int | None
    end_level: int | None
    recovered_level: int | None
    power: str | None
    start_power_kw: float | None
    end_status: str | None


def charges(body: Any, *, power_in_watts: bool = False) -> tuple[ChargeSession, ...]:
    sessions = []
    for c in attributes(body).get("charges") or []:
        power = c.get("chargeStartInstantaneousPower")
        sessions.append(ChargeSession(
            start=_time(c["chargeStartDate"]), end=optional(_time, c.get("chargeEndDate")),
            duration=optional(_minutes, c.get("chargeDuration")),
            start_level=optional(int, c.get("chargeStartBatteryLevel")),
            end_level=optional(int, c.get("chargeEndBatteryLevel")),
            recovered_level=optional(int, c.get("chargeBatteryLevelRecovered")),
            power=optional(str, c.get("chargePower")),
            start_power_kw=None if power is None else float(power) / (1000.0 if power_in_watts else 1.0),
            end_status=optional(str, c.get("chargeEndStatus")),
        ))
    return tuple(sessions)


@attrs.frozen(kw_only=True)
class ChargeSummary:
    """charge-history: one day's or month's charging (``period`` is YYYYMMDD or YYYYMM)."""

    period: str
    count: int
    duration: dt.timedelta | None
    errors: int | None


def charge_history(body: Any) -> tuple[ChargeSummary, ...]:
    out = []
    for s in attributes(body).get("chargeSummaries") or []:
        out.append(ChargeSummary(period=str(s.get("day") or s.get("month")), count=int(s.get("totalChargesNumber", 0)),
                                 duration=optional(_minutes, s.get("totalChargesDuration")),
                                 errors=optional(int, s.get("totalChargesErrors"))))
    return tuple(out)


def hvac_records(key: str) -> Any:
    """hvac-history / hvac-sessions: the list under ``key`` (the servers send little; kept as sent)."""

    def parse(body: Any) -> tuple[Mapping[str, Any], ...]:
        return tuple(dict(item) for item in attributes(body).get(key) or [])

    return parse


# -- the kcm generation's settings (R5, R4, A290, Scénic, Master) ------------------------------------------


class EvChargeMode(ApiEnum):
    ALWAYS = "ALWAYS"
    SCHEDULED = "SCHEDULED"
    UNKNOWN = "unknown"


class ProgramType(ApiEnum):
    CHARGE = "CHARGE"
    PRECONDITIONING = "PRECONDITIONING"
    CHARGE_AND_PRECONDITIONING = "CHARGE_AND_PRECONDITIONING"
    UNKNOWN = "unknown"


@attrs.frozen(kw_only=True)
class Program:
    """One departure program: be charged and/or warm by ``departure`` (HH:MM, the car's time) on ``days``."""

    activated: bool
    kind: ProgramType
    departure: str | None
    days: frozenset[str]


@attrs.frozen(kw_only=True)
class EvSettings:
    """ev-settings: charge now (``ALWAYS``) or by the programs (``SCHEDULED``), and the departure programs.

    ``raw`` is the body as sent: starting a charge on these cars posts it back with the programs off.
    """

    charge_mode: EvChargeMode
    charge_time_start: str | None
    charge_duration: dt.timedelta | None
    preconditioning_temperature: float | None
    programs: tuple[Program, ...]
    last_update: dt.datetime | None
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False)


def ev_settings(body: Any) -> EvSettings:
    if not isinstance(body, dict):
        raise TypeError("ev-settings is not an object")
    programs = []
    for p in body.get("programs") or []:
        days = frozenset(d for d in DAYS if p.get("programActivation" + d.capitalize()))
        programs.append(Program(activated=bool(p.get("programActivationStatus")),
                                kind=ProgramType.parse(p.get("programType")),
                                departure=optional(str, p.get("programDepartureTime")), days=days))
    return EvSettings(
        charge_mode=EvChargeMode.parse(body.get("chargeModeRq")),
        charge_time_start=optional(str, body.get("chargeTimeStart")),
        charge_duration=optional(_minutes, body.get("chargeDuration")),
        preconditioning_temperature=optional(float, body.get("preconditioningTemperature")),
        programs=tuple(programs),
        last_update=optional(_time, body.get("lastSettingsUpdateTimestamp")),
        raw=dict(body),
    )


# -- the Zoe phase 1's charge calendar (kca v1 charge-schedule) -----------------------------------------------


@attrs.frozen(kw_only=True)
class CalendarSlot:
    """A charge window: from ``start`` (HH:MM) for ``duration``; ``activated`` when the car follows it."""

    start: str
    duration: dt.timedelta
    activated: bool


def charge_calendar(body: Any) -> Mapping[str, tuple[CalendarSlot, ...]]:
    """charge-schedule (Zoe phase 1): each weekday's charge windows."""
    calendar = attributes(body).get("calendar") or {}
    out: dict[str, tuple[CalendarSlot, ...]] = {}
    for day in DAYS:
        slots = []
        for slot in calendar.get(day) or []:
            start = str(slot["startTime"]).zfill(4)
            slots.append(CalendarSlot(start=f"{start[:2]}:{start[2:]}", duration=_minutes(slot["duration"]),
                                      activated=bool(slot.get("activationState", False))))
        out[day] = tuple(slots)
    return out


# -- the car and its paperwork ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class VehicleDetails:
    """details (and each car of the account's listing): what the car is."""

    vin: str
    brand: str | None
    model_code: str | None
    model_label: str | None
    energy: str | None
    registration: str | None
    first_registration: dt.date | None
    battery_code: str | None
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False)


def _code(value: Any) -> str | None:
    code = value.get("code") if isinstance(value, dict) else value
    return None if code is None else str(code)


def vehicle_details(body: Any) -> VehicleDetails:
    d = body.get("vehicleDetails", body) if isinstance(body, dict) else body
    if not isinstance(d, dict):
        raise TypeError("vehicle details are not an object")
    model: Mapping[str, Any] = d["model"] if isinstance(d.get("model"), dict) else {}
    vin = d.get("vin") or body.get("vin")
    if not vin:
        raise KeyError("vin")
    return VehicleDetails(
        vin=str(vin), brand=_code(d.get("brand")), model_code=optional(str, model.get("code")),
        model_label=optional(str, model.get("label")),
        energy=_code(d.get("energy")) or optional(str, d.get("engineEnergyType")),
        registration=optional(str, d.get("registrationNumber")),
        first_registration=optional(dt.date.fromisoformat, d.get("firstRegistrationDate")),
        battery_code=_code(d.get("battery")), raw=dict(d),
    )


def vehicles(body: Any) -> tuple[VehicleDetails, ...]:
    """The account's vehicle listing (``vehicleLinks``).

    An answer without the list is refused rather than read as "no cars": that would drop every car.
    """
    links = body["vehicleLinks"]
    if not isinstance(links, list):
        raise TypeError("vehicleLinks is not a list")
    return tuple(vehicle_details(link) for link in links)


@attrs.frozen(kw_only=True)
class CarAdapter:
    """car-adapter: the connected box's view of the car (gateway, privacy mode, battery pack)."""

    vin: str | None
    model_code: str | None
    car_gateway: str | None
    energy: str | None
    privacy_mode: str | None
    pack_capacity_kwh: float | None
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False)


def car_adapter(body: Any) -> CarAdapter:
    a = attributes(body)
    return CarAdapter(vin=optional(str, a.get("vin")), model_code=optional(str, a.get("modelCode")),
                      car_gateway=optional(str, a.get("carGateway")), energy=optional(str, a.get("energy")),
                      privacy_mode=optional(str, a.get("privacyMode")),
                      pack_capacity_kwh=optional(float, a.get("packNominalCapacity")), raw=dict(a))


@attrs.frozen(kw_only=True)
class Contract:
    """contracts: a warranty, maintenance or connected-services contract."""

    kind: str | None
    code: str | None
    description: str | None
    status: str | None
    start: dt.date | None
    end: dt.date | None


def contracts(body: Any) -> tuple[Contract, ...]:
    return tuple(
        Contract(kind=optional(str, c.get("type")), code=optional(str, c.get("code")),
                 description=optional(str, c.get("description")), status=optional(str, c.get("status")),
                 start=optional(dt.date.fromisoformat, c.get("startDate")),
                 end=optional(dt.date.fromisoformat, c.get("endDate")))
        for c in body
    )


@attrs.frozen(kw_only=True)
class Alert:
    """alerts: a maintenance or malfunction alert the car raised."""

    code: str | None
    title: str | None
    description: str | None
    criticity: int | None
    status: str | None
    created: dt.datetime | None


def alerts(body: Any) -> tuple[Alert, ...]:
    return tuple(
        Alert(code=optional(str, a.get("alertCode")), title=optional(str, a.get("alertCodeTitle")),
              description=optional(str, a.get("shortDescription")), criticity=optional(int, a.get("criticity")),
              status=optional(str, a.get("status")), created=optional(_time, a.get("creationDateTime")))
        for a in body
    )


# -- what the server answers to an action --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ActionAnswer:
    """The server's acknowledgement: the action's type, id and echoed attributes (or a kcm command's
    ``commandId`` and ``status``)."""

    kind: str | None
    id: str | None
    status: str | None
    attributes: Mapping[str, Any]


def action_answer(body: Any) -> ActionAnswer:
    if not isinstance(body, dict):
        raise TypeError("the action's answer is not an object")
    data = body.get("data")
    if isinstance(data, dict):
        return ActionAnswer(kind=optional(str, data.get("type")), id=optional(str, data.get("id")), status=None,
                            attributes=dict(data.get("attributes") or {}))
    return ActionAnswer(kind=optional(str, body.get("type")), id=optional(str, body.get("commandId")),
                        status=optional(str, body.get("status")), attributes=dict(body))
