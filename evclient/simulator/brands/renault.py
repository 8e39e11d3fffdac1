"""The simulated MyRenault cloud: Gigya at ``/renault/gigya``, Kamereon at ``/renault/kamereon``.

Gigya takes every call as GET (query) or POST (form), with the api key spelled ``ApiKey``, ``APIKey``
or ``apiKey``, and accepts only the keys of evclient's locale table (any other: error 400093, as the
real service). Errors are HTTP 200 with ``errorCode``. ``tfa@evclient.dev`` / ``demo-password`` needs an
e-mailed code (see ``GET /_sim/outbox``) until a device is remembered. Kamereon checks its api key
(Apigee's 401 otherwise) and the JWT, answers JSON:API bodies from the car's state, and each car
answers as its model does (``_renault_models``: refusals, body fields, action variants, each with its
source; a test's car may add ``unsupported`` refusals). The quota (60 an hour per person) covers
Kamereon; it answers ``err.func.wired.overloaded``.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import Any, ClassVar

import jwt
from aiohttp import web

from ...actions import ClimateStart
from ..world import Car, SimAccount, World
from . import DEMO_PASSWORD, DEMO_USERNAME, Refusal, Rehearsal, SimBrand, json_body, register
from ._renault_models import BATTERY_KCM, ERRORS, SimModel, model

GIGYA = "/renault/gigya"
KAMEREON = "/renault/kamereon"
ACCOUNT = KAMEREON + "/commerce/v1/accounts/{account_id}"
KCA = ACCOUNT + "/kamereon/kca/car-adapter/v{version}/cars/{vin}"
KCM = ACCOUNT + "/kamereon/kcm/v1/vehicles/{vin}"
TFA_USERNAME = "tfa@evclient.dev"
# What the real servers accept, kept here on the server's side (not imported from the client's locale table,
# so a wrong key in the client's table fails the tests instead of passing them). Published by the MyRenault
# app; the peer renault-api carries the same values.
#: Gigya's API keys: Europe (one key for every EU locale but Luxembourg), Luxembourg, Mexico, Australia.
GIGYA_KEYS = frozenset({
    "3_VgdkgtIRH3AdHvJm-cjV2ug2EFE0lxt0IJzMC4MFqZjFpn_GYFXVdNZ19L7wZX0N",
    "3_zt44Wl_wT9mnqn-BHrR19PvXj3wYRPQKLcPbGWawlatFR837KdxSZZStbBTDaqnb",
    "4_yTFqPSsGxVyRXPZUM7t1Iw",
    "4_GC9iGd3sH8sMJpz2x0q0CQ",
})
#: Kamereon's API key (every region).
KAMEREON_KEY = "YjkKtHmGfaceeuExUDKGxrLZGGvtVS0J"
MAX_CODE_TRIES = 3



#: The car-adapter versions each read answers on: battery-status only on v2; cockpit and the car-adapter
#: itself on v1 and v2 (renault-api 0.1.x, Home Assistant's client 2021-2023, read both at v2; later
#: releases read cockpit at v1).
READ_VERSIONS = {"battery-status": ("2",), "cockpit": ("1", "2"), "car-adapter": ("1", "2")}


def _gigya(body: dict[str, Any], cookies: dict[str, str] | None = None) -> web.Response:
    response = web.json_response({"callId": secrets.token_hex(16), "apiVersion": 2, "statusCode": 200,
                                  "statusReason": "OK", "time": _iso(dt.datetime.now(dt.UTC)), **body})
    for name, value in (cookies or {}).items():
        response.set_cookie(name, value)
    return response


def _gigya_error(code: int, message: str, details: str | None = None, **extra: Any) -> web.Response:
    status = 403 if str(code).startswith("403") else 400
    return _gigya({"errorCode": code, "errorMessage": message, "errorDetails": details or message,
                   "statusCode": status, **extra})


def _kamereon_error(status: int, code: str, message: str) -> web.Response:
    kind = "TECHNICAL" if code.startswith("err.tech") else "FUNCTIONAL"
    return web.json_response({"type": kind, "messages": [{"code": code, "message": message}],
                              "errors": [{"errorCode": code, "errorMessage": message}], "error_reference": kind},
                             status=status)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _data(kind: str, vin: str, attributes: dict[str, Any]) -> web.Response:
    return web.json_response({"data": {"type": kind, "id": vin, "attributes": attributes}})


@register
class RenaultSim(SimBrand):
    name = "renault"
    mounts: ClassVar[dict[str, str]] = {"gigya": GIGYA, "kamereon": KAMEREON}
    fixtures = "renault"
    rehearsal = Rehearsal(
        vin="VF1AG000X64000001", poll="battery-status", action=ClimateStart(temperature=21),
        routes={"login": "renault.accounts.login", "token refresh": "renault.accounts.getJWT",
                "listing": "renault.vehicles", "poll": "renault.battery-status",
                "command submit": "renault.action.hvac-start", "command status": "renault.hvac-status"},
    )

    def __init__(self, world: World) -> None:
        super().__init__(world)
        #: Seconds a Gigya JWT lives (the real service: 15 minutes).
        self.jwt_lifetime = 900.0
        self._pending: dict[str, dict[str, Any]] = {}  # regToken → the paused login
        self._assertions: dict[str, str] = {}  # gigyaAssertion → regToken
        self._phv: dict[str, dict[str, Any]] = {}  # phvToken → {code, tries, reg}
        self._providers: dict[str, str] = {}  # providerAssertion → regToken
        self._once: set[str] = set()  # devices that passed a challenge, for the login that follows it

    def default_accounts(self) -> list[SimAccount]:
        def person(username: str, n: int) -> SimAccount:
            return SimAccount(brand=self.name, username=username, password=DEMO_PASSWORD, email=username,
                              two_factor=username == TFA_USERNAME,
                              extra={"person_id": f"person-{n}", "account_id": f"account-{n}", "devices": []})

        return [person(DEMO_USERNAME, 1), person(TFA_USERNAME, 2)]

    async def identify(self, request: web.Request, world: World) -> str | None:
        # The quota covers Kamereon; Gigya calls are counted by evclient's own separate window.
        token = request.headers.get("x-gigya-id_token", "")
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        sub = claims.get("sub")
        return sub if isinstance(sub, str) and world.account(self.name, sub) else None

    def quota_response(self, retry_after: float) -> web.StreamResponse:
        response = _kamereon_error(429, "err.func.wired.overloaded", "You have reached your quota limit")
        response.headers["Retry-After"] = str(math.ceil(retry_after))
        return response

    def add_routes(self, app: web.Application) -> None:
        r = app.router

        def answering(handler: Any) -> Any:
            async def route(request: web.Request) -> web.StreamResponse:
                try:
                    response: web.StreamResponse = await handler(request)
                except Refusal as refusal:  # an error in the service's own shape, raised anywhere in the route
                    return refusal.response
                return response

            return route

        for name in ("accounts.webSdkBootstrap", "accounts.login", "accounts.getAccountInfo", "accounts.getJWT",
                     "accounts.tfa.initTFA", "accounts.tfa.email.getEmails",
                     "accounts.tfa.email.sendVerificationCode", "accounts.tfa.email.completeVerification",
                     "accounts.tfa.finalizeTFA"):
            handler = getattr(self, "gigya_" + name.split(".", 1)[1].replace(".", "_"))
            r.add_route("*", f"{GIGYA}/{name}", answering(handler), name=f"renault.{name}")
        r.add_get(KAMEREON + "/commerce/v1/persons/{person_id}", answering(self.person), name="renault.person")
        r.add_get(ACCOUNT + "/vehicles", answering(self.vehicles), name="renault.vehicles")
        for endpoint in ("battery-status", "cockpit", "hvac-status", "location", "lock-status", "res-state",
                         "pressure", "charge-mode", "charging-settings", "hvac-settings", "notification-settings",
                         "charge-history", "charges", "hvac-history", "hvac-sessions"):
            r.add_get(KCA + "/" + endpoint, answering(self.read), name=f"renault.{endpoint}")
        r.add_get(KCM + "/ev/soc-levels", answering(self.read), name="renault.soc-levels")
        r.add_get(KCM + "/ev/settings", answering(self.read), name="renault.ev-settings")
        r.add_get(KCA + "/charge-schedule", answering(self.read), name="renault.charge-schedule")
        r.add_get(KCA, answering(self.read), name="renault.car-adapter")
        r.add_get(ACCOUNT + "/vehicles/{vin}/details", answering(self.read), name="renault.details")
        r.add_get(ACCOUNT + "/vehicles/{vin}/contracts", answering(self.read), name="renault.contracts")
        r.add_get(ACCOUNT + "/kamereon/vehicles/{vin}/alerts", answering(self.read), name="renault.alerts")
        for path, action in ((KCA + "/actions/charging-start", "charging-start"),
                             (KCA + "/actions/charge-mode", "charge-mode"),
                             (KCA + "/actions/hvac-start", "hvac-start"),
                             (KCA + "/actions/charge-schedule", "charge-schedule"),
                             (KCA + "/actions/hvac-schedule", "hvac-schedule"),
                             (KCA + "/actions/horn-lights", "horn-lights"),
                             (KCA + "/actions/refresh-location", "refresh-location"),
                             (KCM + "/charge/start", "charge-start"),
                             (KCM + "/charge/pause-resume", "pause-resume"),
                             (KCM + "/charge/schedule", "kcm-charge-schedule"),
                             (KCM + "/ev/settings", "ev-settings"),
                             (KCM + "/ev/soc-levels", "soc-levels")):
            r.add_post(path, answering(self.action), name=f"renault.action.{action}")

    # -- Gigya -----------------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, str]:
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        key = params.get("ApiKey") or params.get("APIKey") or params.get("apiKey")
        if key not in GIGYA_KEYS:
            raise Refusal(_gigya_error(400093, "Invalid ApiKey parameter"))
        return params

    async def gigya_webSdkBootstrap(self, request: web.Request) -> web.StreamResponse:
        await self._params(request)
        return _gigya({"errorCode": 0}, {"gmid": "gmid." + secrets.token_urlsafe(18),
                                         "ucid": secrets.token_urlsafe(16), "hasGmid": "ver4"})

    async def gigya_login(self, request: web.Request) -> web.StreamResponse:
        params = await self._params(request)
        account = self.world.account(self.name, params.get("loginID"))
        if account is None or params.get("password") != account.password:
            return _gigya_error(403042, "Invalid LoginID", "invalid loginID or password")
        gmid = request.cookies.get("gmid")
        if account.two_factor and gmid not in account.extra["devices"] and gmid not in self._once:
            reg = secrets.token_urlsafe(24)
            self._pending[reg] = {"username": account.username, "gmid": gmid,
                                  "expires": self.world.clock.wall() + 3600}
            return _gigya_error(403101, "Account Pending TFA Verification", "Pending Two-Factor Authentication",
                                regToken=reg, UID=account.extra["person_id"])
        self._once.discard(gmid or "")
        token = self.world.issue_opaque(self.name, account.username, "login_token")
        return _gigya({"errorCode": 0, "UID": account.extra["person_id"], "sessionInfo": {"cookieValue": token}})

    def _login_user(self, params: dict[str, str]) -> str:
        issued, state = self.world.token(self.name, params.get("login_token", ""), kind="login_token")
        if issued is None or state != "ok":
            raise Refusal(_gigya_error(403005, "Unauthorized user"))
        return issued.username

    async def gigya_getAccountInfo(self, request: web.Request) -> web.StreamResponse:
        user = self._login_user(await self._params(request))
        account = self.world.account(self.name, user)
        assert account is not None
        return _gigya({"errorCode": 0, "data": {"personId": account.extra["person_id"], "gigyaDataCenter": "eu1"},
                       "profile": {"email": account.email}})

    async def gigya_getJWT(self, request: web.Request) -> web.StreamResponse:
        user = self._login_user(await self._params(request))
        account = self.world.account(self.name, user)
        assert account is not None
        token = self.world.issue_jwt(self.name, user, self.jwt_lifetime,
                                     {"data": {"personId": account.extra["person_id"]}})
        return _gigya({"errorCode": 0, "id_token": token})

    def _reg(self, reg: str | None) -> dict[str, Any]:
        pending = self._pending.get(reg or "")
        if pending is None or pending["expires"] <= self.world.clock.wall():
            raise Refusal(_gigya_error(400006, "Invalid parameter value", "Invalid regToken"))
        return pending

    def _assertion(self, params: dict[str, str]) -> tuple[str, dict[str, Any]]:
        reg = self._assertions.get(params.get("gigyaAssertion", ""))
        if reg is None:
            raise Refusal(_gigya_error(400006, "Invalid parameter value", "Invalid jwt"))
        return reg, self._reg(reg)

    async def gigya_tfa_initTFA(self, request: web.Request) -> web.StreamResponse:
        params = await self._params(request)
        self._reg(params.get("regToken"))
        if params.get("provider") != "gigyaEmail" or params.get("mode") != "verify":
            return _gigya_error(400006, "Invalid parameter value", "provider must be gigyaEmail, mode verify")
        assertion = "st2." + secrets.token_urlsafe(32)
        self._assertions[assertion] = params["regToken"]
        return _gigya({"errorCode": 0, "gigyaAssertion": assertion})

    async def gigya_tfa_email_getEmails(self, request: web.Request) -> web.StreamResponse:
        _, pending = self._assertion(await self._params(request))
        user = pending["username"]
        masked = user[0] + "***@" + user.split("@", 1)[1]
        return _gigya({"errorCode": 0, "emails": [{"id": "email-1", "obfuscated": masked, "lastVerification": None}]})

    async def gigya_tfa_email_sendVerificationCode(self, request: web.Request) -> web.StreamResponse:
        params = await self._params(request)
        reg, pending = self._assertion(params)
        if params.get("emailID") != "email-1":
            return _gigya_error(400006, "Invalid parameter value", "unknown emailID")
        code = f"{secrets.randbelow(10**6):06d}"
        phv = secrets.token_urlsafe(24)
        self._phv[phv] = {"code": code, "tries": 0, "reg": reg}
        self.world.send(self.name, pending["username"], "email", "Your MyRenault verification code",
                        f"Your verification code is {code}")
        return _gigya({"errorCode": 0, "phvToken": phv})

    async def gigya_tfa_email_completeVerification(self, request: web.Request) -> web.StreamResponse:
        params = await self._params(request)
        reg, _ = self._assertion(params)
        phv = self._phv.get(params.get("phvToken", ""))
        if phv is None or phv["reg"] != reg:
            return _gigya_error(400006, "Invalid parameter value", "Invalid phvToken")
        if phv["tries"] >= MAX_CODE_TRIES:
            return _gigya_error(400003, "Invalid parameter value", "Maximum allowed tries exceeded")
        if params.get("code") != phv["code"]:
            phv["tries"] += 1
            return _gigya_error(400003, "Invalid parameter value", "Wrong verification code")
        provider = "ey" + secrets.token_urlsafe(32)
        self._providers[provider] = reg
        return _gigya({"errorCode": 0, "providerAssertion": provider})

    async def gigya_tfa_finalizeTFA(self, request: web.Request) -> web.StreamResponse:
        params = await self._params(request)
        reg, pending = self._assertion(params)
        if self._providers.get(params.get("providerAssertion", "")) != reg or params.get("regToken") != reg:
            return _gigya_error(400006, "Invalid parameter value", "Invalid providerAssertion")
        account = self.world.account(self.name, pending["username"])
        assert account is not None
        gmid = request.cookies.get("gmid") or pending["gmid"]
        if gmid and params.get("tempDevice", "false") == "false":
            account.extra["devices"].append(gmid)  # remembered: no code on its next logins
        else:
            pending["once"] = True  # a temporary device may finish this one login without a code
        self._pending.pop(reg, None)
        if gmid:
            self._once.add(gmid)
        return _gigya({"errorCode": 0})

    # -- Kamereon --------------------------------------------------------------------------------------

    def _person(self, request: web.Request) -> SimAccount:
        if request.headers.get("apikey") != KAMEREON_KEY:
            raise Refusal(web.json_response({"fault": {"faultstring": "Invalid ApiKey",
                                                       "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}},
                                            status=401))
        issued, state = self.world.token(self.name, request.headers.get("x-gigya-id_token", ""))
        if issued is None or state != "ok":
            raise Refusal(_kamereon_error(401, "err.func.401", "Invalid or expired JWT"))
        if "country" not in request.query:
            raise Refusal(_kamereon_error(400, "err.func.400", "country is required"))
        account = self.world.account(self.name, issued.username)
        assert account is not None
        return account

    def _car(self, request: web.Request) -> Car:
        account = self._person(request)
        if request.match_info.get("account_id") != account.extra["account_id"]:
            raise Refusal(_kamereon_error(403, "err.func.403", "Access is denied for this resource"))
        vin = request.match_info.get("vin")
        car = self.world.car(vin) if vin else None
        if car is None or car.brand != self.name or car.owner != account.username:
            raise Refusal(_kamereon_error(404, "err.func.wired.notFound", "Resource not found"))
        return car

    async def person(self, request: web.Request) -> web.StreamResponse:
        account = self._person(request)
        if request.match_info["person_id"] != account.extra["person_id"]:
            return _kamereon_error(403, "err.func.403", "Access is denied for this resource")
        return web.json_response({"personId": account.extra["person_id"], "type": "I", "country": "FR", "accounts": [
            {"accountId": account.extra["account_id"], "accountType": "MYRENAULT", "accountStatus": "ACTIVE",
             "country": "FR", "personId": account.extra["person_id"], "relationType": "OWNER"},
            {"accountId": "sfdc-" + account.extra["account_id"], "accountType": "SFDC", "accountStatus": "ACTIVE",
             "country": "FR", "personId": account.extra["person_id"], "relationType": "OWNER"},
            # A person may hold more car accounts (e.g. MYDACIA beside MYRENAULT); they hold no cars here.
            *({"accountId": other_id, "accountType": kind, "accountStatus": "ACTIVE", "country": "FR",
               "personId": account.extra["person_id"], "relationType": "OWNER"}
              for other_id, kind in account.extra.get("other_accounts", {}).items()),
        ]})

    async def vehicles(self, request: web.Request) -> web.StreamResponse:
        account = self._person(request)
        other = set(account.extra.get("other_accounts", {})) | {"sfdc-" + account.extra["account_id"]}
        if request.match_info["account_id"] in other:
            # The person's other accounts (SFDC, MYDACIA) answer too, with no cars on them.
            return web.json_response({"accountId": request.match_info["account_id"], "country": "FR",
                                      "vehicleLinks": []})
        if request.match_info["account_id"] != account.extra["account_id"]:
            raise Refusal(_kamereon_error(403, "err.func.403", "Access is denied for this resource"))
        cars = self.world.cars_of(self.name, account.username)
        return web.json_response({"accountId": account.extra["account_id"], "country": "FR",
                                  "vehicleLinks": [_link(car) for car in cars]})

    async def read(self, request: web.Request) -> web.StreamResponse:
        endpoint = request.match_info.route.name.split(".", 1)[1]  # type: ignore[union-attr]
        car = self._car(request)
        _refuse(car, endpoint)
        version = request.match_info.get("version")
        if version is not None and version not in READ_VERSIONS.get(endpoint, ("1",)):
            return _kamereon_error(404, "err.func.wired.notFound", "Resource not found")
        response: web.StreamResponse = _BODIES[endpoint](car, request)
        return response

    async def action(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.route.name.split(".", 2)[2]  # type: ignore[union-attr]
        car = self._car(request)
        version = request.match_info.get("version")
        wanted = "2" if name in ("charge-schedule", "hvac-schedule") else "1"
        if version is not None and version != wanted:
            return _kamereon_error(404, "err.func.wired.notFound", "Resource not found")
        _refuse(car, "action:" + name)
        body = await json_body(request)
        word = _action_word(body)
        if word is not None:
            _refuse(car, f"action:{name}:{word}")  # a car may take one word of an action and refuse another
        answer, effect = _ACTIONS[name](car, body)
        script = self.world.script(car.vin, name)
        if effect is not None and script.outcome not in ("never", "fail"):
            # The cloud answers at once; the car acts when the message reaches it.
            self.world.at(car.t + script.latency, car, lambda world, c: effect(world, c))
        car.extra.setdefault("actions", []).append({"t": car.t, "action": name, "body": body})
        return web.json_response(answer)


# -- bodies ------------------------------------------------------------------------------------------------


def _model(car: Car) -> SimModel:
    return model(car.model or "") or SimModel(code=car.model or "", label=car.name or "",
                                              source="undocumented: the default car")


def _action_word(body: Any) -> str | None:
    """``data.attributes.action`` of an action's body, when it has one."""
    data = body.get("data") if isinstance(body, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    word = attributes.get("action") if isinstance(attributes, dict) else None
    return word if isinstance(word, str) else None


def _refuse(car: Car, what: str) -> None:
    """Answer as the model does where it lacks ``what`` (a test's car may name its own refusals)."""
    code = car.extra.get("unsupported", {}).get(what) or _model(car).refuses.get(what)
    if code is not None:
        status, message = ERRORS.get(code, (404, "Not Found"))
        raise Refusal(_kamereon_error(status, code, message))


def _link(car: Car) -> dict[str, Any]:
    details = car.extra.get("details", {})
    row = _model(car)
    energy_code, energy_label = row.energy
    vehicle: dict[str, Any] = {
        "vin": car.vin, "brand": {"label": row.brand},
        "model": {"code": car.model, "label": car.name, "group": "971"},
        "energy": {"code": energy_code, "label": energy_label, "group": "019"},
        "registrationNumber": details.get("registration", "EV-123-SIM"),
        "radioCode": "0000", **{k: v for k, v in details.items() if k in {"battery"}}}
    if row.engine_energy_type is not None:
        vehicle["engineEnergyType"] = row.engine_energy_type
    return {"vin": car.vin, "brand": row.brand, "status": "ACTIVE", "linkType": "OWNER",
            "garageBrand": row.brand, "vehicleDetails": vehicle}


def _updated(car: Car) -> str:
    return _iso(dt.datetime.fromtimestamp(car.last_update or car.t, dt.UTC))


def _battery(car: Car, request: web.Request) -> web.Response:
    row = _model(car)
    watts = car.extra.get("reports_watts", row.power_in_watts)
    status = 1.0 if car.charging else (0.2 if car.plugged and car.battery_level >= 100 else 0.0)
    body: dict[str, Any] = {
        "timestamp": _updated(car), "batteryLevel": round(car.battery_level), "batteryAutonomy": round(car.range_km),
        "plugStatus": 1 if car.plugged else 0, "chargingStatus": status,
    }
    if row.battery == BATTERY_KCM:
        # The renault_5 captures: a remaining time even when idle, the V2L state, no energy figures.
        body["chargingRemainingTime"] = car.minutes_to_full if car.charging else 0
        body["V2L_SystemStatusDisplay"] = 0
    else:
        # battery-status.1 (unplugged) has neither temperature nor charging fields; .2 (charging) has all.
        body.update({"batteryCapacity": 0,
                     "batteryAvailableEnergy": round(car.battery_capacity_kwh * car.battery_level / 100)})
        if car.plugged:
            body["batteryTemperature"] = car.extra.get("battery_temperature", 20)
    if car.charging:
        body["chargingRemainingTime"] = car.minutes_to_full
        body["chargingInstantaneousPower"] = car.charge_power_kw * (1000 if watts else 1)
    return _data("Car", car.vin, body)


def _cockpit(car: Car, request: web.Request) -> web.Response:
    body: dict[str, Any] = {"totalMileage": round(car.mileage_km, 2)}
    if "fuel_litres" in car.extra or _model(car).cockpit_fuel:
        # An electric car of these generations reports an empty tank (cockpit.zoe_50, cockpit.renault_5).
        body.update({"fuelQuantity": float(car.extra.get("fuel_litres", 0.0)),
                     "fuelAutonomy": float(car.extra.get("fuel_range_km", 0.0))})
    return _data("Car", car.vin, body)


def _hvac_status(car: Car, request: web.Request) -> web.Response:
    known = {"externalTemperature": car.outside_temperature_c, "internalTemperature": car.extra.get(
                 "cabin_temperature", car.outside_temperature_c),
             "socThreshold": float(car.extra.get("hvac_soc_threshold", 30.0)),
             "hvacStatus": "on" if car.hvac_on else "off", "lastUpdateTime": _updated(car)}
    fields = _model(car).hvac_fields
    body = {k: v for k, v in known.items() if k in fields}
    if "next_hvac_start" in car.extra:
        body["nextHvacStartDate"] = car.extra["next_hvac_start"]
    return _data("Car", car.vin, body)


def _location(car: Car, request: web.Request) -> web.Response:
    stamp = max(car.extra.get("location_update", 0.0), car.last_update or car.t)
    return _data("Car", car.vin, {"gpsLatitude": car.latitude, "gpsLongitude": car.longitude,
                                  "lastUpdateTime": _iso(dt.datetime.fromtimestamp(stamp, dt.UTC))})


def _lock_status(car: Car, request: web.Request) -> web.Response:
    state = "locked" if car.locked else "unlocked"
    doors = {f"doorStatus{d}": "closed" for d in ("RearLeft", "RearRight", "Driver", "Passenger")}
    return _data("Car", car.vin, {"lockStatus": state, **doors, "hatchStatus": "closed",
                                  "lastUpdateTime": _updated(car)})


def _res_state(car: Car, request: web.Request) -> web.Response:
    return _data("ResState", car.vin, {"details": "Stopped, ready for RES", "code": "10"})


def _pressure(car: Car, request: web.Request) -> web.Response:
    tyres = car.extra.get("tyres_mbar", {"fl": 2500, "fr": 2500, "rl": 2400, "rr": 2400})
    body = {f"{w}Pressure": p for w, p in tyres.items()} | {f"{w}Status": 0 for w in tyres}
    return _data("Car", car.vin, body)


def _charge_mode(car: Car, request: web.Request) -> web.Response:
    return _data("Car", car.vin, {"chargeMode": car.extra.get("charge_mode", "always")})


def _settings(key: str) -> Any:
    def body(car: Car, request: web.Request) -> web.Response:
        stored = car.extra.get(key, {"mode": "always", "schedules": []})
        # When the settings last changed (charging-settings.always, hvac-settings): the car's last report.
        return _data("Car", car.vin, {"dateTime": _updated(car), **stored})

    return body


def _soc_levels(car: Car, request: web.Request) -> web.Response:
    levels = car.extra.get("soc_levels", {"socMin": 20, "socTarget": 80})
    return web.json_response({"lastEnergyUpdateTimestamp": _updated(car), **levels})


def _notification_settings(car: Car, request: web.Request) -> web.Response:
    return _data("Car", car.vin, car.extra.get("notification_settings", {}))


def _charges(car: Car, request: web.Request) -> web.Response:
    start, end = request.query.get("start", ""), request.query.get("end", "")
    if not (start.isdigit() and end.isdigit() and len(start) == len(end) == 8):
        return _kamereon_error(400, "err.func.400", '{"errors":[{"status":"400","code":"Pattern",'
                                                    '"detail":"start and end are YYYYMMDD"}]}')
    sessions = [c for c in car.extra.get("charges", [])
                if start <= c["chargeStartDate"][:10].replace("-", "") <= end]
    return _data("Car", car.vin, {"charges": sessions})


def _charge_history(car: Car, request: web.Request) -> web.Response:
    kind = request.query.get("type")
    start, end = request.query.get("start", ""), request.query.get("end", "")
    width = {"day": 8, "month": 6}.get(kind or "")
    if width is None or not (len(start) == len(end) == width and start.isdigit() and end.isdigit()):
        return _kamereon_error(400, "err.func.400", '{"errors":[{"status":"400","code":"Pattern",'
                                                    '"detail":"type is day or month with matching start and end"}]}')
    summaries: dict[str, dict[str, Any]] = {}
    for c in car.extra.get("charges", []):
        period = c["chargeStartDate"][:10].replace("-", "")[:width]
        if start <= period <= end:
            entry = summaries.setdefault(period, {str(kind): period, "totalChargesNumber": 0, "totalChargesDuration": 0,
                                                  "totalChargesErrors": 0})
            entry["totalChargesNumber"] += 1
            entry["totalChargesDuration"] += c.get("chargeDuration", 0)
            entry["totalChargesErrors"] += c.get("chargeEndStatus") != "ok"
    return _data("Car", car.vin, {"chargeSummaries": list(summaries.values())})


def _hvac_records(key: str) -> Any:
    def body(car: Car, request: web.Request) -> web.Response:
        return _data("Car", car.vin, {key: car.extra.get(key, [])})

    return body


_BODIES: dict[str, Any] = {
    "battery-status": _battery, "cockpit": _cockpit, "hvac-status": _hvac_status, "location": _location,
    "lock-status": _lock_status, "res-state": _res_state, "pressure": _pressure, "charge-mode": _charge_mode,
    "charging-settings": _settings("charging_settings"), "hvac-settings": _settings("hvac_settings"),
    "soc-levels": _soc_levels, "notification-settings": _notification_settings, "charges": _charges,
    "charge-history": _charge_history, "hvac-history": _hvac_records("hvacSessionsSummaries"),
    "hvac-sessions": _hvac_records("hvacSessions"),
}


def _ev_settings_state(car: Car) -> dict[str, Any]:
    stored: dict[str, Any] = car.extra.get("ev_settings", {
        "lastSettingsUpdateTimestamp": _updated(car), "delegatedActivated": False, "chargeModeRq": "ALWAYS",
        "chargeTimeStart": "00:00", "chargeDuration": 0, "preconditioningTemperature": 21.0, "programs": []})
    return stored


def _ev_settings(car: Car, request: web.Request) -> web.Response:
    return web.json_response(_ev_settings_state(car))


def _charge_calendar(car: Car, request: web.Request) -> web.Response:
    return _data("Car", car.vin, {"calendar": car.extra.get("charge_calendar", {})})


def _details(car: Car, request: web.Request) -> web.Response:
    return web.json_response(_link(car)["vehicleDetails"])


def _car_adapter(car: Car, request: web.Request) -> web.Response:
    return _data("Car", car.vin, {"vin": car.vin, "modelCode": car.model, "modelName": car.name, "brand": "RENAULT",
                                  "energy": "electric", "carGateway": car.extra.get("gateway", "GDC"),
                                  "packNominalCapacity": car.battery_capacity_kwh, "privacyMode": "OFF"})


def _contracts(car: Car, request: web.Request) -> web.Response:
    return web.json_response(car.extra.get("contracts", [
        {"type": "WARRANTY", "contractId": "W-" + car.vin[-6:], "code": "40", "status": "ACTIVE",
         "description": "CONTRAT LOSANGE", "startDate": "2024-01-15", "endDate": "2029-01-14"}]))


def _alerts(car: Car, request: web.Request) -> web.Response:
    return web.json_response(car.extra.get("alerts", []))


_BODIES.update({"ev-settings": _ev_settings, "charge-schedule": _charge_calendar, "details": _details,
                "car-adapter": _car_adapter, "contracts": _contracts, "alerts": _alerts})


# -- actions -------------------------------------------------------------------------------------------------
# Each takes the car and the posted body and returns the server's answer and what the car does once the
# message reaches it (None: nothing). A body the real service would refuse raises a Refusal.

Effect = Any


def _bad_body(detail: str) -> Refusal:
    return Refusal(_kamereon_error(400, "err.func.wired.invalid-body-format", detail))


def _attributes(body: Any, kind: str) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != kind:
        raise _bad_body(f"expected a JSON:API body of type {kind}")
    attributes = data.get("attributes", {})
    if not isinstance(attributes, dict):
        raise _bad_body("attributes must be an object")
    return attributes


def _echo(kind: str, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind, "id": secrets.token_hex(8)}
    if attributes is not None:
        data["attributes"] = attributes
    return {"data": data}


def _start_stop(kind: str, start: str, stop: str) -> Any:
    def act(car: Car, body: Any) -> tuple[dict[str, Any], Effect]:
        attributes = _attributes(body, kind)
        action = attributes.get("action")
        if action == start:
            when = attributes.get("startDateTime")
            if when is not None:
                at = _parse_utc(when)
                return _echo(kind, attributes), _later(at, lambda world, c: world.start_charging(c))
            return _echo(kind, attributes), lambda world, c: world.start_charging(c)
        if action == stop:
            return _echo(kind, attributes), lambda world, c: world.stop_charging(c, reason="stopped")
        raise _bad_body(f"action must be {start} or {stop}")

    return act


def _parse_utc(value: Any) -> float:
    try:
        when = dt.datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise Refusal(_kamereon_error(400, "err.func.400", "startDateTime must be YYYY-MM-DDTHH:MM:SSZ")) from None
    return when.timestamp()


def _later(at: float, effect: Effect) -> Effect:
    """An effect that runs at the wall time ``at`` rather than when the message arrives."""

    def plan(world: World, car: Car) -> None:
        world.at(max(at, car.t), car, effect)

    return plan


def _charge_mode_action(car: Car, body: Any) -> tuple[dict[str, Any], Effect]:
    attributes = _attributes(body, "ChargeMode")
    mode = attributes.get("action")
    if mode not in ("always_charging", "schedule_mode"):
        raise _bad_body("action must be always_charging or schedule_mode")
    return _echo("ChargeMode", attributes), lambda world, c: c.extra.__setitem__("charge_mode", mode)


def _hvac_action(car: Car, body: Any) -> tuple[dict[str, Any], Effect]:
    attributes = _attributes(body, "HvacStart")
    action = attributes.get("action")
    if action == "start":
        temperature = attributes.get("targetTemperature")
        if not isinstance(temperature, int | float) or not 5 <= temperature <= 40:
            raise Refusal(_kamereon_error(400, "err.func.400", "targetTemperature is out of range"))
        when = attributes.get("startDateTime")
        if when is not None:
            at = _parse_utc(when)
            car.extra["next_hvac_start"] = _iso(dt.datetime.fromtimestamp(at, dt.UTC))

            def start_then(world: World, c: Car) -> None:
                c.extra.pop("next_hvac_start", None)
                world.start_hvac(c)

            return _echo("HvacStart", attributes), _later(at, start_then)
        return _echo("HvacStart", attributes), lambda world, c: world.start_hvac(c)
    if action in ("cancel", "stop"):
        if action != car.extra.get("hvac_stop_word", _model(car).hvac_stop_word):
            # Taken, and nothing happens: this model only heeds the other word.
            return _echo("HvacStart", attributes), None

        def stop(world: World, c: Car) -> None:
            c.extra.pop("next_hvac_start", None)
            if c.hvac_on:
                c.hvac_on, c.hvac_until, c.last_update = False, None, c.t
                world.emit(c, "hvac_stopped")

        return _echo("HvacStart", attributes), stop
    raise _bad_body("action must be start, cancel or stop")


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _schedules_action(kind: str, key: str, slot_keys: set[str]) -> Any:
    def act(car: Car, body: Any) -> tuple[dict[str, Any], Effect]:
        attributes = _attributes(body, kind)
        posted = attributes.get("schedules")
        if not isinstance(posted, list) or not posted:
            raise _bad_body("schedules must be a list")
        ids = set()
        for item in posted:
            if not isinstance(item, dict) or item.get("id") not in range(1, 6) or item["id"] in ids:
                raise _bad_body("each schedule needs a distinct id 1 to 5")
            ids.add(item["id"])
            for day in _DAYS:
                slot = item.get(day)
                if slot is not None and (not isinstance(slot, dict) or set(slot) != slot_keys):
                    raise _bad_body(f"{day} takes {', '.join(sorted(slot_keys))}")
        # Days sent as null have no slot: the server lists only the days that have one.
        stored = [{k: v for k, v in item.items() if v is not None} for item in posted]

        def store(world: World, c: Car) -> None:
            c.extra.setdefault(key, {"mode": "always", "schedules": []})["schedules"] = stored

        return _echo(kind, attributes), store

    return act


def _horn_lights_action(car: Car, body: Any) -> tuple[dict[str, Any], Effect]:
    attributes = _attributes(body, "HornLights")
    target = attributes.get("target")
    if attributes.get("action") != "start" or target not in ("horn", "lights"):
        raise _bad_body("action is start and target is horn or lights")
    return _echo("HornLights", attributes), lambda world, c: c.extra.setdefault("signals", []).append(target)


def _refresh_location_action(car: Car, body: Any) -> tuple[dict[str, Any], Effect]:
    _attributes(body, "RefreshLocation")

    def report(world: World, c: Car) -> None:
        c.extra["location_update"] = c.t

    return _echo("RefreshLocation"), report


def _ev_settings_action(car: Car, body: Any) -> tuple[dict[str, Any], Effect]:
    if not isinstance(body, dict) or not isinstance(body.get("programs", []), list):
        raise _bad_body("ev settings are an object with a list of programs")
    settings = {**_ev_settings_state(car), **body}
    active = any(p.get("programActivationStatus") for p in settings.get("programs", []) if isinstance(p, dict))
    settings["chargeModeRq"] = "SCHEDULED" if active else "ALWAYS"

    def store(world: World, c: Car) -> None:
        stamp = _iso(dt.datetime.fromtimestamp(c.t, dt.UTC))
        c.extra["ev_settings"] = {**settings, "lastSettingsUpdateTimestamp": stamp}
        if not active:
            world.start_charging(c)  # nothing holds the car back any more: it charges now

    return {"chargeModeRq": settings["chargeModeRq"], "programs": settings.get("programs", [])}, store


def _soc_levels_action(car: Car, body: Any) -> tuple[dict[str, Any], Effect]:
    low, high = (body.get("socMin"), body.get("socTarget")) if isinstance(body, dict) else (None, None)
    if not (isinstance(low, int) and isinstance(high, int) and 15 <= low <= 45 and 55 <= high <= 100
            and low % 5 == 0 and high % 5 == 0):
        raise Refusal(_kamereon_error(400, "err.func.400", "socMin is 15-45 and socTarget 55-100, in steps of 5"))

    def store(world: World, c: Car) -> None:
        c.extra["soc_levels"] = {"socMin": low, "socTarget": high}

    return {"commandId": secrets.token_hex(8), "type": "SOC_SYNCH", "status": "CREATED"}, store


_ACTIONS: dict[str, Any] = {
    "charging-start": _start_stop("ChargingStart", "start", "stop"),
    "charge-start": _start_stop("ChargingStart", "start", "stop"),
    "pause-resume": _start_stop("ChargePauseResume", "resume", "pause"),
    "charge-mode": _charge_mode_action,
    "hvac-start": _hvac_action,
    "charge-schedule": _schedules_action("ChargeSchedule", "charging_settings", {"startTime", "duration"}),
    "kcm-charge-schedule": _schedules_action("ChargeSchedule", "charging_settings", {"startTime", "duration"}),
    "hvac-schedule": _schedules_action("HvacSchedule", "hvac_settings", {"readyAtTime"}),
    "horn-lights": _horn_lights_action,
    "refresh-location": _refresh_location_action,
    "ev-settings": _ev_settings_action,
    "soc-levels": _soc_levels_action,
}
