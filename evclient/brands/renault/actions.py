"""MyRenault actions. Kamereon acknowledges an action and has no status channel, so evclient confirms
the effect itself: it reads the endpoint the action changes (charge start → battery-status shows
charging) until it shows the effect or the deadline passes. Where the car has no such endpoint, or the
action only takes effect later (a delayed start), the acknowledgement is the result (``ACCEPTED``).

Which path and body an action takes depends on the model (:mod:`.support`): e.g. the Zoe phase 2 stops
charging with kcm pause-resume, the Mégane starts it with kcm charge/start, and the R5 generation
starts it by switching off its ev/settings programs.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ...actions import ActionMap, Range
from ...brand import Api, VehicleInfo
from ...command import CommandSpec, Submission, no_params
from ...delays import GrowingDelays, Outcome
from ...errors import InvalidInputError
from ...transport import Request, Response
from ...validate import date_time
from . import schedules
from .endpoints import KCA1, KCA2, KCM
from .models import BatteryStatus, ChargeMode, ChargeState, action_answer
from .support import ModelSupport, support

ACCEPTED = "ACCEPTED"  # the server took it; nothing to confirm
REQUESTED = "REQUESTED"  # taken, the effect not seen yet
CONFIRMED = "CONFIRMED"  # the changed endpoint shows the effect

# A car acts on a Kamereon action within a minute or so; each confirming read costs a Kamereon
# request from the hourly 60, so reads thin out quickly (at 20, 35, 60, 90, 150, 210, 300 s).
CONFIRM_DELAYS = GrowingDelays((20.0, 15.0, 25.0, 30.0, 60.0))
DEADLINE = 300.0
HVAC_TEMPERATURES = (16.0, 30.0)
SOC_MIN = (15, 45)
SOC_TARGET = (55, 100)
CHARGE_MODES = {"always_charging": "always_charging", "always": "always_charging",
                "schedule_mode": "schedule_mode", "scheduled": "schedule_mode"}


def _number(value: Any) -> float | None:
    """A number, also from text (the CLI passes ``temperature=21.5`` as text); ``None`` when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _classify(status: str) -> Outcome:
    # Anything else is a refusal read from the car (NOT_PLUGGED, FULL, CHARGE_ERROR).
    if status in (ACCEPTED, CONFIRMED):
        return Outcome.SUCCESS
    if status == REQUESTED:
        return Outcome.PENDING
    return Outcome.FAILED


def _jsonapi(kind: str, **attributes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind}
    if attributes:
        data["attributes"] = attributes
    return {"data": data}


async def _post(api: Api, vehicle: VehicleInfo, path: str, name: str, body: Any) -> Response:
    return await api.request(Request(
        method="POST", server="kamereon", path=path.format_map(vehicle.context), endpoint=name, json=body,
        headers={"Content-Type": "application/vnd.api+json"},
        # An action must never be sent twice by accident: a retry could sound the horn twice.
        idempotent=False,
    ))


def _acknowledged(response: Response, confirm: bool, **raw: Any) -> Submission:
    body = response.json_or_none()
    answer = action_answer(body) if isinstance(body, Mapping) else None
    return Submission(REQUESTED if confirm else ACCEPTED, event_id=answer.id if answer else None,
                      raw={"answer": answer, **raw})


def _model(vehicle: VehicleInfo) -> ModelSupport:
    return support(vehicle.model)


Check = Callable[[Any, Mapping[str, Any]], str]


def _confirming(endpoint: str, check: Check) -> Callable[[Api, VehicleInfo, Submission], Awaitable[Submission]]:
    """A status reader: read ``endpoint`` and let ``check(value, raw)`` name the status."""

    async def read(api: Api, vehicle: VehicleInfo, submission: Submission) -> Submission:
        value = await api.fetch(vehicle, endpoint)
        return Submission(check(value, submission.raw), event_id=submission.event_id, raw=submission.raw)

    return read


def _spec(name: str, submit: Any, description: str, *, validate: Any = None, confirm: Check | None = None,
          endpoint: str | None = None, lock: str | None = None) -> CommandSpec:
    return CommandSpec(
        name=name, submit=submit, classify=_classify, validate=validate or no_params(name),
        read_status=_confirming(endpoint, confirm) if confirm is not None and endpoint is not None else None,
        lock_key=(lambda prepared: lock) if lock else None, delays=CONFIRM_DELAYS, deadline=DEADLINE,
        description=description,
    )


# -- charging ---------------------------------------------------------------------------------------------


def _when(value: Any, what: str) -> dt.datetime:
    """A start time: an aware datetime, or ISO 8601 text with an offset; a naive one is local time."""
    return date_time(what, value).astimezone(dt.UTC).replace(microsecond=0)


def _utc_text(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _future(api: Api, when: dt.datetime, what: str) -> None:
    if when.timestamp() <= api.clock.wall():
        raise InvalidInputError(f"{what} {_utc_text(when)} is not in the future")


def _validate_charge_start(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(params) - {"at"}
    if unknown:
        raise InvalidInputError(f"charge-start takes only at (a delayed start), not {', '.join(sorted(unknown))}")
    if params.get("at") is None:
        return {}
    if _model(vehicle).charge_start != "kcm":
        raise InvalidInputError(f"a {vehicle.model or 'car of this model'} can only start charging now (no at=)")
    return {"at": _when(params["at"], "at")}


def _battery_check(goal: bool) -> Check:
    def check(battery: BatteryStatus, raw: Mapping[str, Any]) -> str:
        if battery.charging == goal:
            return CONFIRMED
        if goal:
            if battery.plug_state.name == "UNPLUGGED":
                return "NOT_PLUGGED"
            if battery.charge_state is ChargeState.CHARGE_ERROR:
                return "CHARGE_ERROR"
            if battery.battery_level is not None and battery.battery_level >= 100:
                return "FULL"
        return REQUESTED

    return check


async def _submit_charge_start(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    variant = _model(vehicle).charge_start
    confirm = _model(vehicle).has("battery-status") and "at" not in prepared
    if variant == "settings":
        # These cars charge at once when no departure program holds them back (the app does the same).
        settings = await api.fetch(vehicle, "ev-settings")
        body = copy.deepcopy(dict(settings.raw))
        for program in body.get("programs") or []:
            program["programActivationStatus"] = False
        response = await _post(api, vehicle, KCM + "/ev/settings", "charge-start", body)
    elif variant == "pause-resume":
        response = await _post(api, vehicle, KCM + "/charge/pause-resume", "charge-start",
                               _jsonapi("ChargePauseResume", action="resume"))
    elif variant == "kcm":
        attributes: dict[str, Any] = {"action": "start"}
        if "at" in prepared:
            _future(api, prepared["at"], "at")
            attributes["startDateTime"] = _utc_text(prepared["at"])
        response = await _post(api, vehicle, KCM + "/charge/start", "charge-start",
                               _jsonapi("ChargingStart", **attributes))
    else:
        response = await _post(api, vehicle, KCA1 + "/actions/charging-start", "charge-start",
                               _jsonapi("ChargingStart", action="start"))
    return _acknowledged(response, confirm)


async def _submit_charge_stop(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    if _model(vehicle).charge_stop == "pause-resume":
        response = await _post(api, vehicle, KCM + "/charge/pause-resume", "charge-stop",
                               _jsonapi("ChargePauseResume", action="pause"))
    else:
        response = await _post(api, vehicle, KCA1 + "/actions/charging-start", "charge-stop",
                               _jsonapi("ChargingStart", action="stop"))
    return _acknowledged(response, _model(vehicle).has("battery-status"))


def _validate_charge_mode(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    if set(params) != {"mode"}:
        raise InvalidInputError("charge-mode takes one parameter: mode (always_charging or schedule_mode)")
    mode = CHARGE_MODES.get(str(params["mode"]).lower()) if isinstance(params["mode"], str) else None
    if mode is None:
        raise InvalidInputError(f"mode must be always_charging or schedule_mode, got {params['mode']!r}")
    return {"mode": mode}


async def _submit_charge_mode(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    response = await _post(api, vehicle, KCA1 + "/actions/charge-mode", "charge-mode",
                           _jsonapi("ChargeMode", action=prepared["mode"]))
    return _acknowledged(response, _model(vehicle).has("charge-mode"), mode=prepared["mode"])


def _charge_mode_check(mode: ChargeMode, raw: Mapping[str, Any]) -> str:
    now = {ChargeMode.ALWAYS: "always_charging", ChargeMode.ALWAYS_CHARGING: "always_charging",
           ChargeMode.SCHEDULE_MODE: "schedule_mode", ChargeMode.SCHEDULED: "schedule_mode"}.get(mode)
    return CONFIRMED if now == raw["mode"] else REQUESTED


# -- climate ----------------------------------------------------------------------------------------------


def _validate_hvac_start(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(params) - {"temperature", "at"}
    if unknown or "temperature" not in params:
        raise InvalidInputError("hvac-start takes temperature (°C) and optionally at (when to start)")
    temperature = _number(params["temperature"])
    low, high = HVAC_TEMPERATURES
    if temperature is None or not low <= temperature <= high:
        raise InvalidInputError(f"temperature must be {low:g} to {high:g} °C, got {params['temperature']!r}")
    prepared: dict[str, Any] = {"temperature": temperature}
    if params.get("at") is not None:
        prepared["at"] = _when(params["at"], "at")
    return prepared


async def _submit_hvac_start(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    attributes: dict[str, Any] = {"action": "start", "targetTemperature": prepared["temperature"]}
    if "at" in prepared:
        _future(api, prepared["at"], "at")
        attributes["startDateTime"] = _utc_text(prepared["at"])
    response = await _post(api, vehicle, KCA1 + "/actions/hvac-start", "hvac-start",
                           _jsonapi("HvacStart", **attributes))
    return _acknowledged(response, _model(vehicle).has("hvac-status") and "at" not in prepared)


async def _submit_hvac_stop(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    word = _model(vehicle).hvac_stop or "cancel"
    response = await _post(api, vehicle, KCA1 + "/actions/hvac-start", "hvac-stop", _jsonapi("HvacStart", action=word))
    return _acknowledged(response, _model(vehicle).has("hvac-status"))


def _hvac_check(goal: bool) -> Check:
    return lambda status, raw: CONFIRMED if status.hvac_on is goal else REQUESTED


# -- schedules --------------------------------------------------------------------------------------------


def _schedule_command(kind: schedules.Kind, settings: str, path: Callable[[VehicleInfo], str],
                      body_type: str) -> tuple[Any, Any, Check]:
    def validate(vehicle: VehicleInfo, params: Mapping[str, Any]) -> tuple[schedules.Change, ...]:
        if set(params) != {"schedules"}:
            raise InvalidInputError(f"this command takes one parameter: schedules (one {kind.name} or a list)")
        return schedules.changes(kind, params["schedules"])

    async def submit(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
        current = await api.fetch(vehicle, settings)
        merged = schedules.merge(current.schedules, prepared)
        response = await _post(api, vehicle, path(vehicle), "set-" + settings,
                               _jsonapi(body_type, schedules=merged))
        return _acknowledged(response, True, schedules=merged)

    def check(value: Any, raw: Mapping[str, Any]) -> str:
        return CONFIRMED if schedules.same(value.schedules, raw["schedules"]) else REQUESTED

    return validate, submit, check


def _charge_schedule_path(vehicle: VehicleInfo) -> str:
    if _model(vehicle).charge_schedule == "kcm":
        return KCM + "/charge/schedule"
    return KCA2 + "/actions/charge-schedule"


_CHARGE_SCHEDULES = _schedule_command(schedules.CHARGE, "charging-settings", _charge_schedule_path, "ChargeSchedule")
_HVAC_SCHEDULES = _schedule_command(schedules.HVAC, "hvac-settings", lambda v: KCA2 + "/actions/hvac-schedule",
                                    "HvacSchedule")


# -- the rest ---------------------------------------------------------------------------------------------


def _horn_lights(target: str) -> Any:
    async def submit(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
        response = await _post(api, vehicle, KCA1 + "/actions/horn-lights", target,
                               _jsonapi("HornLights", action="start", target=target))
        return _acknowledged(response, False)

    return submit


async def _submit_refresh_location(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    response = await _post(api, vehicle, KCA1 + "/actions/refresh-location", "refresh-location",
                           _jsonapi("RefreshLocation"))
    return _acknowledged(response, _model(vehicle).has("location"), since=response.server_time(api.clock.wall()))


def _location_check(location: Any, raw: Mapping[str, Any]) -> str:
    fresh = location.last_update is not None and location.last_update.timestamp() >= raw["since"]
    return CONFIRMED if fresh else REQUESTED


def _level(params: Mapping[str, Any], key: str, bounds: tuple[int, int]) -> int:
    value = _number(params.get(key))
    low, high = bounds
    if value is None or not low <= value <= high or value % 5:
        raise InvalidInputError(f"{key} must be {low} to {high} % in steps of 5, got {params.get(key)!r}")
    return int(value)


def _validate_soc_levels(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, int]:
    if set(params) != {"minimum", "target"}:
        raise InvalidInputError("set-soc-levels takes minimum (15–45 %) and target (55–100 %), in steps of 5")
    return {"socMin": _level(params, "minimum", SOC_MIN), "socTarget": _level(params, "target", SOC_TARGET)}


async def _submit_soc_levels(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    response = await _post(api, vehicle, KCM + "/ev/soc-levels", "set-soc-levels", dict(prepared))
    return _acknowledged(response, True, levels=prepared)


def _soc_check(levels: Any, raw: Mapping[str, Any]) -> str:
    wanted = raw["levels"]
    return CONFIRMED if (levels.soc_min, levels.soc_target) == (wanted["socMin"], wanted["socTarget"]) else REQUESTED


COMMANDS: tuple[CommandSpec, ...] = (
    _spec("charge-start", _submit_charge_start, "Start charging now (kcm cars: at= a later start, UTC).",
          validate=_validate_charge_start, confirm=_battery_check(True), endpoint="battery-status", lock="charge"),
    _spec("charge-stop", _submit_charge_stop, "Stop (pause) charging.", confirm=_battery_check(False),
          endpoint="battery-status", lock="charge"),
    _spec("charge-mode", _submit_charge_mode, "Charge whenever plugged (mode=always_charging) or by the "
          "schedules (mode=schedule_mode).", validate=_validate_charge_mode, confirm=_charge_mode_check,
          endpoint="charge-mode", lock="charge-mode"),
    _spec("hvac-start", _submit_hvac_start, "Heat or cool the cabin to temperature= °C (16–30), now or at= a "
          "later time.", validate=_validate_hvac_start, confirm=_hvac_check(True), endpoint="hvac-status",
          lock="hvac"),
    _spec("hvac-stop", _submit_hvac_stop, "Stop (cancel) heating or cooling the cabin.", confirm=_hvac_check(False),
          endpoint="hvac-status", lock="hvac"),
    _spec("set-charge-schedules", _CHARGE_SCHEDULES[1], "Change charge schedules by id (schedules=[{id, "
          "activated?, monday: {startTime: 'THH:MMZ', duration: minutes} | None, …}]); the rest are kept.",
          validate=_CHARGE_SCHEDULES[0], confirm=_CHARGE_SCHEDULES[2], endpoint="charging-settings",
          lock="charge-schedules"),
    _spec("set-hvac-schedules", _HVAC_SCHEDULES[1], "Change A/C schedules by id (schedules=[{id, activated?, "
          "monday: {readyAtTime: 'THH:MMZ'} | None, …}]); the rest are kept.", validate=_HVAC_SCHEDULES[0],
          confirm=_HVAC_SCHEDULES[2], endpoint="hvac-settings", lock="hvac-schedules"),
    _spec("horn", _horn_lights("horn"), "Sound the horn."),
    _spec("lights", _horn_lights("lights"), "Flash the lights."),
    _spec("refresh-location", _submit_refresh_location, "Ask the car to send its position now.",
          confirm=_location_check, endpoint="location", lock="location"),
    _spec("set-soc-levels", _submit_soc_levels, "Set minimum= (15–45 %, charge at once below it) and target= "
          "(55–100 %, stop there), in steps of 5.", validate=_validate_soc_levels, confirm=_soc_check,
          endpoint="soc-levels", lock="soc-levels"),
)

#: Whether a model has each command (by its support table).
AVAILABLE: dict[str, Callable[[ModelSupport], bool]] = {
    "charge-start": lambda m: m.charge_start is not None,
    "charge-stop": lambda m: m.charge_stop is not None,
    "charge-mode": lambda m: m.charge_mode,
    "hvac-start": lambda m: m.hvac_start,
    "hvac-stop": lambda m: m.hvac_stop is not None,
    "set-charge-schedules": lambda m: m.charge_schedule is not None and m.has("charging-settings"),
    "set-hvac-schedules": lambda m: m.hvac_schedule and m.has("hvac-settings"),
    "horn": lambda m: m.horn_lights,
    "lights": lambda m: m.horn_lights,
    "refresh-location": lambda m: m.refresh_location,
    "set-soc-levels": lambda m: m.has("soc-levels"),
}


# -- the typed actions (evclient.actions) -----------------------------------------------------------------


def _climate(vehicle: VehicleInfo, action: Any) -> dict[str, Any]:
    # MyRenault always takes a set point: the cabin at 21 °C unless the application says otherwise.
    params: dict[str, Any] = {"temperature": 21.0 if action.temperature is None else float(action.temperature)}
    if action.at is not None:
        params["at"] = action.at
    return params


def _limits(vehicle: VehicleInfo, action: Any) -> dict[str, Any]:
    if action.minimum is None or action.target is None:
        raise InvalidInputError("MyRenault sets both charge limits at once: give minimum and target")
    return {"minimum": action.minimum, "target": action.target}


def _mode(vehicle: VehicleInfo, action: Any) -> dict[str, Any]:
    return {"mode": {"always": "always_charging", "scheduled": "schedule_mode"}[str(action.mode)]}


def _schedules(vehicle: VehicleInfo, action: Any) -> dict[str, Any]:
    # The command's own form (and its checks: ids 1 to 5) is the Home Assistant Renault actions' JSON.
    return {"schedules": [schedule.to_json() for schedule in action.schedules]}


ACTIONS: dict[str, ActionMap] = {
    "climate-start": ActionMap("hvac-start", params=_climate, ranges={"temperature": Range(*HVAC_TEMPERATURES)}),
    "climate-stop": ActionMap("hvac-stop"),
    "charge-start": ActionMap("charge-start"),
    "charge-stop": ActionMap("charge-stop"),
    "charge-limits": ActionMap("set-soc-levels", params=_limits,
                               ranges={"minimum": Range(*SOC_MIN, step=5), "target": Range(*SOC_TARGET, step=5)}),
    "charge-mode": ActionMap("charge-mode", params=_mode),
    "charge-schedules": ActionMap("set-charge-schedules", params=_schedules),
    "climate-schedules": ActionMap("set-hvac-schedules", params=_schedules),
    "horn": ActionMap("horn"),
    "flash": ActionMap("lights"),
    "locate": ActionMap("refresh-location"),
}
