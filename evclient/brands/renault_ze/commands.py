"""ZE Services commands. The API answers a command with nothing; evclient reads its outcome elsewhere.

* ``precondition``: the outcome is the first ``air-conditioning/last`` record dated at or after the
  submission (``SUCCESS``, or ``ERROR`` — e.g. the battery is at or below 45 %);
* ``charge-now``: success once the battery reports ``charging``; failure when it reports unplugged or full;
* the rest (``precondition-at``, settings, the charge calendar) take effect when the server accepts them.

"After the submission" is judged on the server's own clock (the submission's ``Date`` header), so a
skewed local clock cannot match an old record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...actions import ActionMap, ChargingMode
from ...brand import Api, VehicleInfo
from ...command import CommandSpec, Submission, no_params
from ...delays import GrowingDelays, Outcome
from ...errors import InvalidInputError
from ...transport import Request, Response
from . import inputs
from .models import NOTIFICATION_KEYS, NotificationSettings, PreconditionResult, hhmm

V = "/vehicle/{vin}"
ACCEPTED = "ACCEPTED"
REQUESTED = "REQUESTED"

# The car answers over the mobile network, usually within a minute: look after 10 s, then less often.
_CAR_DELAYS = (10.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)


def _server_time(response: Response, api: Api) -> float:
    return response.server_time(api.clock.wall())



async def _send(api: Api, vehicle: VehicleInfo, method: str, path: str, endpoint: str, body: Any = None) -> Response:
    return await api.request(Request(
        method=method, server="api", path=path.format(vin=vehicle.vin), endpoint=endpoint, json=body,
        # A command must never be sent twice by accident: a retry could start the car twice.
        idempotent=False,
    ))


def _accepted(status: str) -> Outcome:
    return Outcome.SUCCESS if status == ACCEPTED else Outcome.PENDING


# -- precondition now ---------------------------------------------------------------------------------


async def _submit_precondition(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    response = await _send(api, vehicle, "POST", V + "/air-conditioning", "precondition")
    return Submission(REQUESTED, raw={"since": _server_time(response, api)})


async def _precondition_status(api: Api, vehicle: VehicleInfo, submission: Submission) -> Submission:
    record = await api.fetch(vehicle, "precondition-last")
    if record is None or record.date.timestamp() < submission.raw["since"]:
        return Submission(REQUESTED, raw=submission.raw)
    return Submission(str(record.result.value), raw={**submission.raw, "record": record.raw})


def _precondition_outcome(status: str) -> Outcome:
    if status == PreconditionResult.SUCCESS.value:
        return Outcome.SUCCESS
    if status == REQUESTED:
        return Outcome.PENDING
    return Outcome.FAILED  # ERROR, or a result evclient does not know


# -- charge now -----------------------------------------------------------------------------------------


async def _submit_charge(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    response = await _send(api, vehicle, "POST", V + "/charge", "charge-now")
    return Submission(REQUESTED, raw={"since": _server_time(response, api)})


async def _charge_status(api: Api, vehicle: VehicleInfo, submission: Submission) -> Submission:
    battery = await api.fetch(vehicle, "battery")
    if battery.charging:
        status = "CHARGING"
    elif not battery.plugged:
        status = "NOT_PLUGGED"
    elif battery.charge_level >= 100:
        status = "FULL"
    else:
        status = "WAITING"
    return Submission(status, raw=submission.raw)


def _charge_outcome(status: str) -> Outcome:
    return {"CHARGING": Outcome.SUCCESS, "NOT_PLUGGED": Outcome.FAILED, "FULL": Outcome.FAILED}.get(
        status, Outcome.PENDING
    )


# -- precondition at --------------------------------------------------------------------------------------


def _validate_precondition_at(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    if set(params) != {"start"}:
        raise InvalidInputError("precondition-at takes one parameter: start (HH:MM, when preconditioning begins)")
    return {"start": hhmm(inputs.time_of_day(params["start"], "start"))}


async def _submit_precondition_at(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    await _send(api, vehicle, "POST", V + "/air-conditioning/scheduler", "precondition-at", prepared)
    return Submission(ACCEPTED, raw=prepared)


# -- notification settings ---------------------------------------------------------------------------------


def _validate_notifications(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    return inputs.notification_changes(params)


async def _submit_notifications(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    complete = set(NOTIFICATION_KEYS) | {"do_not_disturb"} <= set(prepared)
    if complete:
        body: dict[str, Any] = {}
    else:
        # The API only takes the whole set: read the current one (one request) and change what was asked.
        current: NotificationSettings = await api.fetch(vehicle, "notification-settings")
        body = current.to_json()
    for key, value in prepared.items():
        if key == "do_not_disturb":
            body[key] = None if value is None else value.to_json()
        else:
            body[key] = value.value
    await _send(api, vehicle, "PUT", V + "/settings/notification", "set-notification-settings", body)
    return Submission(ACCEPTED, raw=body)


# -- the charge calendar -----------------------------------------------------------------------------------


def _validate_schedule(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(params) - {"schedule", "optimized_charge", "deploy"}
    if unknown or "schedule" not in params:
        raise InvalidInputError(
            "set-charge-schedule takes schedule (a slot for each of mon … sun), and optionally "
            "optimized_charge and deploy"
        )
    days = inputs.weekly_schedule(params["schedule"])
    body: dict[str, Any] = {"optimized_charge": inputs.flag(params.get("optimized_charge", False),
                                                             "optimized_charge")}
    body.update({day: slot.to_json() for day, slot in days.items()})
    return {"body": body, "deploy": inputs.flag(params.get("deploy", False), "deploy")}


async def _submit_schedule(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    await _send(api, vehicle, "PUT", V + "/charge/scheduler/offboard", "set-charge-schedule", prepared["body"])
    if prepared["deploy"]:
        await _send(api, vehicle, "POST", V + "/charge/scheduler/offboard/deploy", "deploy-charge-schedule")
    return Submission(ACCEPTED, raw=prepared["body"])


async def _submit_deploy(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    await _send(api, vehicle, "POST", V + "/charge/scheduler/offboard/deploy", "deploy-charge-schedule")
    return Submission(ACCEPTED)


async def _submit_deactivate(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    await _send(api, vehicle, "PUT", V + "/charge/scheduler/onboard", "deactivate-charge-schedule",
                {"enabled": False})
    return Submission(ACCEPTED)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="precondition", submit=_submit_precondition, read_status=_precondition_status,
        classify=_precondition_outcome, validate=no_params("precondition"),
        lock_key=lambda prepared: "precondition", delays=GrowingDelays(_CAR_DELAYS), deadline=300.0,
        description="Heat or cool the cabin for five minutes now (needs more than 45 % battery).",
    ),
    CommandSpec(
        name="charge-now", submit=_submit_charge, read_status=_charge_status, classify=_charge_outcome,
        validate=no_params("charge-now"), lock_key=lambda prepared: "charge", delays=GrowingDelays(_CAR_DELAYS),
        deadline=300.0, description="Start charging now, whatever the charge calendar says.",
    ),
    CommandSpec(
        name="precondition-at", submit=_submit_precondition_at, classify=_accepted,
        validate=_validate_precondition_at,
        description="Start preconditioning at start=HH:MM (the car's local time; once).",
    ),
    CommandSpec(
        name="set-notification-settings", submit=_submit_notifications, classify=_accepted,
        validate=_validate_notifications, refresh_after=("notification-settings",),
        description="Change where notifications go: battery_status / charge_start / … = EMAIL|SMS|NONE, "
        "do_not_disturb=HH:MM-HH:MM or none.",
    ),
    CommandSpec(
        name="set-charge-schedule", submit=_submit_schedule, classify=_accepted, validate=_validate_schedule,
        refresh_after=("charge-schedule",),
        description="Write the weekly charge calendar (schedule={mon: {start, duration}, …}; deploy=true to "
        "send it to the car too).",
    ),
    CommandSpec(
        name="deploy-charge-schedule", submit=_submit_deploy, classify=_accepted,
        validate=no_params("deploy-charge-schedule"), refresh_after=("charge-schedule",),
        description="Send the written charge calendar to the car and follow it.",
    ),
    CommandSpec(
        name="deactivate-charge-schedule", submit=_submit_deactivate, classify=_accepted,
        validate=no_params("deactivate-charge-schedule"), refresh_after=("charge-schedule",),
        description="Stop following the charge calendar: the car charges whenever it is plugged in.",
    ),
)


# -- the typed actions (evclient.actions) -----------------------------------------------------------------


def _climate(vehicle: VehicleInfo, action: Any) -> dict[str, Any]:
    if action.temperature is not None:
        raise InvalidInputError("ZE Services preconditions to the car's own set point: leave out temperature")
    # A later start is a time of day, the car's own: the wall time ``at`` shows is taken as it is.
    return {"start": action.at.strftime("%H:%M")} if action.at is not None else {}


ACTIONS: dict[str, ActionMap] = {
    "climate-start": ActionMap("precondition", params=_climate,
                               other=lambda action: "precondition-at" if action.at is not None else None),
    "charge-start": ActionMap("charge-now"),
    # Following the calendar is the scheduled mode; not following it, charging whenever plugged in.
    "charge-mode": ActionMap("deactivate-charge-schedule", params=lambda vehicle, action: {},
                             other=lambda action: "deploy-charge-schedule"
                             if action.mode is ChargingMode.SCHEDULED else None),
}
