"""A small cloud for the internal test brand: real aiohttp.web on loopback, with a request log and faults.

It exists so that the core engine can be tested over real HTTP before any real brand exists. Its wall
clock is created on first use so that, under looptime, it runs on the same virtual time as the client.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer

from evclient.clock import Clock
from evclient.simulator.quota import most_in_any_window

JWT_KEY = "test-cloud-signing-key-not-a-secret-0123456789"
PASSWORD = "correct horse battery staple"

CARS = {
    "solo": [("VF1SLXXXX00000001", "seven")],
    "duo": [("VF1DUXXXX00000001", "four"), ("VF1DUXXXX00000002", "four")],
    "mystery": [("VF1MYXXXX00000001", "mystery")],
}


@attrs.define
class Fault:
    """One scripted answer that replaces the normal one (``drop``: close the connection instead)."""

    status: int = 500
    body: Any = attrs.field(factory=lambda: {"error": "boom"})
    headers: dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0
    drop: bool = False
    raw: bytes | None = None


@attrs.define
class LogEntry:
    t: float
    method: str
    route: str
    path: str
    status: int


class TestCloud:
    def __init__(self) -> None:
        self._clock: Clock | None = None
        self.log: list[LogEntry] = []
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.token_lifetime = 2 * 86400.0  # tests of expiry shorten it
        self.revoked: set[str] = set()
        self.unsupported = {("VF1MYXXXX00000001", "e7")}
        self.values: dict[tuple[str, str], int] = defaultdict(int)
        self.changing = True
        self.script: list[tuple[float, str]] = [(0, "INITIATED"), (4, "PENDING"), (9, "DELIVERED"), (15, "EXECUTED")]
        self.commands: dict[tuple[str, str], tuple[float, str]] = {}
        self.active_submits = 0
        self.max_parallel_same_type = 0
        self._events = itertools.count(1)
        # The stream: ``stream_up`` accepts connections; each open one is a (user, websocket) pair.
        self.stream_up = True
        self.stream_refuses = False
        self.sockets: list[tuple[str, web.WebSocketResponse]] = []
        self.stream_connects = 0

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            self._clock = Clock()
        return self._clock

    def fail(self, route: str, *faults: Fault) -> None:
        self.faults[route].extend(faults)

    def count(self, route: str | None = None) -> int:
        return sum(1 for e in self.log if route is None or e.route == route)

    def max_in_window(self, seconds: float = 3600.0, routes: set[str] | None = None) -> int:
        """The largest number of logged requests in any window of ``seconds`` (server-side receipt times)."""
        return most_in_any_window((e.t for e in self.log if routes is None or e.route in routes), seconds)

    # -- app ---------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/auth/login", self.login, name="login")
        app.router.add_post("/auth/refresh", self.refresh, name="refresh")
        app.router.add_get("/api/cars", self.cars, name="list")
        app.router.add_get("/api/cars/{vin}/data/{name}", self.data, name="data")
        app.router.add_post("/api/cars/{vin}/commands/{kind}", self.submit, name="submit")
        app.router.add_get("/api/cars/{vin}/commands/{kind}", self.status, name="status")
        app.router.add_get("/api/stream", self.stream, name="stream")
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route.name or "?"
        entry = LogEntry(self.clock.now(), request.method, route, request.path, 0)
        self.log.append(entry)
        queue = self.faults.get(route)
        if queue:
            fault = queue.popleft()
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                assert request.transport is not None
                request.transport.close()
                entry.status = -1
                raise asyncio.CancelledError
            entry.status = fault.status
            if fault.raw is not None:
                return web.Response(status=fault.status, body=fault.raw, headers=fault.headers)
            return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        response: web.StreamResponse = await handler(request)
        entry.status = response.status
        return response

    def _issue(self, user: str) -> str:
        exp = int(self.clock.wall() + self.token_lifetime)
        return jwt.encode({"sub": user, "exp": exp, "jti": str(next(self._events))}, JWT_KEY, algorithm="HS256")

    def _user(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        if token in self.revoked:
            raise web.HTTPUnauthorized(text='{"error":"revoked"}', content_type="application/json")
        try:
            claims = jwt.decode(token, JWT_KEY, algorithms=["HS256"], options={"verify_exp": False})
        except jwt.PyJWTError:
            raise web.HTTPUnauthorized(text='{"error":"bad token"}', content_type="application/json") from None
        if claims["exp"] <= self.clock.wall():
            raise web.HTTPUnauthorized(text='{"error":"expired"}', content_type="application/json")
        return str(claims["sub"])

    async def login(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("username") not in CARS or body.get("password") != PASSWORD:
            return web.json_response({"error": "invalid_credentials"}, status=401)
        user = body["username"]
        return web.json_response({"token": self._issue(user), "refresh_token": f"refresh-{user}-0123456789"})

    async def refresh(self, request: web.Request) -> web.Response:
        body = await request.json()
        refresh = str(body.get("refresh_token", ""))
        user = refresh.removeprefix("refresh-").removesuffix("-0123456789")
        if user not in CARS or refresh in self.revoked:
            return web.json_response({"error": "invalid_refresh"}, status=401)
        return web.json_response({"token": self._issue(user)})

    async def cars(self, request: web.Request) -> web.Response:
        user = self._user(request)
        return web.json_response({"cars": [{"vin": vin, "model": model} for vin, model in CARS[user]]})

    def _car(self, request: web.Request) -> str:
        user = self._user(request)
        vin = request.match_info["vin"]
        if vin not in {v for v, _ in CARS[user]}:
            raise web.HTTPNotFound(text='{"error":"no such car"}', content_type="application/json")
        return vin

    async def data(self, request: web.Request) -> web.Response:
        vin = self._car(request)
        name = request.match_info["name"]
        if (vin, name) in self.unsupported:
            return web.json_response({"error": "not supported"}, status=501)
        if self.changing:
            self.values[(vin, name)] += 1
        body: dict[str, Any] = {"name": name, "value": self.values[(vin, name)], "measured": self.clock.wall()}
        if request.query:
            body["query"] = dict(request.query)
        return web.json_response(body)

    async def submit(self, request: web.Request) -> web.Response:
        vin = self._car(request)
        kind = request.match_info["kind"]
        key = (vin, kind)
        if key in self.commands:
            started, _ = self.commands[key]
            if self._status_at(self.clock.now() - started)[1] not in {"EXECUTED", "NOT_EXECUTED", "TIMED_OUT"}:
                self.max_parallel_same_type += 1
        event = f"ev-{next(self._events)}"
        self.commands[key] = (self.clock.now(), event)
        return web.json_response({"event": event, "status": self.script[0][1]})

    def _status_at(self, elapsed: float) -> tuple[float, str]:
        current = self.script[0]
        for step in self.script:
            if elapsed >= step[0]:
                current = step
        return current

    async def status(self, request: web.Request) -> web.Response:
        vin = self._car(request)
        key = (vin, request.match_info["kind"])
        if key not in self.commands:
            return web.json_response({"error": "no command"}, status=404)
        started, event = self.commands[key]
        return web.json_response({"event": event, "status": self._status_at(self.clock.now() - started)[1]})


    # -- the stream ------------------------------------------------------------------------------------

    async def stream(self, request: web.Request) -> web.StreamResponse:
        user = self._user(request)
        if not self.stream_up:
            return web.json_response({"error": "stream unavailable"}, status=503)
        if self.stream_refuses:
            return web.json_response({"error": "token refused"}, status=403)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.stream_connects += 1
        entry = (user, ws)
        self.sockets.append(entry)
        try:
            async for _ in ws:  # the client sends nothing; this waits for the close
                pass
        finally:
            if entry in self.sockets:
                self.sockets.remove(entry)
        return ws

    async def push(self, vin: str, name: str, value: int | None = None, *, measured: float | None = None) -> int:
        """Send one value to every open stream of the car's owner; returns how many got it."""
        if value is None:
            self.values[(vin, name)] += 1
            value = self.values[(vin, name)]
        message = {"vin": vin, "name": name, "value": value,
                   "measured": self.clock.wall() if measured is None else measured}
        sent = 0
        for user, ws in list(self.sockets):
            if vin in {v for v, _ in CARS[user]} and not ws.closed:
                await ws.send_json(message)
                sent += 1
        return sent

    async def drop_streams(self, code: int = 1011, message: str = "going away") -> None:
        for _, ws in list(self.sockets):
            await ws.close(code=code, message=message.encode())


@asynccontextmanager
async def serve(cloud: TestCloud) -> AsyncIterator[str]:
    server = TestServer(cloud.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
