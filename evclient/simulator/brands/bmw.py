"""The simulated BMW ConnectedDrive cloud (legacy ``webapi/v1``), mounted at ``/bmw``.

Bodies follow the seed and the 2018 captures. Remote services walk INITIATED → PENDING → DELIVERED →
EXECUTED (or NOT_EXECUTED), or end TIMED_OUT when the car has not answered within two minutes.

The latency model: the server hands the command on within a second or two (PENDING), then waits for the
car to wake up and fetch it over 3G — most of the latency, and set by where the car is parked, so each
car has its own typical latency (its ``latency_median_s``, else drawn once per VIN around 20 s). The car
then has it (DELIVERED) and answers a few seconds later. Over a fleet the latency is log-normal with a
median of about 20 s and a long tail capped at three minutes; outcomes are mostly EXECUTED, sometimes
NOT_EXECUTED or TIMED_OUT. Every figure is an attribute of :class:`BmwSim`; tests script single commands.
Errors are ``{"error": {"code", "description"}}``; the token endpoint answers OAuth errors.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import math
import random
from typing import Any, ClassVar

from aiohttp import web

from ...actions import Flash
from ..world import Car, CommandScript, SimAccount, World
from . import DEMO_PASSWORD, DEMO_USERNAME, Refusal, Rehearsal, SimBrand, register

PREFIX = "/bmw"
V = PREFIX + "/webapi/v1/user/vehicles/{vin}"
KM_PER_MILE = 1.609344
#: The server stops waiting for the car after this many seconds (TIMED_OUT).
SERVER_TIMEOUT = 120.0
#: service type → (capability flag, values that enable it)
SERVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "CHARGE_NOW": ("chargeNow", ("ACTIVATED",)),
    "CLIMATE_NOW": ("climateNow", ("ACTIVATED",)),
    "DOOR_LOCK": ("doorLock", ("ACTIVATED",)),
    "DOOR_UNLOCK": ("doorUnlock", ("ACTIVATED",)),
    "LIGHT_FLASH": ("lightFlash", ("ACTIVATED",)),
    "HORN_BLOW": ("hornBlow", ("ACTIVATED",)),
    "VEHICLE_FINDER": ("vehicleFinder", ("ACTIVATED",)),
    "CHARGING_CONTROL": ("chargingControl", ("WEEKLY_PLANNER", "TWO_TIMES_TIMER", "ACTIVATED")),
}
SECRET_KNOWLEDGE_ERROR = {
    "error": {"code": 500, "description": "(SmartPhoneUtil-A-2013) Action is forbidden. "
              "secretKnowledge is missing but required!"}
}
#: Condition-based service items as the i3 captures list them.
DEFAULT_CBS = [
    {"cbsDueDate": "2027-05", "cbsState": "OK", "cbsType": "BRAKE_FLUID",
     "cbsDescription": "Next change due at the latest by the stated date."},
    {"cbsDueDate": "2027-05", "cbsState": "OK", "cbsType": "VEHICLE_CHECK",
     "cbsDescription": "Next visual inspection due when the stated distance has been covered or by the stated date."},
]
DEMO_APP_KEY = "demo-key"
DEMO_APP_SECRET = "demo-secret"  # noqa: S105 - the simulator's published demo credentials
DEMO_SECURITY_ANSWER = "demo-answer"


def _error(status: int, description: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"code": status, "description": description}}, status=status,
                             headers=headers)




def _local(car: Car, when: float) -> str:
    return dt.datetime.fromtimestamp(when, car.zone()).strftime("%Y-%m-%dT%H:%M:%S%z")


@register
class BmwSim(SimBrand):
    name = "bmw"
    mounts: ClassVar[dict[str, str]] = {"api": PREFIX}
    fixtures = "bmw"
    rehearsal = Rehearsal(
        vin="WBY1Z61020V300002", poll="status", action=Flash(),
        routes={"login": "bmw.login", "token refresh": "bmw.login", "listing": "bmw.vehicles", "poll": "bmw.status",
                "command submit": "bmw.executeService", "command status": "bmw.serviceExecutionStatus"},
    )

    def __init__(self, world: World) -> None:
        super().__init__(world)
        #: Seconds an access token lives (the seed: 8 hours).
        self.token_lifetime = 28800.0
        #: Commands submitted while another of the same type was still running on the same car.
        self.overlaps = 0
        self.random = random.Random(2018)  # reproducible simulated latencies
        #: The fleet's median latency (s); cars spread around it by ``car_spread`` (σ of the log) and
        #: one car's commands around its own median by ``command_spread``.
        self.latency_median = 20.0
        self.car_spread = 0.45
        self.command_spread = 0.3
        self.latency_cap = 180.0
        #: Seconds the server takes to hand a command on (INITIATED → PENDING).
        self.dispatch = 1.5
        #: From DELIVERED to the car's answer: uniform in this range (s).
        self.execution = (2.0, 8.0)
        #: Shares of EXECUTED and NOT_EXECUTED; the rest never answer (TIMED_OUT).
        self.outcomes = (0.90, 0.06)
        self._events = itertools.count(0x424C39333232)
        #: The listing's shape: ``None`` answers each client as the server did — the seed's bare list on the
        #: seed's path (``/user/vehicles/``), the 2018 captures' ``{"vehicles": [...]}`` on the path the 2018
        #: clients ask (``/user/vehicles``); "wrapped" or "bare" forces one shape on both.
        self.listing: str | None = None

    @classmethod
    def demo_credentials(cls) -> dict[str, Any]:
        return {**super().demo_credentials(), "app_key": DEMO_APP_KEY, "app_secret": DEMO_APP_SECRET,
                "security_answer": DEMO_SECURITY_ANSWER}

    def default_accounts(self) -> list[SimAccount]:
        return [SimAccount(brand=self.name, username=DEMO_USERNAME, password=DEMO_PASSWORD, email=DEMO_USERNAME,
                           extra={"app_key": DEMO_APP_KEY, "app_secret": DEMO_APP_SECRET,
                                  "security_answer": DEMO_SECURITY_ANSWER})]

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        for path in ("/webapi/oauth/token/", "/gcdm/oauth/token"):
            r.add_post(PREFIX + path, self.token, name="bmw.login" + ("" if "webapi" in path else "-gcdm"))
        # Clients of every era: the seed's path ends in a slash, bimmer_connected's does not.
        r.add_get(PREFIX + "/webapi/v1/user/vehicles/", self.vehicles, name="bmw.vehicles")
        r.add_get(PREFIX + "/webapi/v1/user/vehicles", self.vehicles, name="bmw.vehicles-wrapped")
        r.add_get(V + "/status", self.status, name="bmw.status")
        r.add_get(V + "/statistics/lastTrip", self.last_trip, name="bmw.last-trip")
        r.add_get(V + "/statistics/allTrips", self.all_trips, name="bmw.all-trips")
        r.add_get(V + "/chargingprofile", self.charging_profile, name="bmw.charging-profile")
        r.add_get(V + "/destinations", self.destinations, name="bmw.destinations")
        r.add_get(V + "/rangemap", self.range_map, name="bmw.range-map")
        r.add_post(V + "/executeService", self.execute, name="bmw.executeService")
        r.add_get(V + "/serviceExecutionStatus", self.execution_status, name="bmw.serviceExecutionStatus")
        r.add_post(V + "/sendpoi", self.send_poi, name="bmw.sendpoi")

    async def identify(self, request: web.Request, world: World) -> str | None:
        route = request.match_info.route.name or ""
        if route.startswith("bmw.login"):
            form = await request.post()
            user = form.get("username")
            return user if isinstance(user, str) and world.account(self.name, user) else None
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        issued, _ = world.token(self.name, token)
        return issued.username if issued is not None else None

    def quota_response(self, retry_after: float) -> web.StreamResponse:
        return _error(429, "Too many requests", {"Retry-After": str(math.ceil(retry_after))})

    # -- login -----------------------------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        basic = request.headers.get("Authorization", "").removeprefix("Basic ").strip()
        try:
            key, _, secret = base64.b64decode(basic, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            key = secret = ""
        account = self.world.account(self.name, str(form.get("username", "")))
        if (
            account is None
            or form.get("password") != account.password
            or key != account.extra.get("app_key")
            or secret != account.extra.get("app_secret")
            or form.get("grant_type") != "password"
        ):
            return web.json_response({
                "error": "invalid_client",
                "error_description": "Client authentication failed (e.g., login failure, unknown client, "
                "no client authentication included or unsupported authentication method)",
            }, status=401)
        return web.json_response({
            "access_token": self.world.issue_opaque(self.name, account.username, "access", self.token_lifetime),
            "token_type": "Bearer",
            "expires_in": int(self.token_lifetime),
            "refresh_token": self.world.issue_opaque(self.name, account.username, "refresh"),
            "scope": _granted(str(form.get("scope", ""))),
        })

    def _user(self, request: web.Request) -> str:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        issued, state = self.world.token(self.name, token)
        if issued is None or state != "ok":
            raise Refusal(_error(401, "Unauthorized: the access token is invalid or expired"))
        return issued.username

    def _car(self, request: web.Request) -> Car:
        user = self._user(request)
        car = self.world.car(request.match_info["vin"])
        if car is None or car.brand != self.name or car.owner != user:
            raise Refusal(_error(404, "Vehicle not found"))
        return car

    async def _serve(self, request: web.Request, answer: Any) -> web.StreamResponse:
        try:
            car = self._car(request)
        except Refusal as refusal:
            return refusal.response
        response: web.StreamResponse = answer(car)
        return response

    # -- reading ---------------------------------------------------------------------------------------

    async def vehicles(self, request: web.Request) -> web.StreamResponse:
        try:
            user = self._user(request)
        except Refusal as refusal:
            return refusal.response
        cars = [{**c.capabilities, "vin": c.vin, "model": c.extra.get("model_name", c.model)}
                for c in self.world.cars_of(self.name, user)]
        # The 2018 captures (vehicles.json, fetched by clients of that year without the trailing slash) wrap the
        # list; the older seed shows it bare at /user/vehicles/.
        shape = self.listing or ("bare" if request.path.endswith("/") else "wrapped")
        return web.json_response({"vehicles": cars} if shape == "wrapped" else cars)

    async def status(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda car: web.json_response({"vehicleStatus": _status_body(car)}))

    async def last_trip(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda car: self._extra(car, "lastTrip", "statisticsAvailable"))

    async def all_trips(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda car: self._extra(car, "allTrips", "statisticsAvailable"))

    async def charging_profile(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda car: self._extra(car, "weeklyPlanner", "chargingControl"))

    async def destinations(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, lambda car: self._extra(car, "destinations", "lastDestinations"))

    async def range_map(self, request: web.Request) -> web.StreamResponse:
        def answer(car: Car) -> web.Response:
            if car.capabilities.get("rangeMap") in (None, "NOT_SUPPORTED"):
                return _error(403, "Service rangemap is not supported for this vehicle")
            return web.json_response({"rangemap": _range_map(car)})

        return await self._serve(request, answer)

    def _extra(self, car: Car, key: str, flag: str) -> web.Response:
        if car.capabilities.get(flag) in (None, False, "NOT_SUPPORTED") or key not in car.extra:
            return _error(403, f"Service {key} is not supported for this vehicle")
        return web.json_response({key: car.extra[key]})

    # -- remote services -------------------------------------------------------------------------------

    async def execute(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()

        def act(car: Car) -> web.Response:
            service = str(form.get("serviceType", ""))
            if service not in SERVICES:
                return _error(400, f"Unknown service type {service!r}")
            flag, allowed = SERVICES[service]
            if car.capabilities.get(flag) not in allowed:
                return _error(403, f"Service {service} is not supported for this vehicle")
            account = self.world.account(self.name, car.owner)
            if service == "DOOR_UNLOCK" and (
                account is None or form.get("bmwSkAnswer") != account.extra.get("security_answer")
            ):
                return web.json_response(SECRET_KNOWLEDGE_ERROR, status=500)
            planner = None
            if service == "CHARGING_CONTROL":
                try:
                    planner = _valid_planner(str(form.get("data", "")))
                except ValueError as err:
                    return _error(400, f"Invalid charging profile: {err}")
            return web.json_response({"executionStatus": self._start(car, service, planner)})

        return await self._serve(request, act)

    def _start(self, car: Car, service: str, planner: dict[str, Any] | None) -> dict[str, Any]:
        services = car.extra.setdefault("services", {})
        previous = services.get(service)
        if previous is not None and _state(previous, car.t)[0] not in {"EXECUTED", "NOT_EXECUTED", "TIMED_OUT"}:
            self.overlaps += 1
        script = self.world.scripted(car.vin, service.lower().replace("_", "-"))  # by evclient's command name
        latency, execution, outcome = self._draw(car, script)
        record = {"event": f"{next(self._events):024X}@bmw.de", "t0": car.t, "latency": latency,
                  "delivered": max(0.0, latency - execution), "dispatch": min(self.dispatch, latency - execution),
                  "outcome": outcome}
        services[service] = record
        if outcome == "success" and latency < SERVER_TIMEOUT:
            self.world.at(car.t + latency, car, lambda w, c: _apply(w, c, service, planner, record))
        return _execution(service, record, car.t)

    def car_latency(self, car: Car) -> float:
        """The car's typical latency (s): its coverage, drawn once per VIN unless the car sets it."""
        if "latency_median_s" not in car.extra:
            draw = random.Random(car.vin).gauss(0.0, self.car_spread)
            car.extra["latency_median_s"] = round(self.latency_median * math.exp(draw), 1)
        return float(car.extra["latency_median_s"])

    def _draw(self, car: Car, script: CommandScript | None) -> tuple[float, float, str]:
        """Latency to the car's answer, how much of it the car holds the command (DELIVERED), outcome."""
        if script is not None:
            outcome = {"auto": "success", "never": "timeout"}.get(script.outcome, script.outcome)
            execution = min(5.0, script.latency / 2) if script.execution is None else script.execution
            return script.latency, execution, "fail" if outcome == "fail" else outcome
        latency = self.random.lognormvariate(math.log(self.car_latency(car)), self.command_spread)
        latency = min(self.latency_cap, max(latency, self.dispatch + self.execution[0]))
        execution = min(self.random.uniform(*self.execution), latency - self.dispatch)
        roll = self.random.random()
        success, fail = self.outcomes
        return latency, execution, "success" if roll < success else ("fail" if roll < success + fail else "timeout")

    async def execution_status(self, request: web.Request) -> web.StreamResponse:
        def answer(car: Car) -> web.Response:
            service = request.query.get("serviceType", "")
            record = car.extra.get("services", {}).get(service)
            if service not in SERVICES or record is None:
                return _error(404, f"No execution of {service or 'that service'} found")
            return web.json_response({"executionStatus": _execution(service, record, car.t, polled=True)})

        return await self._serve(request, answer)

    async def send_poi(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()

        def act(car: Car) -> web.Response:
            if car.capabilities.get("sendPoi") != "ACTIVATED":
                return _error(403, "Service sendpoi is not supported for this vehicle")
            try:
                poi = json.loads(str(form.get("data", "")))["poi"]
                lat, lon = float(poi["lat"]), float(poi["lon"])
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError("position out of range")
            except (ValueError, KeyError, TypeError) as err:
                return _error(400, f"Invalid POI: {err}")
            car.extra.setdefault("destinations", []).insert(0, {
                "lat": lat, "lon": lon, "country": poi.get("country"), "city": poi.get("city"),
                "street": poi.get("street"), "type": "DESTINATION", "createdAt": _local(car, car.t)})
            return web.Response(status=204)

        return await self._serve(request, act)

    # -- world hooks -----------------------------------------------------------------------------------

    def setup_car(self, world: World, car: Car) -> None:
        car.extra.setdefault("lock_state", "SECURED" if car.locked else "UNLOCKED")
        car.extra.setdefault("update_reason", "VEHICLE_SHUTDOWN_SECURED" if car.locked else "VEHICLE_SHUTDOWN")
        car.extra.setdefault("doors", {})

    def on_event(self, world: World, car: Car, event: str) -> None:
        if event == "charge_started":
            car.extra["update_reason"] = "CHARGIN_STARTED"  # the server's own spelling
        elif event.startswith("charge_ended"):
            car.extra["update_reason"] = "CHARGING_DONE"
            car.extra["last_charging_end"] = ("CHARGING_GOAL_REACHED", "SUCCESS") if event.endswith("full") \
                else ("END_REQUESTED_BY_DRIVER", "SUCCESS")


# -- bodies and behaviour ----------------------------------------------------------------------------------


SCOPES = ("authenticate_user", "vehicle_data", "remote_services")


def _granted(asked: str) -> str:
    """The scopes granted: those asked for that the server knows (auth/auth_token.json), else the seed's."""
    wanted = [s for s in asked.split() if s in SCOPES]
    return " ".join(wanted) if wanted else "vehicle_data remote_services"


def _state(record: dict[str, Any], now: float) -> tuple[str, float]:
    """The status of a service execution at ``now``, and when it reached it."""
    t0, latency, outcome = record["t0"], record["latency"], record["outcome"]
    elapsed = now - t0
    if outcome == "timeout" or latency >= SERVER_TIMEOUT:
        if elapsed >= SERVER_TIMEOUT:
            return "TIMED_OUT", t0 + SERVER_TIMEOUT
    elif elapsed >= latency:
        return ("EXECUTED" if outcome == "success" else "NOT_EXECUTED"), t0 + latency
    # A car that never answers never fetched the command either.
    if outcome != "timeout" and elapsed >= record["delivered"]:
        return "DELIVERED", t0 + record["delivered"]
    if elapsed >= record["dispatch"]:
        return "PENDING", t0 + record["dispatch"]
    return "INITIATED", t0


def _execution(service: str, record: dict[str, Any], now: float, *, polled: bool = False) -> dict[str, Any]:
    status, _ = _state(record, now)
    if polled and status == "INITIATED":
        # INITIATED is executeService's own answer; a status read finds the command PENDING at the earliest
        # (bimmer_connected's recorded fixtures of that era: initiated for the POST, then pending, pending,
        # delivered, delivered, executed for the reads).
        status = "PENDING"
    body: dict[str, Any] = {"serviceType": service, "status": status, "eventId": record["event"]}
    if status != "INITIATED":
        body["extendedStatus"] = {"result": "STATUS_CHANGED" if status == "EXECUTED" else "STATUS_UNKNOWN"}
    return body


def reached_at(car: Car, service: str) -> tuple[str, float] | None:
    """For tests and benchmarks: the terminal status of the car's latest ``service`` and when it got there."""
    record = car.extra.get("services", {}).get(service)
    if record is None:
        return None
    return _state(record, math.inf)


def _apply(world: World, car: Car, service: str, planner: dict[str, Any] | None, record: dict[str, Any]) -> None:
    car.last_update = car.t
    if service == "DOOR_LOCK":
        car.locked = True
        car.extra["lock_state"] = "LOCKED"
        car.extra["update_reason"] = "VEHICLE_SECURED"
    elif service == "DOOR_UNLOCK":
        car.locked = False
        car.extra["lock_state"] = "UNLOCKED"
        car.extra["update_reason"] = "VEHICLE_UNSECURED"
    elif service == "CLIMATE_NOW":
        world.start_hvac(car, 600.0)
    elif service == "CHARGE_NOW":
        world.start_charging(car)
    elif service == "CHARGING_CONTROL" and planner is not None:
        car.extra["weeklyPlanner"] = planner
    elif service == "VEHICLE_FINDER":
        car.extra["update_reason"] = "ON_DEMAND"


def _status_body(car: Car) -> dict[str, Any]:
    electric_km = round(car.range_km)
    body: dict[str, Any] = {
        "vin": car.vin,
        "mileage": round(car.mileage_km),
        "updateReason": car.extra["update_reason"],
        "updateTime": _local(car, car.last_update),
        "doorLockState": car.extra["lock_state"],
        "parkingLight": "OFF",
        "positionLight": "OFF",
        "remainingRangeElectric": electric_km,
        "remainingRangeElectricMls": round(electric_km / KM_PER_MILE),
        "maxRangeElectric": round(car.full_range_km),
        "maxRangeElectricMls": round(car.full_range_km / KM_PER_MILE),
        "chargingLevelHv": round(car.battery_level),
        "connectionStatus": "CONNECTED" if car.plugged else "DISCONNECTED",
        "chargingStatus": _charging_status(car),
        "lastChargingEndReason": car.extra.get("last_charging_end", ("UNKNOWN", "UNKNOWN"))[0],
        "lastChargingEndResult": car.extra.get("last_charging_end", ("UNKNOWN", "UNKNOWN"))[1],
        "position": {"lat": car.latitude, "lon": car.longitude, "heading": car.extra.get("heading", 0),
                     "status": "OK"},
        "internalDataTimeUTC": dt.datetime.fromtimestamp(car.last_update, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        # The i3 captures (I01_REX, I01_NOREX): service and charging details every status carries.
        "steering": car.extra.get("steering", "LH"),
        "cbsData": car.extra.get("cbs", DEFAULT_CBS),
        "checkControlMessages": car.extra.get("check_control", []),
        "DCS_CCH_Activation": "NA",
        "DCS_CCH_Ongoing": False,
        "singleImmediateCharging": False,
        "chargingConnectionType": "CONDUCTIVE",
        "chargingInductivePositioning": "NOT_POSITIONED",
    }
    for part in ("doorDriverFront", "doorDriverRear", "doorPassengerFront", "doorPassengerRear",
                 "windowDriverFront", "windowDriverRear", "windowPassengerFront", "windowPassengerRear",
                 "trunk", "hood"):
        body[part] = car.extra["doors"].get(part, "CLOSED")
    body["rearWindow"] = "INVALID"
    if "sunroof" in car.extra["doors"]:  # only a car with one (I01_NOREX has it, I01_REX not)
        body["sunroof"] = car.extra["doors"]["sunroof"]
    if "fuel_litres" in car.extra:
        # The range extender (I01_REX): tank, its size and the petrol range; no fuelPercent (that is the PHEV's).
        body.update({
            "remainingFuel": car.extra["fuel_litres"], "maxFuel": car.extra.get("max_fuel_litres", 9.0),
            "remainingRangeFuel": round(car.extra.get("fuel_range_km", 0)),
            "remainingRangeFuelMls": round(car.extra.get("fuel_range_km", 0) / KM_PER_MILE),
        })
    else:
        body["remainingFuel"] = 0  # I01_NOREX: the pure-electric i3 reports an empty tank and nothing more
    if car.charging and car.minutes_to_full is not None:
        body["chargingTimeRemaining"] = car.minutes_to_full
    return body


def _charging_status(car: Car) -> str:
    if not car.plugged:
        return "INVALID"
    if car.charging:
        return "CHARGING"
    return "FINISHED_FULLY_CHARGED" if car.battery_level >= 100 else "NOT_CHARGING"


def _range_map(car: Car) -> dict[str, Any]:
    """A polygon per driving mode around the car, its radius following the remaining range."""
    polygons = []
    for mode, factor in (("ECO_PRO_PLUS", 1.15), ("COMFORT", 1.0)):
        radius_deg = car.range_km * factor / 111.0
        points = [
            {"lat": round(car.latitude + radius_deg * math.sin(a), 6),
             "lon": round(car.longitude + radius_deg * math.cos(a) / max(0.1, math.cos(math.radians(car.latitude))),
                          6)}
            for a in (2 * math.pi * i / 12 for i in range(12))
        ]
        polygons.append({"type": mode, "polyline": points})
    return {"center": {"lat": car.latitude, "lon": car.longitude}, "quality": "AVERAGE", "rangemaps": polygons}


def _valid_planner(data: str) -> dict[str, Any]:
    body = json.loads(data)
    planner = body["weeklyPlanner"]
    if planner.get("chargingMode") not in {"IMMEDIATE_CHARGING", "DELAYED_CHARGING"}:
        raise ValueError("chargingMode must be IMMEDIATE_CHARGING or DELAYED_CHARGING")
    for key in ("timer1", "timer2", "timer3", "overrideTimer"):
        timer = planner[key]
        if "departureTime" in timer:
            dt.time.fromisoformat(timer["departureTime"])
        days = {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}
        if not set(timer.get("weekdays", [])) <= days:
            raise ValueError(f"{key} has an unknown weekday")
    window = planner["preferredChargingWindow"]
    dt.time.fromisoformat(window["startTime"])
    dt.time.fromisoformat(window["endTime"])
    return dict(planner)
