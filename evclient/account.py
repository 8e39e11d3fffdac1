"""The account: one login at one brand, composed of the parts that do the work.

* :class:`~evclient.pipeline.RequestPipeline` — every request: auth → slot → transport → decode → retry;
* :class:`~evclient.reads.Reader` — endpoint reads (single flight) into the value store;
* :class:`~evclient.store.ValueStore` — the one way in for values, and the listeners;
* :class:`~evclient.command_runner.CommandRunner` — commands, their channels and each car's history;
* the poll plan and poller (:mod:`evclient.pollplan`), and the brand's stream (:mod:`evclient.streams`).

The account holds the cars, wires the parts together and owns their lifecycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .brand import Brand, VehicleInfo
from .clock import Clock
from .command import CommandHandle, ProgressCallback
from .command_runner import CommandNotSupported, CommandRunner
from .delays import CommandTrace
from .diagnostics import account_diagnostics
from .endpoint import Endpoint
from .errors import EVClientError, InvalidInputError, reading
from .pipeline import RequestPipeline
from .pollplan import Poller, PollPlan
from .reads import Reader
from .redact import mask_vin
from .scheduler import BudgetStatus, Priority, Scheduler, Window, check_state
from .state.base import AccountStore
from .store import Listener, Source, StatusListener, ValueStore
from .streams import StreamListener, StreamRunner, StreamState
from .transport import Request, Response, Transport, WebSocket
from .validate import positive_seconds, whole
from .vehicle import Vehicle

if TYPE_CHECKING:
    from .brand import Api

__all__ = ["Account", "BoundApi", "Budget", "CommandNotSupported", "TokensListener"]

_LOG = logging.getLogger("evclient")

#: Called with the account's new ``tokens`` each time they change (a login, a refresh, a rotation).
TokensListener = Callable[[dict[str, Any]], None]


@attrs.frozen(kw_only=True)
class Budget:
    """How an account spends its requests.

    ``windows`` replaces the brand's windows; ``reserve`` sets the command reserve of every window
    (default: the brand's, 6 of 60); ``state`` is what :meth:`Account.budget_state` exported before a
    restart; ``cooldown`` overrides the pause after a quota error without Retry-After; ``retries`` is how
    often an idempotent read is retried on a temporary failure (each retry spends a slot).
    """

    windows: Sequence[Window] | None = None
    reserve: int | None = None
    state: Mapping[str, Any] | None = None
    cooldown: float | None = None
    retries: int = 2

    def __attrs_post_init__(self) -> None:
        if self.reserve is not None:
            whole("Budget.reserve", self.reserve, 0)
        if self.cooldown is not None and positive_seconds("Budget.cooldown", self.cooldown) < 1:
            raise InvalidInputError(f"Budget.cooldown must be at least 1 second, got {self.cooldown!r}")
        whole("Budget.retries", self.retries, 0, 10)
        if self.windows is not None and not all(isinstance(w, Window) for w in self.windows):
            raise InvalidInputError("Budget.windows must be evclient.Window objects")
        if self.state is not None:
            check_state(self.state)  # what Account.budget_state() returned, or an InvalidInputError now

    def resolve(self, brand_windows: Sequence[Window]) -> tuple[Window, ...]:
        windows = tuple(self.windows or brand_windows)
        if self.reserve is not None:
            for w in windows:
                if self.reserve >= w.limit:
                    raise InvalidInputError(f"Budget.reserve {self.reserve} leaves nothing for polling in window "
                                            f"{w.name!r} of {w.limit} requests (at most {w.limit - 1})")
            windows = tuple(attrs.evolve(w, reserve=self.reserve) for w in windows)
        return windows


class BoundApi:
    """The account as brand code sees it: requests at one priority, endpoint reads, pushed values."""

    __slots__ = ("_account", "_priority")

    def __init__(self, account: Account, priority: Priority) -> None:
        self._account = account
        self._priority = priority

    @property
    def clock(self) -> Clock:
        return self._account.clock

    async def request(self, request: Request) -> Response:
        response, _ = await self._account.pipeline.send(request, self._priority)
        return response

    async def fetch(self, vehicle: VehicleInfo, endpoint: str, **params: Any) -> Any:
        return await self._account.reader.fetch(self._account.vehicle_for(vehicle.vin), endpoint, self._priority,
                                                params)

    async def authenticate(self) -> None:
        await self._account.pipeline.ensure_auth(self._priority)
        self._account._check_tokens()

    def websocket(self, server: str, path: str, *, authenticated: bool = True
                  ) -> contextlib.AbstractAsyncContextManager[WebSocket]:
        return self._account.pipeline.websocket(server, path, self._priority, authenticated=authenticated)

    def admitted(self, server: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._account.pipeline.admitted(server, self._priority)

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        return self._account.pipeline.transport.ssl_context

    def server_url(self, server: str) -> str:
        url = self._account.pipeline.servers.get(server)
        if url is None:
            raise InvalidInputError(f"no server named {server!r} for {self._account.brand.name}")
        return url


class Account:
    """One account at one brand. Create it with :func:`evclient.connect`.

    ``await vehicles()`` lists the cars; ``await start()`` polls their endpoints in the background within
    the budget (and opens the brand's stream, where it has one); ``subscribe(callback)`` hears about changed
    values; ``tokens`` is what to store to resume without the password; ``budget`` shows the live figures.
    """

    def __init__(
        self,
        brand: Brand,
        *,
        transport: Transport,
        servers: Mapping[str, str] | None = None,
        tokens: Mapping[str, Any] | None = None,
        budget: Budget | None = None,
        clock: Clock | None = None,
        command_history: Mapping[str, Sequence[Any]] | None = None,
        vehicles: Sequence[Mapping[str, Any]] | None = None,
        store: AccountStore | None = None,
    ) -> None:
        self.brand = brand
        self.clock = clock or Clock()
        defaults = brand.default_servers()
        unknown = sorted(set(servers or {}) - set(defaults))
        if unknown:
            # A misspelt name would silently leave that traffic (and the credentials) on the real server.
            raise InvalidInputError(f"{brand.name} has no server named {', '.join(map(repr, unknown))}; "
                                    f"its servers are {', '.join(sorted(defaults))}")
        servers = {**defaults, **(servers or {})}
        budget = budget or Budget()
        self.scheduler = Scheduler(budget.resolve(brand.windows), loop=self.clock.loop)
        if budget.state:
            self.scheduler.import_state(budget.state, self.clock.wall(), max_pause=brand.max_pause,
                                        legacy_server=brand.poll_server)
        if tokens is not None and tokens.get("brand", brand.name) != brand.name:
            raise InvalidInputError(f"these tokens belong to {tokens.get('brand')!r}, not {brand.name!r}")
        self.auth = brand.create_auth(tokens)
        self.auth.on_renewed = self._check_tokens
        self._apis = {p: BoundApi(self, p) for p in Priority}
        poll_windows = self.scheduler.windows_for(brand.poll_server)
        # Requests to these servers spend the polls' budget (they share a window with the poll server).
        self._poll_budget_servers = {
            name for name in servers if set(self.scheduler.windows_for(name)) & set(poll_windows)
        }
        self.pipeline = RequestPipeline(
            brand, auth=self.auth, scheduler=self.scheduler, transport=transport, servers=servers, clock=self.clock,
            cooldown=budget.cooldown, retries=budget.retries,
            api_for=self.api, on_admitted=self._admitted,
        )
        self.store = ValueStore()
        self.reader = Reader(brand, self.pipeline, self.store, self.clock, on_read=self._read,
                             on_unsupported=self._drop_target, api_for=self.api)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.commands = CommandRunner(brand, self.clock, api_for=self.api, spawn=self._spawn,
                                      is_closed=lambda: self.pipeline.closed)
        if command_history:
            self.commands.load(command_history)
        interval = max(w.seconds / w.poll_limit for w in poll_windows) if poll_windows else 60.0
        self._plan: PollPlan[tuple[str, str]] = PollPlan(interval)
        self._poller = Poller(self._plan, self._poll, name=f"evclient-{brand.name}-poller")
        self._last_admitted: dict[tuple[str, str], float] = {}
        self._tokens_listeners: list[TokensListener] = []
        self._last_tokens = self.tokens
        self._renewals_seen = self.auth.renewals
        self._tokens_dirty = False
        self.stream = StreamRunner(brand, self, clock=self.clock, on_change=self._stream_changed)
        self._vehicles: dict[str, Vehicle] | None = None
        self._listing: asyncio.Task[dict[str, Vehicle]] | None = None
        if vehicles is not None:
            self._vehicles = self._build_vehicles(self._import_listing(vehicles))
        #: Where the account's state is written through as it changes (``None``: this process only).
        self.state_store = store
        if store is not None:
            self.scheduler.on_change = self._budget_changed

    def __repr__(self) -> str:
        return f"<Account {self.brand.name} vehicles={len(self._vehicles or {})}>"

    # -- public surface --------------------------------------------------------------------------------

    @property
    def tokens(self) -> dict[str, Any]:
        """A JSON-serialisable dict that ``connect(tokens=...)`` accepts to resume without the password."""
        return {"brand": self.brand.name, **self.auth.tokens()}

    def subscribe_tokens(self, callback: TokensListener) -> Callable[[], None]:
        """Call ``callback(tokens)`` as soon as the tokens change (a login, a refresh, a rotated refresh
        token), so they are saved at once and a crash never forces a new login. Returns an unsubscriber."""
        self._tokens_listeners.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._tokens_listeners.remove(callback)

        return unsubscribe

    def _budget_changed(self) -> None:
        self._keep({"budget": self.budget_state()})

    def _keep(self, changes: Mapping[str, Any]) -> None:
        """Write ``changes`` through to the account's store; a store that fails is said once per failure."""
        if self.state_store is None:
            return
        try:
            self.state_store.write(changes, self.clock.wall())
        except OSError as err:
            _LOG.warning("could not write the account's state (%s): a crash now would lose what changed",
                         err.strerror or type(err).__name__)

    def _check_tokens(self) -> None:
        if self._renewals_seen == self.auth.renewals and not self._tokens_dirty:
            return  # no renewal since the last look: the tokens are as they were
        self._renewals_seen = self.auth.renewals
        self._tokens_dirty = False
        tokens = self.tokens
        if tokens == self._last_tokens:
            return
        self._last_tokens = tokens
        self._keep({"tokens": tokens})  # first: on disk before the new refresh token is ever used
        for listener in list(self._tokens_listeners):
            try:
                listener(dict(tokens))
            except Exception:
                _LOG.exception("an evclient tokens listener failed")

    @property
    def budget(self) -> BudgetStatus:
        """Live figures: used / limit per window, queue length, pauses."""
        return self.scheduler.status()

    def budget_state(self) -> dict[str, Any]:
        """The admission log to pass back as ``Budget(state=...)`` after a restart."""
        return self.scheduler.export_state(self.clock.wall())

    @property
    def servers(self) -> dict[str, str]:
        """The base URL of each of the brand's servers this account talks to."""
        return dict(self.pipeline.servers)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (every call then raises :class:`~evclient.AccountClosed`)."""
        return self.pipeline.closed

    def cached_vehicles(self) -> list[Vehicle]:
        """The cars as last listed, without a request (empty before the first listing)."""
        return list((self._vehicles or {}).values())

    def left_out(self) -> dict[str, str]:
        """Cars the login sees that this account leaves out (VIN → why), as last listed."""
        return dict(self.brand.left_out())

    def vehicle_listing(self) -> list[dict[str, Any]]:
        """The cars as last listed (JSON-serialisable), to pass back as ``connect(vehicles=...)`` so that a
        short-lived process (a CLI run, a script) need not spend a request listing them again."""
        return [vehicle.info.to_json() for vehicle in (self._vehicles or {}).values()]

    def poll_period(self, vehicle: Vehicle, name: str) -> float:
        """Seconds between two background polls of one endpoint of ``vehicle`` at the planned rate (whether
        or not the account polls now): how long a value of it stays as fresh as polling would keep it."""
        weights = [e.spec.weight for v in (self._vehicles or {}).values() for e in v.endpoints.values()
                   if e.spec.poll and e.supported is not False]
        spec = vehicle.endpoints[name].spec
        return max(self._plan.interval * max(sum(weights), spec.weight) / spec.weight, spec.every or 0.0)

    def values_state(self) -> dict[str, dict[str, Any]]:
        """Each car's last values read by request (VIN → endpoint → the answer and its times), to pass back
        to :meth:`load_values` in a later process so a fresh value need not be read again."""
        saved: dict[str, dict[str, Any]] = {}
        for vehicle in (self._vehicles or {}).values():
            for name, endpoint in vehicle.endpoints.items():
                if endpoint.source not in (Source.POLL, Source.READ) or endpoint.spec.binary or endpoint.raw is None:
                    continue
                saved.setdefault(vehicle.vin, {})[name] = {
                    "raw": endpoint.raw, "fetched_at": endpoint.fetched_at, "measured_at": endpoint.measured_at,
                    "source": endpoint.source}
        return saved

    def load_values(self, saved: Mapping[str, Any]) -> int:
        """Take back what :meth:`values_state` gave (values older than what is held are left out); returns how
        many values were taken. A saved answer that no longer parses is skipped."""
        taken = 0
        for vin, endpoints in (saved.items() if isinstance(saved, Mapping) else ()):
            vehicle = (self._vehicles or {}).get(vin)
            if vehicle is None or not isinstance(endpoints, Mapping):
                continue
            for name, entry in endpoints.items():
                endpoint = vehicle.endpoints.get(name)
                if endpoint is None or endpoint.value is not None or not isinstance(entry, Mapping):
                    continue
                fetched = entry.get("fetched_at")
                if not isinstance(fetched, int | float) or not math.isfinite(fetched):
                    continue
                try:
                    value = endpoint.spec.parse(entry.get("raw"))
                    source = Source(entry.get("source", "read"))
                except Exception as err:  # a saved answer from an older evclient: read it again instead
                    _LOG.debug("a saved %s value no longer parses (%s): it is read again", name, type(err).__name__)
                    continue
                measured = entry.get("measured_at")
                self.store.put(vehicle, endpoint, value, source=source,
                               received_at=min(float(fetched), self.clock.wall()), raw=entry.get("raw"),
                               measured_at=float(measured) if isinstance(measured, int | float) else None)
                taken += 1
        return taken

    def recent_commands(self, vin: str) -> tuple[CommandTrace, ...]:
        """The car's last commands (newest last), as the delay policies see them."""
        return self.commands.recent(vin)

    def command_history(self) -> dict[str, list[dict[str, Any]]]:
        """Each car's recent commands (VIN → traces), to pass back as ``connect(command_history=...)``.

        Delay policies learn a car's latency from them, so a restart keeps polling as sparsely.
        """
        return self.commands.export()

    async def diagnostics(self) -> dict[str, Any]:
        """A JSON-serialisable report for bug reports: budget, stream, each car's endpoints (support, age,
        source, last error, last raw body), status and recent commands — with VINs, registrations, radio
        codes, positions, addresses, account ids, e-mail addresses and every token redacted. Sends no
        request."""
        return account_diagnostics(self)

    @property
    def polling(self) -> bool:
        return self._poller.running

    @property
    def poll_interval(self) -> float:
        """Seconds between two background polls of this account (all cars together)."""
        return self._plan.interval

    @property
    def stream_state(self) -> StreamState:
        """The brand's stream: whether it is supported, connected since when, messages, reconnects, last error."""
        return self.stream.state

    def subscribe_stream(self, callback: StreamListener) -> Callable[[], None]:
        """Call ``callback(state)`` whenever the stream connects, disconnects or fails; returns an unsubscriber."""
        return self.stream.subscribe(callback)

    async def login(self) -> None:
        """Log in (or check the stored tokens), clearing an earlier authentication failure."""
        self.pipeline.check_open()
        self.pipeline.auth_error = None
        self._tokens_dirty = True  # a finished challenge may have set new tokens without a renewal
        try:
            await self.pipeline.ensure_auth(Priority.REFRESH)
        finally:
            self._check_tokens()

    async def account_choices(self) -> list[tuple[str, str]]:
        """The brand's sub-accounts this login can use, as ``(id, label)`` pairs (e.g. MyRenault's Kamereon
        accounts; pass the chosen id back as ``connect(account_id=...)``). Empty where a brand has none."""
        self.pipeline.check_open()
        return await self.brand.account_choices(self._apis[Priority.REFRESH])

    async def vehicles(self, *, refresh: bool = False) -> list[Vehicle]:
        """The account's cars (listed once, then cached; ``refresh=True`` lists them again)."""
        self.pipeline.check_open()
        if self._vehicles is None or refresh:
            if self._listing is None or self._listing.done():
                self._listing = self._spawn(self._list_vehicles())
            self._vehicles = await asyncio.shield(self._listing)
            if self._poller.running:
                self._plan_targets()
        return list(self._vehicles.values())

    async def vehicle(self, vin: str) -> Vehicle:
        """One car by VIN (in any letter case)."""
        if not isinstance(vin, str):
            raise InvalidInputError(f"a VIN is a string, got {type(vin).__name__}")
        wanted = vin.strip().upper()
        for vehicle in await self.vehicles():
            if vehicle.vin.upper() == wanted:
                return vehicle
        raise InvalidInputError(f"no car {mask_vin(vin)} on this account")

    def vehicle_for(self, vin: str) -> Vehicle:
        """A listed car by its exact VIN, without a request (for brand code and streams)."""
        vehicle = (self._vehicles or {}).get(vin)
        if vehicle is None:
            raise InvalidInputError(f"no car {mask_vin(vin)} on this account")
        return vehicle

    async def start(self) -> None:
        """Start polling every supported endpoint of every car, evenly spread over the budget, and open the
        brand's stream where it has one (its endpoints are then polled only while it is down)."""
        self.pipeline.check_open()
        await self.vehicles()
        self.pipeline.check_open()  # closed while the cars were listed: start nothing
        self.stream.start()  # first: the endpoints it will keep fresh wait for it instead of being polled
        self._plan_targets()
        self._poller.start()

    async def stop(self) -> None:
        """Stop background polling and the stream (requests under way are cancelled)."""
        await self.stream.stop()
        await self._poller.stop()

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(vehicle, changed_endpoint_names)`` after each change; returns an unsubscriber.

        A change is a new value from any source (poll, read or push), or an endpoint that starts failing or
        recovers (its ``last_error``), so a listener can mark what an endpoint feeds as stale without polling
        anything itself.
        """
        return self.store.subscribe(callback)

    def subscribe_status(self, callback: StatusListener) -> Callable[[], None]:
        """Call ``callback(vehicle, status, changed_fields)`` whenever a car's :class:`VehicleStatus` changes.

        ``changed_fields`` names the fields whose value moved (e.g. ``{"battery_percent", "range_km"}``);
        returns an unsubscriber.
        """
        return self.store.subscribe_status(callback)

    def push(self, vin: str, endpoint: str, value: Any, *, measured_at: float | None = None,
             raw: Any = None) -> bool:
        """Store a value a stream pushed (the same way in as a poll's); returns whether it changed anything.

        Unknown cars and endpoints are ignored (a stream may speak of cars this login does not list).
        """
        vehicle = (self._vehicles or {}).get(vin)
        target = None if vehicle is None else vehicle.endpoints.get(endpoint)
        if vehicle is None or target is None:
            return False
        changed = self.store.put(vehicle, target, value, source=Source.PUSH, received_at=self.clock.wall(),
                                 measured_at=measured_at, raw=raw)
        self._plan.refreshed((vin, endpoint), self.clock.now())
        return changed

    async def close(self) -> None:
        """Stop everything this account runs and close the HTTP session if the account opened it.

        Callers waiting for a slot, and every later call, get :class:`~evclient.AccountClosed`; nothing more
        is sent. Closing twice is harmless.
        """
        self.pipeline.shut()  # first: nothing may be sent while the rest winds down
        await self.stream.stop()
        await self._poller.stop()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await self.pipeline.close()
        self._tokens_dirty = True
        self._check_tokens()
        if self.state_store is not None and self._vehicles:
            self._keep({"commands": self.command_history(), "values": self.values_state()})

    async def __aenter__(self) -> Account:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- parts' hooks ----------------------------------------------------------------------------------

    def api(self, priority: Priority) -> Api:
        """Brand code's view of this account at ``priority``."""
        return self._apis[priority]

    def _admitted(self, server: str, at: float) -> None:
        if server in self._poll_budget_servers:
            self._plan.consumed(at)
            self._poller.replanned()

    def _read(self, vin: str, name: str, admitted: float, priority: Priority, with_params: bool) -> None:
        self._last_admitted[(vin, name)] = admitted
        if priority is not Priority.POLL and not with_params:
            self._plan.refreshed((vin, name), admitted)
        self._check_tokens()

    async def read_endpoint(self, vehicle: Vehicle, name: str, priority: Priority, params: Mapping[str, Any]) -> Any:
        """Read one endpoint of ``vehicle`` at ``priority`` (what ``Vehicle.refresh`` uses)."""
        return await self.reader.fetch(vehicle, name, priority, params)

    async def start_command(self, vehicle: Vehicle, name: str, params: Mapping[str, Any],
                            progress: ProgressCallback | None, deadline: float | None) -> CommandHandle:
        """Validate and submit a command (what ``Vehicle.start_command`` uses)."""
        self.pipeline.check_open()
        try:
            return await self.commands.start(vehicle, name, params, progress, deadline)
        finally:
            self._check_tokens()

    # -- cars ------------------------------------------------------------------------------------------

    @staticmethod
    def _import_listing(listing: Sequence[Mapping[str, Any]]) -> list[VehicleInfo]:
        if isinstance(listing, str | bytes | Mapping) or not isinstance(listing, Sequence):
            raise InvalidInputError("vehicles must be what Account.vehicle_listing() returned")
        try:
            return [VehicleInfo.from_json(item) for item in listing]
        except ValueError as err:
            raise InvalidInputError(f"vehicles: {err}") from None

    async def _list_vehicles(self) -> dict[str, Vehicle]:
        with reading("vehicles"):
            infos = await self.brand.list_vehicles(self._apis[Priority.REFRESH])
        self._check_tokens()
        built = self._build_vehicles(infos)
        self._keep({"vehicles": {"listed_at": self.clock.wall(), "cars": [v.info.to_json() for v in built.values()]}})
        return built

    def _build_vehicles(self, infos: Sequence[VehicleInfo]) -> dict[str, Vehicle]:
        known = self._vehicles or {}
        result: dict[str, Vehicle] = {}
        for info in infos:
            if info.vin in known:
                result[info.vin] = known[info.vin]
                continue
            specs = [self.brand.endpoint_for(info, spec) for spec in self.brand.endpoints]
            endpoints: dict[str, Endpoint[Any]] = {
                spec.name: Endpoint(spec, self.brand.endpoint_supported(info, spec)) for spec in specs
            }
            result[info.vin] = Vehicle(self, info, endpoints)
        return result

    # -- background polling ----------------------------------------------------------------------------

    def _plan_targets(self, *, resume: bool = False) -> None:
        now = self.clock.now()
        streamed = self.stream.covers_now()
        rejoined = False
        for vehicle in (self._vehicles or {}).values():
            for endpoint in vehicle.endpoints.values():
                if not endpoint.spec.poll or endpoint.supported is False:
                    continue
                key = (vehicle.vin, endpoint.name)
                if endpoint.spec.pushed and streamed:
                    self._plan.remove(key)  # the stream keeps it fresh
                else:
                    rejoined = rejoined or (endpoint.spec.pushed and key not in self._plan)
                    # Due a period after the value we hold (from any source), not at once: a stream that just
                    # went down leaves fresh values behind.
                    last = None if endpoint.fetched_at is None else min(now, self.clock.to_loop(endpoint.fetched_at))
                    self._plan.add(key, now, endpoint.spec.weight, last=last, every=endpoint.spec.every)
        if rejoined and resume:
            # The stream went down: what it kept fresh is polled from now on, not after a full tick (a day's 50
            # calls make a tick half an hour).
            self._plan.resume(now)
        self._poller.replanned()

    def _stream_changed(self) -> None:
        """The stream went up or down: its endpoints leave or rejoin the poll plan."""
        self._check_tokens()
        if self._poller.running:
            self._plan_targets(resume=True)

    def _drop_target(self, vin: str, name: str) -> None:
        if (vin, name) in self._plan:
            _LOG.info("%s is not supported by this car: no longer polled", name)
            self._plan.remove((vin, name))
            self._poller.replanned()

    async def _poll(self, key: tuple[str, str]) -> float | None:
        vin, name = key
        vehicle = self.vehicle_for(vin)
        try:
            await self.reader.fetch(vehicle, name, Priority.POLL, {})
        except EVClientError as err:
            _LOG.debug("poll of %s failed: %s", name, type(err).__name__)
            return None
        return self._last_admitted.get(key)

    # -- housekeeping ----------------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = self.clock.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._reap)
        return task

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here; whoever awaits the task still gets it

