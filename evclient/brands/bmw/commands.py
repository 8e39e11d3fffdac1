"""ConnectedDrive remote services: ``executeService``, then ``serviceExecutionStatus`` by service type.

The status is looked up by service type, not by event, so two commands of one type on one car must not
overlap: each spec's ``lock_key`` is its service type and the engine runs them one at a time.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from ...actions import ActionMap
from ...actions import ChargingMode as Mode
from ...auth import Secret
from ...brand import Api, VehicleInfo
from ...command import CommandSpec, Submission, no_params
from ...delays import AdaptiveDelays, Outcome
from ...errors import InvalidInputError
from ...transport import Request
from .models import ChargingMode, ChargingProfile, ChargingWindow, ExecutionStatus, ServiceExecution, Timer, Weekday

V = "/webapi/v1/user/vehicles/{vin}"
ACCEPTED = "ACCEPTED"

#: command name → (service type, capability flag in the vehicle listing)
SERVICES: dict[str, tuple[str, str]] = {
    "charge-now": ("CHARGE_NOW", "chargeNow"),
    "climate-now": ("CLIMATE_NOW", "climateNow"),
    "door-lock": ("DOOR_LOCK", "doorLock"),
    "door-unlock": ("DOOR_UNLOCK", "doorUnlock"),
    "light-flash": ("LIGHT_FLASH", "lightFlash"),
    "horn-blow": ("HORN_BLOW", "hornBlow"),
    "vehicle-finder": ("VEHICLE_FINDER", "vehicleFinder"),
    "charging-control": ("CHARGING_CONTROL", "chargingControl"),
}
CAPABILITIES = {**{name: flag for name, (_, flag) in SERVICES.items()}, "send-poi": "sendPoi"}

# The car answers over 3G, typically in about 20 s but in minutes where coverage is poor: learn each car's
# latency. DELIVERED means the car has the command and answers within seconds: look again soon.
STATUS_DELAYS = AdaptiveDelays(median=20.0, spread=0.55, imminent={"DELIVERED": 4.0})

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_WEEKDAYS = {d.value[:3]: d for d in Weekday if d is not Weekday.UNKNOWN}


# -- inputs -------------------------------------------------------------------------------------------------


def _time(value: Any, what: str) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    match = _TIME.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidInputError(f"{what} must be a time of day as HH:MM, got {value!r}")
    return dt.time(int(match[1]), int(match[2]))


def _weekdays(value: Any, what: str) -> tuple[Weekday, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise InvalidInputError(f"{what} must be a list of weekdays")
    days = []
    for item in items:
        day = _WEEKDAYS.get(str(item).strip().upper()[:3]) if str(item).strip() else None
        if day is None:
            raise InvalidInputError(f"{what}: {item!r} is not a weekday (MONDAY … SUNDAY)")
        if day not in days:
            days.append(day)
    return tuple(days)


def _flag(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "on", "off", "yes", "no"}:
        return value.lower() in {"true", "on", "yes"}
    raise InvalidInputError(f"{what} must be true or false, got {value!r}")


def _timer(value: Any, current: Timer | None, what: str) -> Timer:
    if isinstance(value, Timer):
        return value
    if not isinstance(value, Mapping) or set(value) - {"departure_time", "enabled", "weekdays"}:
        raise InvalidInputError(f"{what} must be {{departure_time, enabled, weekdays}}")
    return Timer(
        departure_time=_time(value["departure_time"], f"{what} departure_time")
        if "departure_time" in value else (current.departure_time if current else None),
        enabled=_flag(value["enabled"], f"{what} enabled") if "enabled" in value else bool(current and current.enabled),
        weekdays=_weekdays(value["weekdays"], f"{what} weekdays") if "weekdays" in value
        else (current.weekdays if current else ()),
    )


def _window(value: Any) -> ChargingWindow:
    if isinstance(value, ChargingWindow):
        return value
    if isinstance(value, str) and value.strip().lower() in {"off", "none", "false"}:
        return ChargingWindow(False, dt.time(0, 0), dt.time(0, 0))
    if isinstance(value, str) and "-" in value:
        start, _, end = value.partition("-")
        return ChargingWindow(True, _time(start, "charging_window start"), _time(end, "charging_window end"))
    if isinstance(value, Mapping) and {"start", "end"} <= set(value) <= {"start", "end", "enabled"}:
        enabled = _flag(value.get("enabled", True), "charging_window enabled")
        return ChargingWindow(enabled, _time(value["start"], "charging_window start"),
                              _time(value["end"], "charging_window end"))
    raise InvalidInputError("charging_window must be HH:MM-HH:MM, off, or {start, end, enabled}")


PLANNER_KEYS = ("charging_mode", "climatization", "timer1", "timer2", "timer3", "override_timer", "charging_window")


def _validate_planner(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    if "profile" in params:
        if set(params) != {"profile"} or not isinstance(params["profile"], ChargingProfile):
            raise InvalidInputError("profile= takes a whole ChargingProfile and nothing else")
        return {"profile": params["profile"]}
    unknown = set(params) - set(PLANNER_KEYS)
    if unknown or not params:
        raise InvalidInputError(f"charging-control takes some of {', '.join(PLANNER_KEYS)} (or profile=)")
    changes: dict[str, Any] = {}
    if "charging_mode" in params:
        mode = str(params["charging_mode"]).strip().upper()
        mode = {"IMMEDIATE": "IMMEDIATE_CHARGING", "DELAYED": "DELAYED_CHARGING"}.get(mode, mode)
        if mode not in {"IMMEDIATE_CHARGING", "DELAYED_CHARGING"}:
            raise InvalidInputError("charging_mode must be IMMEDIATE_CHARGING or DELAYED_CHARGING")
        changes["charging_mode"] = ChargingMode(mode)
    if "climatization" in params:
        changes["climatization"] = _flag(params["climatization"], "climatization")
    for key in ("timer1", "timer2", "timer3", "override_timer"):
        if key in params:
            _timer(params[key], None, key)  # checked now; merged with the current timer when sent
            changes[key] = params[key]
    if "charging_window" in params:
        changes["charging_window"] = _window(params["charging_window"])
    return {"changes": changes}


def _merge(current: ChargingProfile, changes: Mapping[str, Any]) -> ChargingProfile:
    from attrs import evolve

    updates: dict[str, Any] = {}
    if "charging_mode" in changes:
        updates["charging_mode"] = changes["charging_mode"]
    if "climatization" in changes:
        updates["climatization_enabled"] = changes["climatization"]
    for key in ("timer1", "timer2", "timer3", "override_timer"):
        if key in changes:
            updates[key] = _timer(changes[key], getattr(current, key), key)
    if "charging_window" in changes:
        updates["preferred_charging_window"] = changes["charging_window"]
    return evolve(current, **updates)


def _validate_count(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(params) - {"count"}
    if unknown:
        raise InvalidInputError(f"light-flash takes only count, not {', '.join(sorted(unknown))}")
    raw = params.get("count", 2)
    try:
        count = int(raw) if not isinstance(raw, bool) and str(raw).strip().isdigit() else -1
    except (TypeError, ValueError):
        count = -1
    if not 1 <= count <= 5:
        raise InvalidInputError(f"count must be a whole number from 1 to 5, got {raw!r}")
    return {"count": str(count)}


def _validate_unlock(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(params) - {"security_answer"}
    if unknown:
        raise InvalidInputError(f"door-unlock takes only security_answer, not {', '.join(sorted(unknown))}")
    answer = params.get("security_answer")
    if isinstance(answer, str):
        answer = Secret(answer)
    if not isinstance(answer, Secret) or not answer:
        raise InvalidInputError(
            "door-unlock needs the answer to the account's security question: "
            "connect(..., security_answer=...) or command('door-unlock', security_answer=...)"
        )
    return {"bmwSkAnswer": answer}



POI_TEXT = ("name", "street", "city", "postalCode", "country")


def _validate_poi(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(params) - {"lat", "lon", *POI_TEXT}
    if unknown or not {"lat", "lon"} <= set(params):
        raise InvalidInputError(f"send-poi takes lat and lon, and optionally {', '.join(POI_TEXT)}")
    try:
        lat, lon = float(params["lat"]), float(params["lon"])
    except (TypeError, ValueError):
        raise InvalidInputError("lat and lon must be numbers (degrees)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInputError(f"({lat}, {lon}) is not a position: lat is -90..90 and lon -180..180 degrees")
    poi: dict[str, Any] = {"lat": lat, "lon": lon, "rating": -1}
    for key in POI_TEXT:
        if key in params:
            if not isinstance(params[key], str) or len(params[key]) > 200:
                raise InvalidInputError(f"{key} must be text of at most 200 characters")
            poi[key] = params[key]
    return {"poi": poi}


# -- submitting and following -------------------------------------------------------------------------------


def _execute(service: str) -> Any:
    async def submit(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
        form = {"serviceType": service}
        for key, value in prepared.items():
            form[key] = value.reveal() if isinstance(value, Secret) else value
        if "changes" in prepared or "profile" in prepared:
            profile = prepared.get("profile")
            if profile is None:
                # The server takes only a whole planner: read the current one (one request), change it.
                profile = _merge(await api.fetch(vehicle, "charging-profile"), prepared["changes"])
            form = {"serviceType": service, "data": json.dumps(profile.to_json())}
        response = await api.request(Request(
            method="POST", server="api", path=V.format(vin=vehicle.vin) + "/executeService",
            endpoint=f"executeService {service}", data=form, idempotent=False,
        ))
        execution = ServiceExecution.from_json(response.json())
        return Submission(execution.status.value, execution.event_id, raw={"service": service})

    return submit


async def _status(api: Api, vehicle: VehicleInfo, submission: Submission) -> Submission:
    service = submission.raw["service"]
    response = await api.request(Request(
        method="GET", server="api", path=V.format(vin=vehicle.vin) + "/serviceExecutionStatus",
        endpoint=f"serviceExecutionStatus {service}", params={"serviceType": service},
    ))
    execution = ServiceExecution.from_json(response.json())
    return Submission(execution.status.value, execution.event_id, raw=submission.raw)


def _classify(status: str) -> Outcome:
    return {
        ExecutionStatus.EXECUTED.value: Outcome.SUCCESS,
        ExecutionStatus.NOT_EXECUTED.value: Outcome.FAILED,
        ExecutionStatus.TIMED_OUT.value: Outcome.TIMED_OUT,
    }.get(status, Outcome.PENDING)


async def _send_poi(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    await api.request(Request(
        method="POST", server="api", path=V.format(vin=vehicle.vin) + "/sendpoi", endpoint="sendpoi",
        data={"data": json.dumps(prepared)}, idempotent=False,
    ))
    return Submission(ACCEPTED, raw=prepared)


def _service(name: str, validate: Any, refresh: tuple[str, ...], description: str) -> CommandSpec:
    service = SERVICES[name][0]
    return CommandSpec(
        name=name, submit=_execute(service), read_status=_status, classify=_classify, validate=validate,
        lock_key=lambda prepared: service, refresh_after=refresh, delays=STATUS_DELAYS,
        deadline=300.0, description=description,
    )


COMMANDS: tuple[CommandSpec, ...] = (
    _service("door-lock", no_params("door-lock"), ("status",), "Lock the doors."),
    _service("door-unlock", _validate_unlock, ("status",),
             "Unlock the doors (needs the account's security answer)."),
    _service("climate-now", no_params("climate-now"), ("status",), "Heat or cool the cabin now."),
    _service("charge-now", no_params("charge-now"), ("status",), "Start charging now (plugged in)."),
    _service("light-flash", _validate_count, (), "Flash the lights (count=1..5, default 2)."),
    _service("horn-blow", no_params("horn-blow"), (), "Sound the horn."),
    _service("vehicle-finder", no_params("vehicle-finder"), ("status",), "Ask the car for its position."),
    _service("charging-control", _validate_planner, ("charging-profile",),
             "Change the weekly planner: charging_mode, climatization, timer1..3 / override_timer "
             "({departure_time, enabled, weekdays}), charging_window=HH:MM-HH:MM|off."),
    CommandSpec(name="send-poi", submit=_send_poi, classify=lambda s: Outcome.SUCCESS if s == ACCEPTED
                else Outcome.PENDING, validate=_validate_poi, deadline=60.0,
                description="Send a destination to the car's navigation (lat, lon, name, street, city …)."),
)


# -- the typed actions (evclient.actions) -----------------------------------------------------------------


def _unlock(vehicle: VehicleInfo, action: Any) -> dict[str, Any]:
    # The security answer: the one given here, else the account's (added by the session).
    return {"security_answer": action.code} if action.code is not None else {}


def _destination(vehicle: VehicleInfo, action: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"lat": action.latitude, "lon": action.longitude}
    if action.title is not None:
        params["name"] = action.title
    return params


ACTIONS: dict[str, ActionMap] = {
    "climate-start": ActionMap("climate-now"),  # now, at the car's own set point: no temperature, no later start
    "charge-start": ActionMap("charge-now"),
    "charge-mode": ActionMap("charging-control", params=lambda vehicle, action: {
        "charging_mode": "DELAYED_CHARGING" if action.mode is Mode.SCHEDULED else "IMMEDIATE_CHARGING"}),
    "lock": ActionMap("door-lock"),
    "unlock": ActionMap("door-unlock", params=_unlock),
    "horn": ActionMap("horn-blow"),
    "flash": ActionMap("light-flash"),
    "send-destination": ActionMap("send-poi", params=_destination),
    "locate": ActionMap("vehicle-finder"),
}
