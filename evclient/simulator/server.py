"""The simulator's web application: brand routes, quota, faults, the request log and ``/_sim/`` controls."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import attrs
from aiohttp import web

from .brands import SimBrand, all_brands, json_body
from .clock import SimClock
from .faults import Chaos, Fault, FaultBook, FaultKind
from .fixtures import cars as fixture_cars
from .quota import SlidingQuota, most_in_any_window
from .tls import TlsMaterial, make_tls_material
from .world import CommandScript, World

_LOG = logging.getLogger("evclient.simulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>{status} Bad Gateway</title></head>"
    "<body><h1>{status}</h1><p>The upstream server is not answering. Please try again later.</p></body></html>"
)


@attrs.define
class LogEntry:
    """One request as the simulated cloud saw it (``t`` in simulated epoch seconds; status 0: dropped)."""

    t: float
    brand: str
    account: str | None
    method: str
    path: str
    route: str
    status: int = 0
    fault: str | None = None
    query: dict[str, str] = attrs.field(factory=dict)


class Simulator:
    """Every brand's simulated cloud in one ``aiohttp.web`` application.

    Use it in-process (``async with Simulator() as sim:`` then ``sim.servers("renault-ze")``) or through
    ``evclient simulator``. ``world`` holds accounts, cars and the clock; ``faults`` scripts trouble;
    ``log`` records every brand request.
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        world: World | None = None,
        brands: Iterable[str] | None = None,
        default_world: bool = True,
        tls: bool = False,
    ) -> None:
        available = all_brands()
        wanted = set(available) if brands is None else set(brands)
        unknown = wanted - set(available)
        if unknown:
            raise ValueError(f"the simulator has no brand {', '.join(sorted(unknown))}")
        self.world = world or World(SimClock(speed=speed))
        self.brands: dict[str, SimBrand] = {n: cls(self.world) for n, cls in available.items() if n in wanted}
        self.world.brands.update(self.brands)
        self.faults = FaultBook()
        #: Random faults on top of the scripted ones (soak tests); ``None``: none.
        self.chaos: Chaos | None = None
        self.quotas = {name: SlidingQuota(*brand.quota) for name, brand in self.brands.items()}
        self.log: list[LogEntry] = []
        self.url: str | None = None
        self._runner: web.AppRunner | None = None
        #: With ``tls``: the brands' TLS listeners (CarData's stream over MQTT on TLS 1.3, as BMW serves it),
        #: under the simulator's own test CA (``tls_material.ca_file``).
        self.tls = tls
        self.tls_material: TlsMaterial | None = None
        self._tls_servers: dict[str, dict[str, str]] = {}
        if default_world:
            self.populate()

    def populate(self) -> None:
        """Add the default world: the demo account on every brand and the brand's fixture cars."""
        for brand in self.brands.values():
            for account in brand.default_accounts():
                self.world.add_account(account)
            for data in fixture_cars(brand.fixtures):
                self.world.add_car(brand.load_car(data))

    # -- running ---------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        for brand in self.brands.values():
            brand.add_routes(app)
        r = app.router
        r.add_get("/_sim/", self._index, name="sim.index")
        r.add_get("/_sim/requests", self._requests, name="sim.requests")
        r.add_delete("/_sim/requests", self._clear_requests, name="sim.clear-requests")
        r.add_get("/_sim/cars", self._cars, name="sim.cars")
        r.add_get("/_sim/outbox", self._outbox, name="sim.outbox")
        r.add_get("/_sim/faults", self._faults, name="sim.faults")
        r.add_post("/_sim/faults", self._add_faults, name="sim.add-faults")
        r.add_delete("/_sim/faults", self._clear_faults, name="sim.clear-faults")
        r.add_get("/_sim/clock", self._clock, name="sim.clock")
        r.add_post("/_sim/clock", self._set_clock, name="sim.set-clock")
        r.add_post("/_sim/commands", self._set_command, name="sim.commands")
        r.add_post("/_sim/accounts", self._set_account, name="sim.accounts")
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: a free port) and return the base URL."""
        # No access log: its lines would hold VINs and tokens in query strings.
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"
        if self.tls:
            material = self.tls_material = self.tls_material or make_tls_material()
            for name, brand in self.brands.items():
                served = await brand.start_tls(str(bound[0]), material.server_context())
                if served:
                    self._tls_servers[name] = served
        return self.url

    async def close(self) -> None:
        for brand in self.brands.values():
            await brand.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.tls_material is not None:
            self.tls_material.remove()
            self.tls_material = None
        self._tls_servers.clear()

    async def __aenter__(self) -> Simulator:
        if self.url is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def servers(self, brand: str, base_url: str | None = None) -> dict[str, str]:
        """The ``servers=`` mapping that points a brand's client at this simulator."""
        base = (base_url or self.url or "").rstrip("/")
        if not base:
            raise RuntimeError("the simulator is not serving yet")
        return {**servers_for(brand, base), **self._tls_servers.get(brand, {})}

    # -- Python controls -------------------------------------------------------------------------------

    def fault(self, route: str = "*", kind: str | FaultKind = FaultKind.STATUS, **options: Any) -> Fault:
        """Script trouble for matching requests (see :class:`~evclient.simulator.faults.Fault`)."""
        fault = Fault(kind=FaultKind(kind), route=route, **options)
        self.faults.add(fault)
        return fault

    def requests(self, *, brand: str | None = None, account: str | None = None, route: str | None = None) -> list[
        LogEntry
    ]:
        return [
            e
            for e in self.log
            if (brand is None or e.brand == brand)
            and (account is None or e.account == account)
            and (route is None or e.route == route)
        ]

    def max_in_window(self, seconds: float = 3600.0, **filters: Any) -> int:
        """The most requests (matching ``filters``) the server received in any window of ``seconds``."""
        return most_in_any_window((e.t for e in self.requests(**filters)), seconds)

    # -- the gate every brand request passes -----------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.name
        if route is None or route.startswith("sim."):
            return await handler(request)
        brand = self.brands[route.split(".", 1)[0]]
        account = await brand.identify(request, self.world)
        now = self.world.clock.wall()
        entry = LogEntry(now, brand.name, account, request.method, request.path, route, query=dict(request.query))
        self.log.append(entry)
        try:
            if account is not None:
                wait = self.quotas[brand.name].hit(account, now)
                if wait is not None:
                    entry.fault = "quota"
                    response = brand.quota_response(wait)
                    entry.status = response.status
                    return response
            fault = self.faults.take(route, account)
            label = None if fault is None else fault.kind.value
            # Random faults model a web server's trouble; a stream's WebSocket is a broker's door, whose trouble the
            # brand models itself (an outage drops and refuses connections at the MQTT level).
            if fault is None and self.chaos is not None and not route.endswith(".stream"):
                fault = self.chaos.pick()
                label = None if fault is None else f"chaos:{fault.kind.value}"
            if fault is None:
                response = await handler(request)
            else:
                entry.fault = label
                response = await self._apply(fault, brand, account, request, handler)
        except web.HTTPException as exc:
            entry.status = exc.status
            raise
        except ConnectionError:
            # The client hung up mid-request (a time-out, a dropped connection): nobody hears an answer.
            entry.status = 499
            return web.Response(status=499)
        entry.status = response.status
        return response

    async def _apply(
        self, fault: Fault, brand: SimBrand, account: str | None, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        kind = fault.kind
        if fault.delay and kind is not FaultKind.SLOW_BODY:
            await asyncio.sleep(fault.delay)
        if kind is FaultKind.QUOTA:
            return brand.quota_response(fault.retry_after)
        if kind is FaultKind.EMPTY:
            return web.Response(body=b"", status=fault.effective_status, headers=fault.headers)
        if kind is FaultKind.DROP:
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # aiohttp ends the handler quietly; the client sees a broken connection
        if kind is FaultKind.STATUS:
            body = fault.body if fault.body is not None else {"message": "simulated failure"}
            return web.json_response(body, status=fault.effective_status, headers=fault.headers)
        if kind is FaultKind.RAW:
            raw = fault.body if isinstance(fault.body, bytes) else str(fault.body or "").encode()
            return web.Response(body=raw, status=fault.effective_status, headers=fault.headers)
        if kind is FaultKind.HTML:
            page = _HTML_PAGE.format(status=fault.effective_status)
            return web.Response(text=page, status=fault.effective_status, content_type="text/html",
                                headers=fault.headers)
        if kind is FaultKind.MALFORMED:
            return web.Response(body=b'{"data": {"attributes": ', status=fault.effective_status,
                                content_type="application/json", headers=fault.headers)
        if kind is FaultKind.REVOKE and account is not None:
            self.world.revoke(brand.name, account, refresh=fault.revoke_refresh)
        response = await handler(request)
        if kind is FaultKind.TRUNCATED and isinstance(response, web.Response) and response.body is not None:
            body = bytes(response.body)  # type: ignore[arg-type]
            return web.Response(body=body[: len(body) // 2], status=response.status,
                                content_type=response.content_type)
        if kind is FaultKind.SLOW_BODY and isinstance(response, web.Response) and response.body is not None:
            return await _trickle(request, response, fault.delay)
        return response

    # -- /_sim/ ----------------------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.Response:
        base = f"{request.scheme}://{request.host}"
        return _json({"brands": {name: servers_for(name, base) for name in self.brands}})

    async def _requests(self, request: web.Request) -> web.Response:
        q = request.query
        entries = self.requests(brand=q.get("brand"), account=q.get("account"), route=q.get("route"))
        since = float(q["since"]) if "since" in q else None
        return _json({"requests": [attrs.asdict(e) for e in entries if since is None or e.t >= since]})

    async def _clear_requests(self, request: web.Request) -> web.Response:
        self.log.clear()
        return _json({"cleared": True})

    async def _cars(self, request: web.Request) -> web.Response:
        self.world.advance_all()
        brand = request.query.get("brand")
        return _json({"cars": [c.to_json() for c in self.world.cars.values() if brand in (None, c.brand)]})

    async def _outbox(self, request: web.Request) -> web.Response:
        to = request.query.get("to")
        return _json({"messages": [attrs.asdict(m) for m in self.world.messages(to)]})

    async def _faults(self, request: web.Request) -> web.Response:
        return _json({"faults": [f.to_json() for f in self.faults]})

    async def _add_faults(self, request: web.Request) -> web.Response:
        data = await json_body(request)
        items = data if isinstance(data, list) else [data]
        try:
            faults = [Fault.from_json(item) for item in items]
        except (ValueError, TypeError) as err:
            return _json({"error": str(err)}, status=400)
        self.faults.add(*faults)
        return _json({"faults": [f.to_json() for f in self.faults]})

    async def _clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return _json({"faults": []})

    async def _clock(self, request: web.Request) -> web.Response:
        return _json({"wall": self.world.clock.wall(), "speed": self.world.clock.speed})

    async def _set_clock(self, request: web.Request) -> web.Response:
        data = await json_body(request)
        try:
            if not isinstance(data, dict) or not set(data) <= {"advance", "speed"}:
                raise ValueError("expected {\"advance\": seconds} and/or {\"speed\": factor}")
            if "speed" in data:
                self.world.clock.set_speed(float(data["speed"]))
            if "advance" in data:
                self.world.clock.advance(float(data["advance"]))
        except (ValueError, TypeError) as err:
            return _json({"error": str(err)}, status=400)
        return _json({"wall": self.world.clock.wall(), "speed": self.world.clock.speed})

    async def _set_command(self, request: web.Request) -> web.Response:
        data = await json_body(request)
        try:
            if not isinstance(data, dict) or not isinstance(data.get("command"), str):
                raise ValueError("expected {\"command\": name, \"vin\"?, \"latency\"?, \"outcome\"?, \"execution\"?}")
            execution = data.get("execution")
            script = CommandScript(latency=float(data.get("latency", 20.0)), outcome=str(data.get("outcome", "auto")),
                                   execution=None if execution is None else float(execution))
        except (ValueError, TypeError) as err:
            return _json({"error": str(err)}, status=400)
        self.world.scripts[(str(data.get("vin", "*")), data["command"])] = script
        return _json({"command": data["command"], **attrs.asdict(script)})


    async def _set_account(self, request: web.Request) -> web.Response:
        """Change a simulated account's brand settings, e.g. the BMW i Remote app key an old client carries."""
        data = await json_body(request)
        account = None
        if isinstance(data, dict) and isinstance(data.get("extra"), dict):
            account = self.world.account(str(data.get("brand")), str(data.get("username")))
        if account is None:
            return _json({"error": "expected {\"brand\", \"username\" of an account, \"extra\": {...}}"},
                         status=400)
        account.extra.update(data["extra"])
        return _json({"brand": account.brand, "username": account.username, "changed": sorted(data["extra"])})


def servers_for(brand: str, base_url: str) -> dict[str, str]:
    """A brand's server names mapped onto a simulator at ``base_url``."""
    sims = all_brands()
    if brand not in sims:
        raise ValueError(f"the simulator does not serve {brand!r} yet")
    base = base_url.rstrip("/")
    # A mount written "ws:/path" is a WebSocket on the same port (CarData's MQTT stream).
    return {server: ("ws" + base.removeprefix("http") + prefix[3:]) if prefix.startswith("ws:") else base + prefix
            for server, prefix in sims[brand].mounts.items()}


async def _trickle(request: web.Request, response: web.Response, seconds: float) -> web.StreamResponse:
    """Send ``response``'s headers now and its body in ten pieces spread over ``seconds``."""
    body = bytes(response.body)  # type: ignore[arg-type]
    stream = web.StreamResponse(status=response.status, headers={"Content-Type": response.content_type})
    stream.content_length = len(body)
    await stream.prepare(request)
    step = max(1, len(body) // 10)
    try:
        for start in range(0, len(body), step):
            await asyncio.sleep(seconds / 10)
            await stream.write(body[start:start + step])
        await stream.write_eof()
    except ConnectionError:
        pass  # the client gave up waiting, as it should
    return stream


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=str))

