"""The simulated Renault ZE Services cloud (``www.services.renault-ze.com/api``), mounted at ``/renault-ze/api``.

Paths, bodies and the login / token-refresh flow follow the seed document. What the seed does not say
(error bodies, the quota answer, 204 for commands) is the simulator's documented choice:
errors are ``{"code": ..., "message": ...}`` with 400 (bad input), 401 (``BAD_CREDENTIALS``,
``TOKEN_EXPIRED``, ``INVALID_TOKEN``), 403 (``FORBIDDEN``: not your car, or a scope the account lacks),
404 (``NOT_FOUND``) and 429 (``TOO_MANY_REQUESTS`` with ``Retry-After``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import zlib
from typing import Any, ClassVar

import jwt
from aiohttp import web

from ...actions import ClimateStart
from ..world import SIGNING_KEY, Car, World
from . import Refusal, Rehearsal, SimBrand, json_body, register

PREFIX = "/renault-ze/api"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CHANNELS = ("EMAIL", "SMS", "NONE")
NOTIFICATION_KEYS = ("battery_status", "charge_start", "charge_end", "charge_problem", "low_battery",
                     "low_battery_reminder")
#: Preconditioning works only above this battery level (percent), as the seed says.
PRECONDITION_MIN_LEVEL = 45.0
#: History records a car keeps (the service pages through a few months at most).
HISTORY_KEPT = 100
#: The scope each route needs.
SCOPES = {
    "battery": "BATTERY_CHARGE_STATUS",
    "charge-history": "BATTERY_CHARGE_HISTORY",
    "charge-now": "BATTERY_CHARGE_REMOTE_ACTIVATION",
    "charge-schedule": "BATTERY_CHARGE_SCHEDULING",
    "set-charge-schedule": "BATTERY_CHARGE_SCHEDULING",
    "deploy-charge-schedule": "BATTERY_CHARGE_SCHEDULING",
    "deactivate-charge-schedule": "BATTERY_CHARGE_SCHEDULING",
    "precondition": "AC_REMOTE_CONTROL",
    "precondition-at": "AC_REMOTE_CONTROL",
    "precondition-last": "AC_REMOTE_CONTROL",
    "precondition-history": "AC_REMOTE_CONTROL",
}
ALL_SCOPES = sorted({*SCOPES.values(), "BATTERY_CHARGE_LOWALERT"})


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status, headers=headers)



def _hhmm(value: Any, *, quarter: bool = False) -> int:
    """Minutes after midnight of an ``HHMM`` string; raises ValueError."""
    if not isinstance(value, str) or len(value) != 4 or not value.isdigit():
        raise ValueError(f"{value!r} is not HHMM")
    hours, minutes = int(value[:2]), int(value[2:])
    if hours > 23 or minutes > 59 or (quarter and minutes % 15):
        raise ValueError(f"{value!r} is not a valid time")
    return hours * 60 + minutes


def _duration(value: Any) -> int:
    if not isinstance(value, str) or len(value) != 4 or not value.isdigit():
        raise ValueError(f"{value!r} is not HHMM")
    minutes = int(value[:2]) * 60 + int(value[2:])
    if int(value[2:]) > 59 or minutes % 15 or not 15 <= minutes <= 24 * 60:
        raise ValueError(f"duration {value!r} is not a whole number of quarter hours")
    return minutes


def _month(value: str | None) -> tuple[int, int]:
    if value is None or len(value) != 4 or not value.isdigit() or not 1 <= int(value[:2]) <= 12:
        raise ValueError(f"{value!r} is not MMYY")
    return 2000 + int(value[2:]), int(value[:2])



@register
class RenaultZESim(SimBrand):
    name = "renault-ze"
    mounts: ClassVar[dict[str, str]] = {"api": PREFIX}
    fixtures = "renault_ze"
    rehearsal = Rehearsal(
        vin="VF1AG000164412345", poll="battery", action=ClimateStart(),
        routes={"login": "renault-ze.login", "token refresh": "renault-ze.token-refresh", "listing": None,
                "poll": "renault-ze.battery", "command submit": "renault-ze.precondition",
                "command status": "renault-ze.precondition-last"},
    )

    def __init__(self, world: World) -> None:
        super().__init__(world)
        #: Seconds a login token lives (the seed's tokens lived ten hours).
        self.token_lifetime = 36000.0

    # -- plumbing --------------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        v = PREFIX + "/vehicle/{vin}"
        r.add_post(PREFIX + "/user/login", self.login, name="renault-ze.login")
        r.add_post(PREFIX + "/user/token/refresh", self.refresh, name="renault-ze.token-refresh")
        r.add_get(v + "/battery", self.battery, name="renault-ze.battery")
        r.add_post(v + "/air-conditioning", self.precondition, name="renault-ze.precondition")
        r.add_get(v + "/air-conditioning", self.precondition_history, name="renault-ze.precondition-history")
        r.add_post(v + "/air-conditioning/scheduler", self.precondition_at, name="renault-ze.precondition-at")
        r.add_get(v + "/air-conditioning/last", self.precondition_last, name="renault-ze.precondition-last")
        r.add_post(v + "/charge", self.charge_now, name="renault-ze.charge-now")
        r.add_get(v + "/charge/history", self.charge_history, name="renault-ze.charge-history")
        r.add_get(v + "/settings/notification", self.notifications, name="renault-ze.notification-settings")
        r.add_put(v + "/settings/notification", self.set_notifications, name="renault-ze.set-notification-settings")
        r.add_put(v + "/charge/scheduler/offboard", self.set_schedule, name="renault-ze.set-charge-schedule")
        r.add_post(v + "/charge/scheduler/offboard/deploy", self.deploy_schedule,
                   name="renault-ze.deploy-charge-schedule")
        r.add_get(v + "/charge/scheduler/onboard", self.schedule, name="renault-ze.charge-schedule")
        r.add_put(v + "/charge/scheduler/onboard", self.deactivate_schedule,
                  name="renault-ze.deactivate-charge-schedule")

    async def identify(self, request: web.Request, world: World) -> str | None:
        if request.match_info.route.name == "renault-ze.login":
            body = await json_body(request)
            user = body.get("username") if isinstance(body, dict) else None
            return user if isinstance(user, str) and world.account(self.name, user) else None
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        claims = _claims(token)
        sub = claims.get("sub") if claims else None
        return sub if isinstance(sub, str) and world.account(self.name, sub) else None

    def quota_response(self, retry_after: float) -> web.StreamResponse:
        return _error(429, "TOO_MANY_REQUESTS", "Too many requests, please try again later",
                      {"Retry-After": str(math.ceil(retry_after))})

    def _stamp(self, response: web.StreamResponse) -> web.StreamResponse:
        # The server's Date header is on the simulated clock, like the dates in its records.
        response.headers["Date"] = email.utils.formatdate(self.world.clock.wall(), usegmt=True)
        return response

    def _user(self, request: web.Request) -> str:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        issued, state = self.world.token(self.name, token)
        if state == "expired":
            raise Refusal(_error(401, "TOKEN_EXPIRED", "The token has expired"))
        if issued is None:
            raise Refusal(_error(401, "INVALID_TOKEN", "The token is not valid"))
        return issued.username

    def _car(self, request: web.Request) -> Car:
        user = self._user(request)
        car = self.world.car(request.match_info["vin"])
        if car is None or car.brand != self.name or car.owner != user:
            raise Refusal(_error(403, "FORBIDDEN", "This vehicle is not associated with your account"))
        route = (request.match_info.route.name or "").split(".", 1)[1]
        needed = SCOPES.get(route)
        if needed is not None and needed not in car.capabilities.get("scopes", ALL_SCOPES):
            raise Refusal(_error(403, "FORBIDDEN", f"This service needs the {needed} subscription"))
        return car

    # -- login -----------------------------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("username"), str):
            return _error(400, "INVALID_PARAMETER", "username and password are required")
        account = self.world.account(self.name, body["username"])
        if account is None or body.get("password") != account.password:
            return _error(401, "BAD_CREDENTIALS", "Bad credentials")
        cars = self.world.cars_of(self.name, account.username)
        return self._stamp(web.json_response({
            "token": self.world.issue_jwt(self.name, account.username, self.token_lifetime),
            "refresh_token": self.world.issue_opaque(self.name, account.username, "refresh"),
            "user": _user_body(account.username, cars),
        }))

    async def refresh(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        if not isinstance(body, dict):
            return _error(400, "INVALID_PARAMETER", "token and refresh_token are required")
        claims = _claims(str(body.get("token", "")))
        header = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        issued, state = self.world.token(self.name, str(body.get("refresh_token", "")), kind="refresh")
        if claims is None or header != body.get("token") or issued is None or state != "ok":
            return _error(401, "INVALID_TOKEN", "The refresh token is not valid")
        if claims.get("sub") != issued.username:
            return _error(401, "INVALID_TOKEN", "The token and refresh token do not match")
        token = self.world.issue_jwt(self.name, issued.username, self.token_lifetime, {"jti": claims.get("jti")})
        return self._stamp(web.json_response({"token": token}))

    # -- reading ---------------------------------------------------------------------------------------

    async def battery(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda car: web.json_response(_battery_body(car)))

    async def precondition_last(self, request: web.Request) -> web.StreamResponse:
        def answer(car: Car) -> web.Response:
            history = car.extra.get("precondition_history", [])
            if not history:
                return _error(404, "NOT_FOUND", "No air-conditioning record")
            return web.json_response(history[0])

        return await self._serve(request, answer)

    async def precondition_history(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda car: self._months(request, car, "precondition_history"))

    async def charge_history(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda car: self._months(request, car, "charge_history"))

    def _months(self, request: web.Request, car: Car, key: str) -> web.Response:
        try:
            begin = _month(request.query.get("begin"))
            end = _month(request.query.get("end"))
        except ValueError as err:
            return _error(400, "INVALID_PARAMETER", f"begin and end must be MMYY: {err}")
        zone = car.zone()

        def month_of(record: dict[str, Any]) -> tuple[int, int]:
            when = dt.datetime.fromtimestamp(record["date"] / 1000, zone)
            return when.year, when.month

        return web.json_response([r for r in car.extra.get(key, []) if begin <= month_of(r) <= end])

    async def notifications(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda car: web.json_response(car.extra["notifications"]))

    async def schedule(self, request: web.Request) -> web.StreamResponse:
        def answer(car: Car) -> web.Response:
            state = car.extra["charge_schedule"]
            return web.json_response({"enabled": state["enabled"], "schedule": state["schedule"]})

        return await self._serve(request, answer)

    # -- writing ---------------------------------------------------------------------------------------

    async def precondition(self, request: web.Request) -> web.StreamResponse:
        def act(car: Car) -> web.Response:
            script = self.world.script(car.vin, "precondition")
            if script.outcome != "never":
                self.world.at(car.t + script.latency, car, lambda w, c: _precondition_done(w, c, script.outcome))
            return web.Response(status=204)

        return await self._serve(request, act)

    async def precondition_at(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)

        def act(car: Car) -> web.Response:
            try:
                minutes = _hhmm(body.get("start") if isinstance(body, dict) else None)
            except ValueError as err:
                return _error(400, "INVALID_PARAMETER", f"start must be HHMM: {err}")
            self.world.cancel(car, lambda hook: getattr(hook, "scheduled_precondition", False))
            when = _next_local(car, minutes)

            def start(world: World, c: Car) -> None:
                _precondition_done(world, c, "auto", kind="CAR_NOTIFICATION")
                c.extra.pop("precondition_at", None)

            start.scheduled_precondition = True  # type: ignore[attr-defined]
            car.extra["precondition_at"] = body["start"]
            self.world.at(when, car, start)
            return web.Response(status=204)

        return await self._serve(request, act)

    async def charge_now(self, request: web.Request) -> web.StreamResponse:
        def act(car: Car) -> web.Response:
            script = self.world.script(car.vin, "charge-now")
            if script.outcome != "never":
                self.world.at(car.t + script.latency, car, lambda w, c: _charge_now_done(w, c, script.outcome))
            return web.Response(status=204)

        return await self._serve(request, act)

    async def set_notifications(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)

        def act(car: Car) -> web.Response:
            try:
                car.extra["notifications"] = _valid_notifications(body)
            except ValueError as err:
                return _error(400, "INVALID_PARAMETER", str(err))
            return web.Response(status=204)

        return await self._serve(request, act)

    async def set_schedule(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)

        def act(car: Car) -> web.Response:
            try:
                schedule, optimized = _valid_schedule(body)
            except ValueError as err:
                return _error(400, "INVALID_PARAMETER", str(err))
            car.extra["charge_schedule"] = {"enabled": False, "schedule": schedule, "optimized_charge": optimized}
            _plan_slots(self.world, car)
            return web.Response(status=204)

        return await self._serve(request, act)

    async def deploy_schedule(self, request: web.Request) -> web.StreamResponse:
        def act(car: Car) -> web.Response:
            state = car.extra["charge_schedule"]
            if not state.get("schedule"):
                return _error(400, "INVALID_PARAMETER", "There is no schedule to deploy")
            state["enabled"] = True
            _plan_slots(self.world, car)
            return web.Response(status=204)

        return await self._serve(request, act)

    async def deactivate_schedule(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)

        def act(car: Car) -> web.Response:
            if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
                return _error(400, "INVALID_PARAMETER", "expected {\"enabled\": false}")
            state = car.extra["charge_schedule"]
            if body["enabled"] and not state.get("schedule"):
                return _error(400, "INVALID_PARAMETER", "There is no schedule to enable")
            state["enabled"] = body["enabled"]
            _plan_slots(self.world, car)
            return web.Response(status=204)

        return await self._serve(request, act)

    async def _serve(self, request: web.Request, answer: Any) -> web.StreamResponse:
        try:
            car = self._car(request)
        except Refusal as refusal:
            return refusal.response
        response: web.StreamResponse = answer(car)
        return self._stamp(response)

    # -- world hooks -----------------------------------------------------------------------------------

    def setup_car(self, world: World, car: Car) -> None:
        car.extra.setdefault("precondition_history", [])
        car.extra.setdefault("charge_history", [])
        car.extra.setdefault("notifications", {**dict.fromkeys(NOTIFICATION_KEYS, "EMAIL"), "do_not_disturb": None})
        car.extra.setdefault("charge_schedule", {"enabled": False, "schedule": None, "optimized_charge": False})

    def on_event(self, world: World, car: Car, event: str) -> None:
        ms = int(car.t * 1000)
        if event == "joined":
            _plan_slots(world, car)
        elif event == "charge_started":
            minutes = car.minutes_to_full
            record = {"date": ms, "type": "START_NOTIFICATION", "charging_point": car.charging_point,
                      "charge_level": round(car.battery_level), "remaining_autonomy": round(car.range_km)}
            if minutes is not None:
                record["remaining_time"] = minutes * 60_000  # milliseconds here, minutes in battery
            car.extra["charge_history"].insert(0, record)
            del car.extra["charge_history"][HISTORY_KEPT:]
            _notify(world, car, "charge_start", "Charge started", f"Charging at {round(car.battery_level)} %")
        elif event.startswith("charge_ended"):
            car.extra.pop("charge_now", None)
            car.extra["charge_history"].insert(0, {
                "date": ms, "type": "END_NOTIFICATION", "charging_point": car.charging_point,
                "charge_level": round(car.battery_level), "remaining_autonomy": round(car.range_km)})
            _notify(world, car, "charge_end", "Charge ended", f"Battery at {round(car.battery_level)} %")


# -- car behaviour ---------------------------------------------------------------------------------------


def _battery_body(car: Car) -> dict[str, Any]:
    body: dict[str, Any] = {
        "charging": car.charging,
        "plugged": car.plugged,
        "charge_level": round(car.battery_level),
        "remaining_range": float(car.range_km),
        "last_update": int(car.last_update * 1000),
    }
    if car.plugged:
        body["charging_point"] = car.charging_point
    if car.charging and car.minutes_to_full is not None:
        body["remaining_time"] = car.minutes_to_full
    return body


def _precondition_done(world: World, car: Car, outcome: str, kind: str = "USER_REQUEST") -> None:
    ok = car.battery_level > PRECONDITION_MIN_LEVEL if outcome == "auto" else outcome == "success"
    car.extra["precondition_history"].insert(0, {"date": int(car.t * 1000), "type": kind,
                                                 "result": "SUCCESS" if ok else "ERROR"})
    del car.extra["precondition_history"][HISTORY_KEPT:]
    car.last_update = car.t
    if ok:
        world.start_hvac(car, 300.0)


def _charge_now_done(world: World, car: Car, outcome: str) -> None:
    car.last_update = car.t
    if outcome == "fail" or not world.start_charging(car):
        reason = "the car is not plugged in" if not car.plugged else "the car could not start charging"
        if car.plugged and car.battery_level >= 100:
            reason = "the battery is already full"
        _notify(world, car, "charge_problem", "Charge problem", f"Charging could not start: {reason}")
        return
    car.extra["charge_now"] = True


def _notify(world: World, car: Car, setting: str, subject: str, text: str) -> None:
    settings = car.extra["notifications"]
    channel = settings.get(setting, "NONE")
    if channel == "NONE":
        return
    quiet = settings.get("do_not_disturb")
    if quiet:
        now = dt.datetime.fromtimestamp(car.t, car.zone())
        minute = now.hour * 60 + now.minute
        start, end = _hhmm(quiet["start"]), _hhmm(quiet["end"])
        if (start <= minute < end) if start <= end else (minute >= start or minute < end):
            return
    world.send("renault-ze", car.owner, channel, subject, text)


def _next_local(car: Car, minutes: int) -> float:
    """The next time (epoch seconds) the car's local clock shows ``minutes`` after midnight."""
    zone = car.zone()
    now = dt.datetime.fromtimestamp(car.t, zone)
    target = now.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)
    if target.timestamp() <= car.t:
        target = (target + dt.timedelta(days=1)).replace(hour=minutes // 60, minute=minutes % 60)
    return target.timestamp()


def _slots(car: Car, around: float) -> list[tuple[float, float]]:
    """The schedule's charging slots (start, end epoch seconds) from yesterday to a week ahead."""
    state = car.extra["charge_schedule"]
    if not state.get("enabled") or not state.get("schedule"):
        return []
    zone = car.zone()
    today = dt.datetime.fromtimestamp(around, zone).date()
    result = []
    for offset in range(-1, 8):
        day = today + dt.timedelta(days=offset)
        slot = state["schedule"][DAYS[day.weekday()]]
        start_min = _hhmm(slot["start"])
        begin = dt.datetime(day.year, day.month, day.day, start_min // 60, start_min % 60, tzinfo=zone).timestamp()
        result.append((begin, begin + _duration(slot["duration"]) * 60))
    return result


def _plan_slots(world: World, car: Car) -> None:
    """Schedule the car's next slot boundary (charging starts or stops there), replacing any earlier plan."""
    world.cancel(car, lambda hook: getattr(hook, "slot_boundary", False))
    if not car.t:
        return  # not on the timeline yet; planned when it joins
    slots = _slots(car, car.t)
    boundaries = sorted(t for slot in slots for t in slot if t > car.t)
    if not boundaries:
        return

    def boundary(w: World, c: Car) -> None:
        inside = any(start <= c.t < end for start, end in _slots(c, c.t))
        if inside:
            w.start_charging(c)
        elif not c.extra.get("charge_now"):
            w.stop_charging(c, reason="schedule")
        _plan_slots(w, c)

    boundary.slot_boundary = True  # type: ignore[attr-defined]
    world.at(boundaries[0], car, boundary)


def _valid_notifications(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    result: dict[str, Any] = {}
    for key in NOTIFICATION_KEYS:
        if body.get(key) not in CHANNELS:
            raise ValueError(f"{key} must be one of {', '.join(CHANNELS)}")
        result[key] = body[key]
    quiet = body.get("do_not_disturb")
    if quiet is not None:
        if not isinstance(quiet, dict):
            raise ValueError("do_not_disturb must be null or {start, end}")
        _hhmm(quiet.get("start"))
        _hhmm(quiet.get("end"))
        quiet = {"start": quiet["start"], "end": quiet["end"]}
    result["do_not_disturb"] = quiet
    return result


def _valid_schedule(body: Any) -> tuple[dict[str, Any], bool]:
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    schedule = {}
    for day in DAYS:
        slot = body.get(day)
        if not isinstance(slot, dict):
            raise ValueError(f"every day needs a slot; {day} is missing")
        _hhmm(slot.get("start"), quarter=True)
        _duration(slot.get("duration"))
        schedule[day] = {"start": slot["start"], "duration": slot["duration"]}
    return schedule, bool(body.get("optimized_charge", False))


def _user_body(username: str, cars: list[Car]) -> dict[str, Any]:
    first = cars[0] if cars else None
    number = zlib.crc32(username.encode()) % 10**8
    return {
        "id": f"user-{number:08d}",
        "locale": "en_GB",
        "country": "GB",
        "timezone": first.timezone if first else "Europe/London",
        "email": username,
        "first_name": "Demo",
        "last_name": "Driver",
        "phone_number": "+447700900123",
        "vehicle_details": {
            "timezone": first.timezone, "VIN": first.vin, "activation_code": "A1B2C3",
            "phone_number": "+447700900123",
        } if first else None,
        "scopes": list(first.capabilities.get("scopes", ALL_SCOPES)) if first else [],
        "active_account": f"acct-{number:08d}",
        "associated_vehicles": [{"VIN": c.vin, "activation_code": "A1B2C3", "user_id": "user"} for c in cars],
        "gdc_uid": f"gdc-{number:08d}",
    }


def _claims(token: str) -> dict[str, Any] | None:
    try:
        # Simulated time may run ahead of the real clock PyJWT checks ``iat`` against: only the signature counts.
        claims: dict[str, Any] = jwt.decode(
            token, SIGNING_KEY, algorithms=["HS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        return None
    return claims

