"""BMW CarData, simulated (REFERENCE §3b): the device code login, the REST API with its 50-a-day quota answered
as the real server does (HTTP 403, ``CU-429``), containers with their limit, telematic values from the world's
cars, and a real MQTT broker (``amqtt``, the ``simulator`` extra) reached as MQTT over WebSocket on the
simulator's own port. The broker checks the GCID and id token, allows one connection per GCID (the older one
is dropped), closes a connection when its id token expires, refuses subscriptions outside ``{gcid}/+`` or
without a configured stream, and publishes only the keys that changed as the cars change.

Choices where BMW documents nothing: the device code's user code is 8 letters, ``interval`` 5 s, ``expires_in``
300 s; a poll sooner than the interval answers ``slow_down`` and adds 5 s; a device code answered once is used
up (``invalid_grant``); the image is a small PNG; charging history has 10 sessions a page.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import logging
import math
import secrets
import ssl
import struct
import time
import uuid
import zlib
from typing import Any, ClassVar

from aiohttp import web

from ..world import Car, SimAccount, World
from . import DEMO_USERNAME, Rehearsal, SimBrand, json_body, register

_LOG = logging.getLogger(__name__)

PREFIX = "/bmw-cardata"
AUTH = PREFIX + "/auth"
API = PREFIX + "/api"
STREAM = PREFIX + "/stream"
DEMO_CLIENT_ID = "5d1ab1c2-7c0e-4b0a-9e4f-0123456789ab"
DEMO_GCID = "a1b2c3d4-0000-4000-8000-00000000cafe"
#: The body type as the live basicData names it (in words; the fixtures keep BMW's short codes).
BODY_WORDS = {"SAV": "Sports Activity Vehicle", "SAC": "Sports Activity Coupé", "HATCH": "Hatchback",
              "SEDAN": "Sedan", "TOURING": "Touring", "COUPE": "Coupé"}
ACCESS_LIFETIME = 3600.0
REFRESH_LIFETIME = 14 * 86400.0
DEVICE_LIFETIME = 300.0
DEVICE_INTERVAL = 5.0
MAX_CONTAINERS = 10
HISTORY_PAGE = 10
MAX_HISTORY_DAYS = 45
#: How often the broker looks at the cars for changes to publish (simulated seconds).
PUBLISH_EVERY = 30.0
#: BMW's per-IP limit on stream connection attempts in a minute: BMW publishes no number; this is a guess
#: (docs/simulator.md), generous for one host's apps and far below a reconnection loop.
CONNECT_ATTEMPTS_PER_MINUTE = 10

#: Telematic keys → BMW catalogue units.
UNITS = {
    "vehicle.drivetrain.batteryManagement.header": "percent",
    "vehicle.drivetrain.electricEngine.kombiRemainingElectricRange": "km",
    "vehicle.powertrain.electric.battery.charging.power": "W",
    "vehicle.drivetrain.electricEngine.charging.timeToFullyCharged": "min",
    "vehicle.vehicle.travelledDistance": "km",
    "vehicle.powertrain.electric.battery.stateOfCharge.target": "%",
    "vehicle.powertrain.electric.battery.stateOfCharge.targetMin": "percent",
    "vehicle.drivetrain.electricEngine.charging.level": "percent",
    "vehicle.cabin.infotainment.navigation.currentLocation.latitude": "degrees",
    "vehicle.cabin.infotainment.navigation.currentLocation.longitude": "degrees",
    "vehicle.cabin.infotainment.navigation.currentLocation.heading": "degrees",
    **{f"vehicle.chassis.axle.row{r}.wheel.{s}.tire.pressure": "kPa" for r in (1, 2) for s in ("left", "right")},
}
DOORS = ("row1.driver", "row1.passenger", "row2.driver", "row2.passenger")

#: The 49 keys that never stream (BMW's own flag, REFERENCE §3c, from BavarianData's telematics-fields.md): the
#: REST container is their only route. The catalogue copy in the reference fixtures marks every key streamable,
#: so it is not the source. The simulator keeps its own copy (it must not read the client's tables).
NEVER_STREAM = frozenset({
    "vehicle.drivetrain.electricEngine.hvsMaxEnergyAbsolute", "vehicle.extras.optionalEquipment.code",
    "vehicle.look.image", "vehicle.sim.status", "vehicle.vehicleIdentification.basicVehicleData",
    "vehicle.cabin.door.lock.status", "vehicle.cabin.hvac.preconditioning.configuration.isRemoteEngineStartDisclaimer",
    "vehicle.cabin.infotainment.navigation.destinationSet.latitude",
    "vehicle.cabin.infotainment.navigation.destinationSet.longitude",
    "vehicle.channel.ista.obfcm.lastTransmissionStatus", "vehicle.channel.teleservice.lastBreakdownCallTime",
    "vehicle.channel.teleservice.lastManualCallTime", "vehicle.chassis.axle.wheel.tire.diagnosis",
    "vehicle.electricalSystem.battery.serviceDemand.recharge", "vehicle.electricalSystem.battery.serviceDemand.replace",
    "vehicle.electricalSystem.battery.stateOfChargePlausibility", "vehicle.serviceDemand.defect.id",
    "vehicle.sevice.preferredSevicePartner",
    *(f"vehicle.drivetrain.fuelSystem.consumptionOverLifeTime.{k}" for k in (
        "inChargeDepleting.fuel", "inChargeDepleting.referenceDistanceEngineOff",
        "inChargeDepleting.referenceDistanceEngineOn", "inChargeIncreasing.fuel",
        "inChargeIncreasing.referenceDistance", "overall.fuel", "overall.referenceDistance")),
    "vehicle.privacySettings.dataCollection.regulations.obfcm", "vehicle.status.checkControlMessages",
    "vehicle.status.conditionBasedServices", "vehicle.status.conditionBasedServicesAverageDistancePerDay",
    "vehicle.body.chargingPort.combinedStatus", "vehicle.body.chargingPort.isoSessionId",
    "vehicle.body.chargingPort.lockedStatus",
    *(f"vehicle.drivetrain.electricEngine.charging.consumptionOverLifeTime.{k}" for k in (
        "engineOff.gridEnergy", "engineOff.referenceDistance", "engineOn.gridEnergy", "engineOn.referenceDistance",
        "overall.referenceDistance")),
    "vehicle.drivetrain.electricEngine.charging.level",
    "vehicle.powertrain.electric.battery.biDirectionalCharging.availability",
    *(f"vehicle.powertrain.electric.battery.charging.{k}" for k in (
        "authenticationStatus", "batteryCarePersisted.isActive", "batteryCarePersisted.isPreservingChargingMode",
        "batteryCarePersisted.isReducedTargetSoe", "cableCheckVoltage", "dcChargingModeActive",
        "history.sessionsList", "settingsList")),
    "vehicle.powertrain.electric.battery.stateOfHealth.displayed",
    "vehicle.vehicleIdentification.connectedDriveContractList",
})


def telematics_of(car: Car) -> dict[str, Any]:
    """The car's state as CarData's keys with typed values (the stream's form; REST sends them as strings)."""
    extra = car.extra
    openings = extra.get("open", [])
    values: dict[str, Any] = {
        "vehicle.drivetrain.batteryManagement.header": round(car.battery_level, 1),
        "vehicle.drivetrain.electricEngine.kombiRemainingElectricRange": car.range_km,
        "vehicle.drivetrain.electricEngine.charging.hvStatus": "CHARGING" if car.charging else (
            "FINISHED_FULLY_CHARGED" if car.plugged and car.battery_level >= 99.9 else "NOT_CHARGING"),
        "vehicle.drivetrain.electricEngine.charging.status": "CHARGINGACTIVE" if car.charging else "NOCHARGING",
        "vehicle.body.chargingPort.status": "CONNECTED" if car.plugged else "DISCONNECTED",
        "vehicle.powertrain.electric.battery.charging.power": int(car.charge_power_kw * 1000) if car.charging else 0,
        "vehicle.drivetrain.electricEngine.charging.timeToFullyCharged": car.minutes_to_full or 0,
        "vehicle.vehicle.travelledDistance": round(car.mileage_km),
        # Set in the car (10 % steps for the target); CarData has no command to change them.
        "vehicle.powertrain.electric.battery.stateOfCharge.target": extra.get("charge_target", 80),
        "vehicle.powertrain.electric.battery.stateOfCharge.targetMin": extra.get("charge_min", 20),
        "vehicle.cabin.infotainment.navigation.currentLocation.latitude": car.latitude,
        "vehicle.cabin.infotainment.navigation.currentLocation.longitude": car.longitude,
        "vehicle.cabin.infotainment.navigation.currentLocation.heading": extra.get("heading", 0),
        "vehicle.cabin.door.status": "ASN_secured" if car.locked else "ASN_unlocked",
        # Never streamed (NEVER_STREAM): the REST container is their only route.
        "vehicle.cabin.door.lock.status": "SECURED" if car.locked else "UNLOCKED",
        "vehicle.body.chargingPort.combinedStatus": "CONNECTED_CHARGING" if car.charging else (
            "CONNECTED" if car.plugged else "DISCONNECTED"),
        "vehicle.drivetrain.electricEngine.charging.level": round(car.battery_level),
        "vehicle.status.checkControlMessages": extra.get("check_control", "[]"),
        "vehicle.status.conditionBasedServices": extra.get("services", "[]"),
        "vehicle.cabin.hvac.preconditioning.status.comfortState": "COMFORT_HEATING" if car.hvac_on else "NOT_ACTIVE",
        "vehicle.body.trunk.isOpen": "trunk" in openings,
        "vehicle.body.hood.isOpen": "hood" in openings,
    }
    for door in DOORS:
        values[f"vehicle.cabin.door.{door}.isOpen"] = f"door.{door}" in openings
        values[f"vehicle.cabin.window.{door}.status"] = "OPEN" if f"window.{door}" in openings else "CLOSED"
    pressures = extra.get("tyres_kpa", {})
    for row, side in itertools.product((1, 2), ("left", "right")):
        values[f"vehicle.chassis.axle.row{row}.wheel.{side}.tire.pressure"] = pressures.get(f"row{row}.{side}", 250)
    return values


WHEELS = {"frontLeft": "Front left tyre", "frontRight": "Front right tyre", "rearLeft": "Rear left tyre",
          "rearRight": "Rear right tyre"}


def _tyre_set(label: str, *, known: bool) -> dict[str, Any]:
    """One tyre set as the live API sends it; ``known``: with the mounted set's values."""
    tyres: dict[str, Any] = {"aggregatedQualityStatus": {"label": "Data source"}, "label": label}
    for wheel, name in WHEELS.items():
        dimension: dict[str, Any] = {"aspectRatio": 0, "label": "Dimension", "loadIndex": 0, "rimDiameter": 0,
                                     "sectionWidth": 0}
        tyre: dict[str, Any] = {
            "dimension": dimension, "label": name, "mountingDate": {"label": "Mounting date"},
            "optimizedForOem": {"label": "Optimised for OEM"}, "partNumber": {"label": "Part number"},
            "qualityStatus": {"label": "Data source"}, "runFlat": {"label": "Run-flat tyres", "runFlat": False},
            "season": {"label": "Season"}, "tread": {"label": "Tyre tread"},
            "tyreDefect": {"label": "Tyre pressure status"}, "tyreProductionDate": {"label": "Production date"},
            "tyreWear": {"dueMileage": 0, "label": "Service due in"}}
        if known:
            dimension.update(value="245/50 R19", sectionWidth=245, aspectRatio=50, rimDiameter=19, loadIndex=105)
            tyre["season"].update(value="SUMMER", season="SUMMER")
            tyre["tread"].update(manufacturer="Pirelli", treadDesign="P Zero", value="Pirelli P Zero")
        tyres[wheel] = tyre
    return tyres


def _rest_text(value: Any) -> str | None:
    """REST's form of a value: every value a string (booleans in lower case)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: The keys a benchmark burst changes, most telling first (see :meth:`BmwCarDataSim.sim_publish`).
BENCH_KEYS = ("vehicle.drivetrain.batteryManagement.header",
              "vehicle.drivetrain.electricEngine.kombiRemainingElectricRange",
              "vehicle.powertrain.electric.battery.charging.power",
              "vehicle.cabin.infotainment.navigation.currentLocation.latitude",
              "vehicle.cabin.infotainment.navigation.currentLocation.longitude",
              "vehicle.drivetrain.electricEngine.charging.hvStatus",
              "vehicle.cabin.infotainment.navigation.currentLocation.heading",
              "vehicle.vehicle.travelledDistance")


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"exveErrorId": code, "exveErrorMsg": message, "exveErrorRef": str(uuid.uuid4()),
                              "exveNote": "simulated"}, status=status)


def _oauth(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


def _png() -> bytes:
    """A 1×1 PNG: what the image route answers."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + \
        chunk(b"IEND", b"")


@dataclasses.dataclass
class DeviceLogin:
    client_id: str
    challenge: str
    user_code: str
    expires: float
    interval: float
    last_poll: float | None = None
    decision: str | None = None  # None: pending; "approve" / "deny"
    used: bool = False


@register
class BmwCarDataSim(SimBrand):
    name = "bmw-cardata"
    mounts: ClassVar[dict[str, str]] = {"auth": AUTH, "api": API, "stream": "ws:" + STREAM}
    quota = (50, 86400.0)
    fixtures = "bmw_cardata"
    rehearsal = Rehearsal(
        vin="WBY31AW0X0FP00001", poll="telematics", account=DEMO_CLIENT_ID,
        routes={"login": "bmw-cardata.token", "token refresh": "bmw-cardata.token",
                "listing": "bmw-cardata.mappings", "poll": "bmw-cardata.telematics", "command submit": None,
                "command status": None},
    )

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.devices: dict[str, DeviceLogin] = {}
        self.containers: dict[str, list[dict[str, Any]]] = {}
        #: Stream connections: gcid → (MQTT client id, when its id token expires).
        self.connections: dict[str, str] = {}
        self.kicks = 0
        #: Seconds the access and id tokens live (BMW's hour; shorter to see many refreshes in a short test).
        self.access_lifetime = ACCESS_LIFETIME
        self.expiry_closes = 0
        self.published = 0
        #: The last messages published (for tests and the controls).
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=200)
        self._key = secrets.token_hex(8)
        self._broker: Any = None
        self._publisher: asyncio.Task[None] | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._live: set[Any] = set()  # the writers of connections still open
        self._closed = False
        self.stream_down = False
        self._predecessor: dict[str, str] = {}  # a refresh token → the one it replaced
        self._last: dict[str, dict[str, Any]] = {}
        self._changed_at: dict[tuple[str, str], float] = {}
        self._tls_server: asyncio.Server | None = None
        #: Connection attempts on the TLS listener by peer IP (loop times), for BMW's per-IP limit.
        self._attempts: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        #: Attempts the per-IP limit turned away.
        self.ip_refusals = 0

    # -- the world -------------------------------------------------------------------------------------

    @classmethod
    def demo_credentials(cls) -> dict[str, Any]:
        return {"client_id": DEMO_CLIENT_ID}

    def default_accounts(self) -> list[SimAccount]:
        return [SimAccount(brand=self.name, username=DEMO_CLIENT_ID, password="", email=DEMO_USERNAME,
                           extra={"gcid": DEMO_GCID, "approve_after": 3.0, "stream": True})]

    def load_car(self, data: dict[str, Any]) -> Car:
        car = super().load_car({**data, "owner": data.get("owner", DEMO_CLIENT_ID)})
        return car

    def approve(self, user_code: str, decision: str = "approve") -> None:
        """The owner's answer on BMW's page (tests and ``/_sim/``)."""
        for device in self.devices.values():
            if device.user_code == user_code:
                device.decision = decision
                return
        raise KeyError(user_code)

    def account_by_gcid(self, gcid: str) -> SimAccount | None:
        for (brand, _), account in self.world.accounts.items():
            if brand == self.name and account.extra.get("gcid") == gcid:
                return account
        return None

    # -- routes ----------------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        n = self.name
        r.add_post(AUTH + "/gcdm/oauth/device/code", self.device_code, name=f"{n}.device-code")
        r.add_post(AUTH + "/gcdm/oauth/token", self.token, name=f"{n}.token")
        r.add_get(API + "/customers/vehicles/mappings", self.mappings, name=f"{n}.mappings")
        r.add_get(API + "/customers/containers", self.list_containers, name=f"{n}.containers")
        r.add_post(API + "/customers/containers", self.create_container, name=f"{n}.create-container")
        r.add_get(API + "/customers/containers/{id}", self.get_container, name=f"{n}.container")
        r.add_delete(API + "/customers/containers/{id}", self.delete_container, name=f"{n}.delete-container")
        r.add_get(API + "/customers/vehicles/{vin}/telematicData", self.telematic_data, name=f"{n}.telematics")
        r.add_get(API + "/customers/vehicles/{vin}/basicData", self.basic_data, name=f"{n}.basic-data")
        r.add_get(API + "/customers/vehicles/{vin}/chargingHistory", self.charging_history,
                  name=f"{n}.charging-history")
        r.add_get(API + "/customers/vehicles/{vin}/smartMaintenanceTyreDiagnosis", self.tyres,
                  name=f"{n}.tyre-diagnosis")
        r.add_get(API + "/customers/vehicles/{vin}/locationBasedChargingSettings", self.charging_settings,
                  name=f"{n}.charging-settings")
        r.add_get(API + "/customers/vehicles/{vin}/image", self.image, name=f"{n}.image")
        r.add_get(STREAM, self.stream, name=f"{n}.stream")
        app.router.add_post(f"/_sim/{n}/approve", self.sim_approve, name=f"sim.{n}-approve")
        app.router.add_post(f"/_sim/{n}/publish", self.sim_publish, name=f"sim.{n}-publish")

    async def identify(self, request: web.Request, world: World) -> str | None:
        # Only the REST API counts against the 50 a day; the login and the stream are on their own terms.
        if not request.path.startswith(API):
            return None
        issued, _ = world.token(self.name, _bearer(request))
        return issued.username if issued is not None else None

    def quota_response(self, retry_after: float) -> web.StreamResponse:
        # [O] The daily limit arrives as HTTP 403 with CU-429, and names no time.
        return _error(403, "CU-429", "API rate limit reached")

    # -- login -------------------------------------------------------------------------------------------

    async def device_code(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        client_id = str(form.get("client_id", ""))
        if self.world.account(self.name, client_id) is None:
            return _oauth(401, "invalid_client", "Unknown client")
        if form.get("response_type") != "device_code" or form.get("code_challenge_method") != "S256" \
                or not form.get("code_challenge") or "cardata:api:read" not in str(form.get("scope", "")):
            return _oauth(400, "invalid_request", "Missing or invalid parameter")
        device_code = secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz") for _ in range(8))
        # The device flow is paced by the event loop's clock, as its clients poll by theirs: real seconds when
        # run alone, virtual ones under a virtual-time loop — never the world's clock, whose speed (0 holds it
        # still, 60 races it) has nothing to do with how fast an owner approves or a client polls.
        now = asyncio.get_running_loop().time()
        self.devices[device_code] = DeviceLogin(client_id, str(form["code_challenge"]), user_code,
                                                now + DEVICE_LIFETIME, DEVICE_INTERVAL)
        account = self.world.account(self.name, client_id)
        delay = account.extra.get("approve_after") if account is not None else None
        if isinstance(delay, int | float):
            asyncio.get_running_loop().call_later(delay, self._auto_approve, device_code)
        base = f"{request.scheme}://{request.host}"
        return web.json_response({"user_code": user_code, "device_code": device_code, "interval": int(DEVICE_INTERVAL),
                                  "verification_uri": f"{base}/oneid/link",
                                  "verification_uri_complete": f"{base}/oneid/link?user_code={user_code}",
                                  "expires_in": int(DEVICE_LIFETIME)})

    def _auto_approve(self, device_code: str) -> None:
        device = self.devices.get(device_code)
        if device is not None and device.decision is None:
            device.decision = "approve"

    async def token(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        grant = form.get("grant_type")
        if grant == "refresh_token":
            return self._refresh(str(form.get("refresh_token", "")), str(form.get("client_id", "")))
        if grant != "urn:ietf:params:oauth:grant-type:device_code":
            return _oauth(400, "invalid_request", "Unsupported grant type")
        device = self.devices.get(str(form.get("device_code", "")))
        now = asyncio.get_running_loop().time()  # the device flow's own pace (see device_code)
        if device is None or device.client_id != form.get("client_id"):
            return _oauth(400, "invalid_grant", "Unknown device code")
        if device.used:
            return _oauth(400, "invalid_grant", "The device code was used")
        if now >= device.expires:
            return _oauth(400, "expired_token", "The device code expired")
        verifier = str(form.get("code_verifier", ""))
        expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if expected != device.challenge:
            return _oauth(400, "invalid_grant", "code_verifier does not match")
        too_soon = device.last_poll is not None and now - device.last_poll < device.interval - 0.5
        device.last_poll = now
        if too_soon:
            device.interval += 5.0
            return _oauth(400, "slow_down", "Polling too fast")
        if device.decision is None:
            return _oauth(403, "authorization_pending", "The user has not yet approved")
        if device.decision == "deny":
            device.used = True
            return _oauth(403, "access_denied", "The user denied the request")
        device.used = True
        return web.json_response(self._issue(device.client_id))

    def _issue(self, client_id: str) -> dict[str, Any]:
        account = self.world.account(self.name, client_id)
        assert account is not None
        gcid = str(account.extra.get("gcid"))
        lifetime = self.access_lifetime
        access = self.world.issue_opaque(self.name, client_id, "access", lifetime)
        refresh = self.world.issue_opaque(self.name, client_id, "refresh", REFRESH_LIFETIME)
        id_token = self.world.issue_jwt(self.name, client_id, lifetime, {"gcid": gcid, "aud": client_id})
        return {"access_token": access, "token_type": "Bearer", "expires_in": int(lifetime),
                "refresh_token": refresh, "scope": "authenticate_user openid cardata:api:read cardata:streaming:read",
                "id_token": id_token, "gcid": gcid}

    def _refresh(self, refresh: str, client_id: str) -> web.StreamResponse:
        issued, state = self.world.token(self.name, refresh, "refresh")
        if issued is None or state != "ok" or issued.username != client_id:
            return _oauth(400, "invalid_grant", "Invalid refresh token")
        # Rotation: a refresh token dies once its successor is used (a documented choice — BMW says only that
        # refreshing returns a new refresh token; this way an answer lost in transit does not end the login).
        predecessor = self._predecessor.pop(refresh, None)
        if predecessor is not None:
            self.world.tokens.pop(predecessor, None)
        answer = self._issue(client_id)
        self._predecessor[answer["refresh_token"]] = refresh
        return web.json_response(answer)

    async def sim_approve(self, request: web.Request) -> web.Response:
        data = await json_body(request)
        try:
            self.approve(str(data["user_code"]), str(data.get("decision", "approve")))
        except (KeyError, TypeError):
            return web.json_response({"error": "no such user code"}, status=404)
        return web.json_response({"approved": data.get("decision", "approve")})

    async def sim_publish(self, request: web.Request) -> web.Response:
        """A burst of stream messages on one car's topic, for measuring clients (``benchmarks/stream.py``):
        ``count`` messages at ``rate`` a second (0: as fast as the broker takes them), each with ``keys`` of the
        car's usual keys changed and its ``entityId`` carrying the host's monotonic send time. Answers when the
        last one is handed to the broker."""
        data = await json_body(request)
        try:
            vin, count = str(data["vin"]), int(data.get("count", 1))
            rate, width = float(data.get("rate", 0)), max(1, min(int(data.get("keys", 4)), 8))
        except (KeyError, TypeError, ValueError):
            return web.json_response({"error": "vin, count, rate, keys"}, status=400)
        car = self.world.cars.get(vin)
        account = None if car is None else self.world.account(self.name, car.owner)
        broker = await self._ensure_broker()
        if car is None or account is None or broker is None:
            return web.json_response({"error": "no such car, or no broker"}, status=404)
        topic = f"{account.extra.get('gcid')}/{vin}"
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(max(0, count)):
            if rate > 0:
                await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            stamp = _iso(self.world.clock.wall())
            values = {BENCH_KEYS[0]: 20 + i % 80, BENCH_KEYS[1]: 100 + i % 300, BENCH_KEYS[2]: 7000 + i % 400,
                      BENCH_KEYS[3]: 48.1 + (i % 1000) / 1e5, BENCH_KEYS[4]: 11.5 + (i % 1000) / 1e5,
                      BENCH_KEYS[5]: "CHARGING", BENCH_KEYS[6]: i % 360, BENCH_KEYS[7]: 1000 + i}
            message = {"vin": vin, "entityId": f"bench-{i}-{time.monotonic():.6f}", "topic": topic,
                       "timestamp": stamp,
                       "data": {k: {"timestamp": stamp, "value": v} for k, v in list(values.items())[:width]}}
            await broker.internal_message_broadcast(topic, json.dumps(message).encode(), 0)
        return web.json_response({"published": count})

    # -- REST --------------------------------------------------------------------------------------------

    def _account(self, request: web.Request) -> SimAccount:
        if request.headers.get("x-version") != "v1":
            raise _refusal(_error(400, "CU-400", "Missing x-version header"))
        token = _bearer(request)
        if not token:
            raise _refusal(_error(401, "CU-100", "No token"))
        issued, state = self.world.token(self.name, token)
        if issued is None:
            raise _refusal(_error(401, "CU-101", "Authentication failed"))
        if state == "expired":
            raise _refusal(_error(401, "CU-102", "Token expired"))
        account = self.world.account(self.name, issued.username)
        assert account is not None
        return account

    def _car(self, request: web.Request) -> tuple[SimAccount, Car]:
        account = self._account(request)
        vin = request.match_info["vin"]
        if len(vin) != 17:
            raise _refusal(_error(400, "CU-120", "Invalid VIN"))
        car = self.world.car(vin)
        if car is None or car.brand != self.name or car.owner != account.username \
                or car.extra.get("mapping", "PRIMARY") != "PRIMARY":
            raise _refusal(_error(403, "CU-104", "No permission for this VIN"))
        self.world.advance(car)
        return account, car

    async def mappings(self, request: web.Request) -> web.StreamResponse:
        return _guard(lambda: self._mappings(request))

    def _mappings(self, request: web.Request) -> web.Response:
        account = self._account(request)
        cars = [c for c in self.world.cars.values() if c.brand == self.name and c.owner == account.username]
        return web.json_response([{"vin": c.vin, "mappedSince": c.extra.get("mapped_since", "2024-03-01T08:00:00Z"),
                                   "mappingType": c.extra.get("mapping", "PRIMARY")} for c in cars])

    async def list_containers(self, request: web.Request) -> web.StreamResponse:
        return _guard(lambda: web.json_response({"containers": [
            {k: v for k, v in c.items() if k != "technicalDescriptors"}
            for c in self.containers.get(self._account(request).username, [])]}))

    async def create_container(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        return _guard(lambda: self._create(request, body))

    def _create(self, request: web.Request, body: Any) -> web.Response:
        account = self._account(request)
        mine = self.containers.setdefault(account.username, [])
        if not isinstance(body, dict) or not isinstance(body.get("technicalDescriptors"), list) \
                or not body.get("name") or not body["technicalDescriptors"]:
            return _error(400, "CU-400", "Invalid container")
        if len([c for c in mine if c["state"] == "ACTIVE"]) >= MAX_CONTAINERS:
            return _error(400, "CU-124", "Too many containers")
        container = {"containerId": secrets.token_hex(7)[:13], "name": str(body["name"]),
                     "purpose": str(body.get("purpose", "")), "state": "ACTIVE",
                     "created": _iso(self.world.clock.wall()),
                     "technicalDescriptors": [str(k) for k in body["technicalDescriptors"]]}
        mine.append(container)
        return web.json_response(container, status=201)  # ContainerDetailsDto, as the swagger says

    def _container(self, account: SimAccount, container_id: str, *, reading: bool = False) -> dict[str, Any]:
        """The account's container; ``reading`` (telematics through it): a deleted one is no permission, 403
        CU-105, as for an unknown one (REFERENCE §3c; kvanbiesen's http_retry.py) — CU-122 is the container
        calls' own answer."""
        if len(container_id) != 13:
            raise _refusal(_error(400, "CU-121", "Invalid container id"))
        for container in self.containers.get(account.username, []):
            if container["containerId"] == container_id:
                if container["state"] != "ACTIVE":
                    if reading:
                        break
                    raise _refusal(_error(400, "CU-122", "Container already deleted"))
                return container
        raise _refusal(_error(403, "CU-105", "No permission for this container"))

    async def get_container(self, request: web.Request) -> web.StreamResponse:
        return _guard(lambda: web.json_response(self._container(self._account(request), request.match_info["id"])))

    async def delete_container(self, request: web.Request) -> web.StreamResponse:
        def delete() -> web.Response:
            container = self._container(self._account(request), request.match_info["id"])
            container["state"] = "DELETED"
            return web.Response(status=204)

        return _guard(delete)

    async def telematic_data(self, request: web.Request) -> web.StreamResponse:
        def answer() -> web.Response:
            account, car = self._car(request)
            container_id = request.query.get("containerId")
            if not container_id:
                return _error(400, "CU-401", "containerId is required")
            container = self._container(account, container_id, reading=True)
            values = telematics_of(car)
            now = self.world.clock.wall()
            data: dict[str, dict[str, str | None]] = {}
            for key in container["technicalDescriptors"]:
                if key not in values:
                    data[key] = {"timestamp": None, "unit": UNITS.get(key), "value": None}  # keeps its unit
                    continue
                stamp = self._stamp(car.vin, key, values[key], now)
                data[key] = {"timestamp": _iso(stamp), "unit": UNITS.get(key), "value": _rest_text(values[key])}
            return web.json_response({"telematicData": data})

        return _guard(answer)

    def _stamp(self, vin: str, key: str, value: Any, now: float) -> float:
        """When the car measured ``key``: the last time its value changed."""
        last = self._last.setdefault(vin, {})
        if last.get(key, object()) != value or (vin, key) not in self._changed_at:
            last[key] = value
            self._changed_at[(vin, key)] = now
        return self._changed_at[(vin, key)]

    async def basic_data(self, request: web.Request) -> web.StreamResponse:
        def answer() -> web.Response:
            _, car = self._car(request)
            extra = car.extra
            # The live answer (REFERENCE §3c; pitwall-mcp's recorded basic_data_real.json): no vin, no
            # isTelematicsCapable, countryCode, seriesDevt and colourDescription, the body type in words, the
            # construction date with milliseconds and a +0000 offset; the swagger's EV fields where the car has them.
            basic = {"bodyType": BODY_WORDS.get(str(extra.get("body")), extra.get("body")),
                     "brand": extra.get("make", "BMW"), "colourCodeRaw": extra.get("colour_code", "300"),
                     "colourDescription": extra.get("colour", "ALPINWEISS  III"),
                     "constructionDate": extra.get("built", "2022-10-17") + "T00:00:00.000+0000",
                     "countryCode": extra.get("country", "DE"), "driveTrain": "BEV",
                     "engine": extra.get("engine", "HA0001N0"), "fullSAList": "0302,0430,0431,0548,06AE,06AF,06C4",
                     "hasNavi": True, "hasSunRoof": False, "headUnit": "HU_MGU",
                     "modelKey": extra.get("model_key", "21CF"), "modelName": car.name or car.model,
                     "numberOfDoors": 5, "propulsionType": "BEV", "series": extra.get("series"),
                     "seriesDevt": extra.get("series_devt", "I20"), "simStatus": "ACTIVE", "steering": "LL",
                     "chargingModes": ["AC", "DC"], "hvsMaxEnergyAbsolute": str(car.battery_capacity_kwh)}
            return web.json_response(basic)

        return _guard(answer)

    async def charging_history(self, request: web.Request) -> web.StreamResponse:
        def answer() -> web.Response:
            _, car = self._car(request)
            try:
                start = _epoch(request.query["from"])
                end = _epoch(request.query["to"])
            except (KeyError, ValueError):
                return _error(400, "CU-401", "from and to are required ISO 8601 times")
            if end <= start or end - start > MAX_HISTORY_DAYS * 86400:
                return _error(400, "CU-401", "The time window is too long")
            sessions = [s for s in _sessions(car, self.world.clock.wall()) if start <= s["startTime"] / 1000 < end]
            offset = int(request.query.get("nextToken", "0") or 0)
            page = sessions[offset:offset + HISTORY_PAGE]
            more = offset + HISTORY_PAGE < len(sessions)
            body: dict[str, Any] = {"data": page}
            if more:
                body["next_token"] = str(offset + HISTORY_PAGE)
            return web.json_response(body)

        return _guard(answer)

    async def tyres(self, request: web.Request) -> web.StreamResponse:
        def answer() -> web.Response:
            self._car(request)
            # The real skeleton (pitwall-mcp's recorded tyre_diagnosis_real.json): both sets, every wheel with
            # every labelled field, zeros and labels where BMW has no data — the unmounted set here; the mounted
            # set carries the swagger's values besides.
            return web.json_response({"errors": [], "passengerCar": {
                "mountedTyres": _tyre_set("Mounted", known=True),
                "unmountedTyres": _tyre_set("Unmounted", known=False)}})

        return _guard(answer)

    async def charging_settings(self, request: web.Request) -> web.StreamResponse:
        def answer() -> web.Response:
            _, car = self._car(request)
            settings = car.extra.get("charging_settings")
            if not settings:
                return _error(404, "CU-127", "No charging settings data")
            return web.json_response({"data": settings})

        return _guard(answer)

    async def image(self, request: web.Request) -> web.StreamResponse:
        def answer() -> web.Response:
            _, car = self._car(request)
            if car.extra.get("no_image"):
                return _error(404, "CU-126", "No image available")
            return web.Response(body=_png(), content_type="image/png")

        return _guard(answer)

    # -- the stream: MQTT over WebSocket into a real broker ----------------------------------------------

    async def set_stream_down(self, down: bool) -> None:
        """The broker unreachable (an outage): open connections drop, new ones are refused until it is back."""
        self.stream_down = down
        if down:
            for client_id in list(self.connections.values()):
                await self._drop(client_id)

    # -- the stream over MQTT on TLS (TCP), as BMW serves it ---------------------------------------------------

    async def start_tls(self, host: str, context: ssl.SSLContext) -> dict[str, str]:
        self._tls_server = await asyncio.start_server(self._tls_connected, host, 0, ssl=context)
        port = self._tls_server.sockets[0].getsockname()[1]
        return {"stream": f"mqtts://{host}:{port}"}

    def _attempt_allowed(self, ip: str) -> bool:
        """BMW limits connection attempts per IP over a minute ("temporary application of rate limits", guide
        v1.5) without a number: :data:`CONNECT_ATTEMPTS_PER_MINUTE` is a guess. Held per IP across accounts."""
        now = asyncio.get_running_loop().time()
        attempts = self._attempts[ip]
        while attempts and attempts[0] <= now - 60.0:
            attempts.popleft()
        if len(attempts) >= CONNECT_ATTEMPTS_PER_MINUTE:
            self.ip_refusals += 1
            return False
        attempts.append(now)
        return True

    async def _tls_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        broker = None if not self._attempt_allowed(str(peer[0])) else await self._ensure_broker()
        if broker is None or self.stream_down:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter

        adapter = StreamWriterAdapter(writer)
        self._live.add(adapter)
        try:
            await broker.external_connected(StreamReaderAdapter(reader), adapter, "default")
        finally:
            self._discard(broker, adapter)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _discard(self, broker: Any, writer: Any) -> None:
        self._live.discard(writer)  # over, whoever ended it: amqtt may keep the session object about
        for client_id, (_, handler) in list(getattr(broker, "sessions", {}).items()):
            if handler.writer is writer:
                self._gone(client_id)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        broker = await self._ensure_broker()
        if self.stream_down:
            # The broker is unreachable: the connection opens and is dropped at once, as a broker's would be.
            ws = web.WebSocketResponse(protocols=("mqtt",))
            await ws.prepare(request)
            await ws.close(code=1013, message=b"try again later")
            return ws
        if broker is None:
            return web.json_response({"error": "the simulator's MQTT broker needs the 'simulator' extra (amqtt)"},
                                     status=501)
        ws = web.WebSocketResponse(protocols=("mqtt",))
        await ws.prepare(request)
        from ._cardata_mqtt import WebSocketReader, WebSocketWriter

        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        writer = WebSocketWriter(ws, peer or ("127.0.0.1", 0))
        self._live.add(writer)
        try:
            await broker.external_connected(WebSocketReader(ws), writer, "default")
        finally:
            self._discard(broker, writer)
        return ws

    def _gone(self, client_id: str) -> None:
        """A connection ended: its expiry timer goes, and it no longer holds its GCID's place."""
        timer = self._timers.pop(client_id, None)
        if timer is not None:
            timer.cancel()
        for gcid, current in list(self.connections.items()):
            if current == client_id:
                del self.connections[gcid]

    async def _ensure_broker(self) -> Any:
        if self._broker is not None or self._closed:
            return self._broker
        try:
            from amqtt.broker import Broker

            from ._cardata_mqtt import OWNERS, plugins
        except ImportError:
            return None
        # amqtt reports every client that hangs up as a warning; with no handler of the application's, Python
        # would print each one on stderr (the simulator's own log records what matters).
        amqtt_log = logging.getLogger("amqtt")
        if not amqtt_log.handlers:
            amqtt_log.addHandler(logging.NullHandler())
        OWNERS[self._key] = self

        class QosZeroBroker(Broker):  # type: ignore[misc]
            """BMW's broker serves QoS 0 only: a QoS 1 or 2 subscription is granted 0 (REFERENCE §3c)."""

            async def add_subscription(self, subscription: tuple[str, int], session: Any) -> int:
                granted: int = await super().add_subscription((subscription[0], 0), session)
                return granted

        broker = QosZeroBroker({
            "listeners": {"default": {"type": "external", "bind": "127.0.0.1:0"}},
            "plugins": plugins(self._key),
        })
        await broker.start()
        self._broker = broker
        self._publisher = asyncio.get_running_loop().create_task(self._publish_changes())
        return broker

    async def connected(self, gcid: str, client_id: str, id_expires: float) -> None:
        """A connection for ``gcid`` was accepted: drop an older one, and close this one when its token expires."""
        older = self.connections.get(gcid)
        self.connections[gcid] = client_id
        if older is not None and older != client_id:
            self.kicks += 1
            await self._drop(older)
        timer = self._timers.pop(client_id, None)
        if timer is not None:
            timer.cancel()
        delay = max(0.0, (id_expires - self.world.clock.wall()) / max(self.world.clock.speed, 1e-9))
        self._timers[client_id] = asyncio.get_running_loop().call_later(delay, self._expire, client_id)

    def _expire(self, client_id: str) -> None:
        self._timers.pop(client_id, None)
        task = asyncio.get_running_loop().create_task(self._drop(client_id, expired=True))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _drop(self, client_id: str, *, expired: bool = False) -> None:
        sessions = getattr(self._broker, "sessions", {}) if self._broker is not None else {}
        pair = sessions.get(client_id)
        if pair is not None and pair[1].writer is not None and pair[1].writer in self._live:
            if expired:
                self.expiry_closes += 1  # the client was still on when its token ran out
            await pair[1].writer.close()

    async def _publish_changes(self) -> None:
        """Every few simulated seconds: publish, per car, only the keys whose value changed."""
        sent: dict[str, dict[str, Any]] = {}
        while True:
            # On the simulated clock: a speed change or a jump of the clock takes effect at once.
            await self.world.clock.sleep(PUBLISH_EVERY)
            now = self.world.clock.wall()
            for car in [c for c in self.world.cars.values() if c.brand == self.name]:
                account = self.world.account(self.name, car.owner)
                if account is None or not account.extra.get("stream") or car.extra.get("silent"):
                    continue
                if car.extra.get("mapping", "PRIMARY") != "PRIMARY":
                    continue  # the stream carries the PRIMARY user's cars only (REFERENCE §3c)
                self.world.advance(car)
                values = {k: v for k, v in telematics_of(car).items() if k not in NEVER_STREAM}
                before = sent.get(car.vin)
                sent[car.vin] = values
                if before is None:
                    continue  # a car streams what changes, its first message too: no snapshot of every key
                changed = {k: v for k, v in values.items() if before.get(k) != v}
                gcid = str(account.extra.get("gcid"))
                if not changed or gcid not in self.connections or self._broker is None:
                    continue
                stamp = _iso(now)
                message = {"vin": car.vin, "entityId": str(uuid.uuid4()), "topic": f"{gcid}/{car.vin}",
                           "timestamp": stamp,
                           "data": {k: {"timestamp": _iso(self._stamp(car.vin, k, v, now)), "value": v,
                                        **({"unit": UNITS[k]} if k in UNITS else {})} for k, v in changed.items()}}
                await self._broker.internal_message_broadcast(f"{gcid}/{car.vin}", json.dumps(message).encode(), 0)
                self.published += 1
                self.recent.append(message)

    streams = True

    async def stream_raw(self, username: str, vin: str, payload: bytes) -> None:
        account = self.world.account(self.name, username)
        if account is not None:
            await self.publish_raw(str(account.extra.get("gcid")), vin, payload)

    def refuse_stream(self, username: str, refuse: bool = True) -> None:
        account = self.world.account(self.name, username)
        if account is not None:
            account.extra["refuse_connect"] = refuse

    async def publish_raw(self, gcid: str, vin: str, payload: bytes) -> None:
        """Send any payload on a car's topic (tests of malformed and oversized messages)."""
        broker = await self._ensure_broker()
        if broker is not None:
            await broker.internal_message_broadcast(f"{gcid}/{vin}", payload, 0)

    async def close(self) -> None:
        self._closed = True  # a client reconnecting meanwhile must not start a new broker
        if self._tls_server is not None:
            self._tls_server.close()
            self._tls_server = None
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
            self._publisher = None
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._broker is not None:
            with contextlib.suppress(Exception):
                await self._broker.shutdown()
            self._broker = None
        with contextlib.suppress(ImportError):
            from ._cardata_mqtt import OWNERS

            OWNERS.pop(self._key, None)


def _bearer(request: web.Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ").strip()


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _refusal(response: web.Response) -> _Refused:
    return _Refused(response)


def _guard(answer: Any) -> web.Response:
    try:
        result: web.Response = answer()
    except _Refused as refused:
        return refused.response
    return result


def _epoch(text: str) -> float:
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


def _sessions(car: Car, now: float) -> list[dict[str, Any]]:
    """Twelve nightly sessions over the last 24 days (the same for the same car)."""
    sessions: list[dict[str, Any]] = []
    # A car sold in miles counts them; the live answer names the unit bare ("KM" / "MI", REFERENCE §3c).
    miles = bool(car.extra.get("miles"))
    per_unit = 1.609344 if miles else 1.0
    for n in range(12):
        start = math.floor(now / 86400) * 86400 - (n * 2 + 1) * 86400 + 22 * 3600
        sessions.append({"startTime": int(start * 1000), "endTime": int((start + 4 * 3600) * 1000),
                         "displayedStartSoc": 30 + n % 5, "displayedSoc": 80, "totalChargingDurationSec": 4 * 3600,
                         "energyConsumedFromPowerGridKwh": round(0.5 * car.battery_capacity_kwh, 1),
                         "isPreconditioningActivated": False,
                         "mileage": int((car.mileage_km - n * 40) / per_unit),
                         "mileageUnits": "MI" if miles else "KM", "timeZone": car.timezone, "businessErrors": []})
    return sessions

