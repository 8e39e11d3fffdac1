"""An internal brand, for the core engine's tests only. It talks to :mod:`tests.testcloud`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import aiohttp
import attrs

from evclient import brands
from evclient.auth import Auth, Secret, jwt_expiry
from evclient.brand import Api, Brand, Session, VehicleInfo
from evclient.command import CommandSpec, Submission
from evclient.delays import Outcome
from evclient.endpoint import EndpointSpec
from evclient.errors import (
    AuthenticationError,
    ConnectionFailed,
    EVClientError,
    InvalidCredentialsError,
    InvalidInputError,
    NotSupportedError,
    QuotaExceeded,
    RateLimited,
    ResponseError,
    ServerError,
)
from evclient.scheduler import Window
from evclient.settings import PASSWORD, USERNAME
from evclient.streams import StreamEnded, StreamRefused, StreamSink, StreamSpec
from evclient.transport import Request, Response

MODELS = {"seven": 7, "four": 4}


@attrs.frozen
class Reading:
    name: str
    value: int
    query: Mapping[str, str] | None = None
    measured: float | None = attrs.field(default=None, eq=False)  # when, not what: no change by itself


def parse_reading(body: Any) -> Reading:
    measured = body.get("measured")
    return Reading(str(body["name"]), int(body["value"]), body.get("query"),
                   float(measured) if measured is not None else None)


def measured(reading: Reading) -> float | None:
    return reading.measured


#: Endpoints the test cloud's stream pushes (when the account asks for the stream).
PUSHED = ("e1", "e2")
#: The close code the test cloud uses for "another connection took over".
KICKED = 4000


def month_range(*, begin: str, end: str) -> dict[str, str]:
    for value in (begin, end):
        if len(value) != 4 or not value.isdigit() or not 1 <= int(value[:2]) <= 12:
            raise InvalidInputError(f"a month must be MMYY, got {value!r}")
    return {"begin": begin, "end": end}


class TestAuth(Auth):
    def __init__(self, username: str | None, password: Secret | None, tokens: Mapping[str, Any] | None) -> None:
        super().__init__()
        self._username = username
        self._password = password
        tokens = tokens or {}
        self._token: str | None = tokens.get("token")
        self._refresh: str | None = tokens.get("refresh_token")
        self._exp = jwt_expiry(self._token) if self._token else None

    def valid(self, wall_now: float) -> bool:
        return self._exp is not None and self._exp - self.refresh_margin > wall_now

    async def renew(self, api: Api) -> None:
        if self._refresh is not None:
            try:
                body = (await api.request(Request(
                    method="POST", server="auth", path="/refresh", endpoint="token-refresh",
                    json={"refresh_token": self._refresh}, authenticated=False,
                ))).json()
                self._set(body["token"])
                return
            except AuthenticationError:
                if self._password is None:
                    raise
        if self._password is None or self._username is None:
            raise AuthenticationError("the stored tokens expired and no password was given")
        body = (await api.request(Request(
            method="POST", server="auth", path="/login", endpoint="login",
            json={"username": self._username, "password": self._password.reveal()}, authenticated=False,
        ))).json()
        self._refresh = body["refresh_token"]
        self._set(body["token"])

    def _set(self, token: str) -> None:
        self._token = token
        self._exp = jwt_expiry(token)

    def headers(self, server: str) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        self._exp = None

    def tokens(self) -> dict[str, Any]:
        return {"token": self._token, "refresh_token": self._refresh}


async def _submit(api: Api, vehicle: VehicleInfo, prepared: Any) -> Submission:
    body = (await api.request(Request(
        method="POST", server="api", path=f"/cars/{vehicle.vin}/commands/{prepared['kind']}", endpoint="submit",
    ))).json()
    return Submission(status=body["status"], event_id=body["event"], raw={**body, "kind": prepared["kind"]})


async def _status(api: Api, vehicle: VehicleInfo, submission: Submission) -> Submission:
    kind = submission.raw["kind"]
    body = (await api.request(Request(
        method="GET", server="api", path=f"/cars/{vehicle.vin}/commands/{kind}", endpoint="command-status",
    ))).json()
    if "status" not in body:
        raise ResponseError("command-status: no status in the answer", endpoint="command-status")
    return Submission(status=body["status"], event_id=body.get("event"), raw=body)


def _classify(status: str) -> Outcome:
    return {
        "EXECUTED": Outcome.SUCCESS,
        "NOT_EXECUTED": Outcome.FAILED,
        "TIMED_OUT": Outcome.TIMED_OUT,
    }.get(status, Outcome.PENDING)


def _validate_flash(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    count = params.get("count", 2)
    if set(params) - {"count"}:
        raise InvalidInputError(f"flash takes only count, not {', '.join(sorted(set(params) - {'count'}))}")
    if not isinstance(count, int) or not 1 <= count <= 5:
        raise InvalidInputError("count must be a whole number from 1 to 5")
    return {"kind": "flash", "count": count}


class TestSession(Session):
    def create_auth(self, tokens: Mapping[str, Any] | None) -> Auth:
        return TestAuth(self.settings.text("username"), self.settings.secret("password"), tokens)

    async def list_vehicles(self, api: Api) -> list[VehicleInfo]:
        body = (await api.request(Request(method="GET", server="api", path="/cars", endpoint="vehicles"))).json()
        return [VehicleInfo(vin=c["vin"], model=c["model"], raw=c) for c in body["cars"]]


class TestStreamSession(TestSession):
    """The test cloud's WebSocket stream, on a client session of its own (the core has no WebSocket: a brand's
    stream brings its protocol, as CarData brings MQTT), opened under a slot of the budget like any request."""

    #: Seconds after connecting when the runner must renew the connection (``None``: never).
    lifetime: float | None = None

    def create_auth(self, tokens: Mapping[str, Any] | None) -> Auth:
        self.auth = super().create_auth(tokens)
        return self.auth

    async def open_stream(self, api: Api, cars: Sequence[VehicleInfo], sink: StreamSink) -> None:
        await api.authenticate()
        async with aiohttp.ClientSession() as http:
            try:
                async with api.admitted("api"):
                    ws = await http.ws_connect(api.server_url("api") + "/stream", headers=self.auth.headers("api"))
            except aiohttp.WSServerHandshakeError as err:
                if err.status == 403:
                    raise StreamRefused("the stream refused the token") from None
                raise ConnectionFailed(f"stream: HTTP {err.status}") from None
            except (aiohttp.ClientError, OSError) as err:
                raise ConnectionFailed(f"stream: {type(err).__name__}") from None
            async with ws:
                until = None if self.lifetime is None else api.clock.wall() + self.lifetime
                sink.connected(until=until)
                async for frame in ws:
                    try:
                        message = json.loads(frame.data)
                        value = Reading(str(message["name"]), int(message["value"]), None,
                                        float(message["measured"]))
                    except (KeyError, TypeError, ValueError):
                        sink.message()  # a bad message never stops the stream
                        continue
                    sink.push(str(message["vin"]), value.name, value, measured_at=value.measured, raw=message)
                code = ws.close_code
        if code == KICKED:
            raise StreamEnded("kicked by another connection", retry_after=1800.0, taken_over=True)
        raise ConnectionFailed("stream: the server closed the connection")


@brands.register
class TestBrand(Brand):
    name = "test"
    servers: ClassVar[Mapping[str, str]] = {"api": "http://127.0.0.1:9/api", "auth": "http://127.0.0.1:9/auth"}
    windows = (Window(limit=60, seconds=3600.0, reserve=6),)
    cooldown = 900.0
    endpoints = (
        *(EndpointSpec(name=f"e{i}", path=f"/cars/{{vin}}/data/e{i}", parse=parse_reading, measured=measured,
                       pushed=f"e{i}" in PUSHED) for i in range(1, 8)),
        EndpointSpec(name="history", path="/cars/{vin}/data/history", parse=parse_reading, poll=False,
                     query=month_range),
    )
    settings = (USERNAME, attrs.evolve(PASSWORD, required=False))
    session = TestSession
    commands = (
        CommandSpec(
            name="flash", submit=_submit, read_status=_status, classify=_classify, validate=_validate_flash,
            lock_key=lambda prepared: "flash", refresh_after=("e1",),
        ),
        CommandSpec(name="honk", submit=_submit, classify=lambda status: Outcome.SUCCESS,
                    validate=lambda v, p: {"kind": "honk"}),
    )

    def endpoint_supported(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> bool | None:
        count = MODELS.get(vehicle.model or "")
        if count is None or spec.name == "history":
            return None
        return int(spec.name[1:]) <= count

    def command_supported(self, vehicle: VehicleInfo, spec: CommandSpec) -> bool | None:
        return not (spec.name == "honk" and vehicle.model == "four")

    def decode_error(self, response: Response, wall_now: float) -> EVClientError | None:
        if response.ok:
            return None
        body = response.json_or_none()
        code = body.get("error") if isinstance(body, dict) else None
        status = response.status
        if status == 401:
            if response.endpoint == "login":
                return InvalidCredentialsError("the username or password is wrong")
            return AuthenticationError(f"{response.endpoint}: not authorised")
        if status == 429 or code == "quota":
            cls = QuotaExceeded if code == "quota" else RateLimited
            return cls(f"{response.endpoint}: too many requests", retry_after=response.retry_after(wall_now))
        if status == 501:
            return NotSupportedError(f"{response.endpoint}: not supported by this car")
        if status >= 500:
            return ServerError(f"{response.endpoint}: server error {status}", status=status)
        return ResponseError(f"{response.endpoint}: unexpected HTTP {status}", endpoint=response.endpoint,
                             status=status)


def streaming(*, silence: float | None = None, requires: str | None = None, **spec: Any) -> type[TestBrand]:
    """The test brand with its stream (most tests poll only), declared as the stream tests need it."""
    return type("StreamingTestBrand", (TestBrand,), {  # not registered: connect() is given the class
        "session": TestStreamSession, "stream": StreamSpec(silence=silence, requires=requires, **spec)})
