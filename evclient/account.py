"""The account: one login at one brand, its scheduler, its cars and its background polling.

Every request the account makes goes through :meth:`Account._send`: auth, then a slot from the
scheduler, then the transport, then the brand's error decoder; retries and re-authentication loop back
through the same gate, so nothing can bypass the budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .brand import Brand, VehicleInfo
from .clock import Clock
from .command import CommandHandle, CommandResult, CommandSpec, ProgressCallback, _CommandState, run_command
from .delays import CommandTrace
from .endpoint import Endpoint
from .errors import (
    AccountClosed,
    AuthenticationError,
    BudgetExhausted,
    CommandCancelled,
    CommandTimedOut,
    ConnectionFailed,
    EVClientError,
    InvalidInputError,
    NotSupportedError,
    RateLimited,
    TemporaryError,
    reading,
)
from .pollplan import Poller, PollPlan
from .redact import mask_vin
from .scheduler import DEADLINE, BudgetStatus, Priority, Scheduler, Window
from .status import VehicleStatus, changed_fields
from .transport import Request, Response, Transport

if TYPE_CHECKING:
    from .vehicle import Vehicle

_LOG = logging.getLogger("evclient")

Listener = Callable[["Vehicle", frozenset[str]], None]
StatusListener = Callable[["Vehicle", VehicleStatus, frozenset[str]], None]

#: Past commands kept per car for the delay policies (and exported by :meth:`Account.command_history`).
HISTORY_PER_CAR = 20

def clamp_pause(seconds: float | None, default: float, maximum: float) -> float:
    """The pause to take after a server's pushback: its ``Retry-After`` (or ``default`` when it gave none or
    nonsense) held to [1 s, ``maximum``], so neither ``-5`` nor ``1e12`` is taken at its word."""
    if seconds is None or math.isnan(seconds):
        seconds = default
    return min(max(seconds, 1.0), maximum)


class CommandNotSupported(NotSupportedError, InvalidInputError):
    """The car (or brand) has no such command; raised before any request."""


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
        if self.reserve is not None and (isinstance(self.reserve, bool) or not isinstance(self.reserve, int)
                                         or self.reserve < 0):
            raise InvalidInputError(f"Budget.reserve must be a whole number of at least 0, got {self.reserve!r}")
        if self.cooldown is not None and (isinstance(self.cooldown, bool) or not isinstance(self.cooldown, int | float)
                                          or not math.isfinite(self.cooldown) or self.cooldown < 1):
            raise InvalidInputError(f"Budget.cooldown must be a number of seconds of at least 1, got {self.cooldown!r}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 0 <= self.retries <= 10:
            raise InvalidInputError(f"Budget.retries must be a whole number from 0 to 10, got {self.retries!r}")
        if self.windows is not None and not all(isinstance(w, Window) for w in self.windows):
            raise InvalidInputError("Budget.windows must be evclient.Window objects")
        if self.state is not None and not isinstance(self.state, Mapping):
            raise InvalidInputError("Budget.state must be what Account.budget_state() returned")

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
    """The account as brand code sees it: requests at one priority."""

    __slots__ = ("_account", "_priority")

    def __init__(self, account: Account, priority: Priority) -> None:
        self._account = account
        self._priority = priority

    @property
    def clock(self) -> Clock:
        return self._account.clock

    async def request(self, request: Request) -> Response:
        response, _ = await self._account._send(request, self._priority)
        return response

    async def fetch(self, vehicle: VehicleInfo, endpoint: str, **params: Any) -> Any:
        return await self._account._fetch(self._account._vehicle(vehicle.vin), endpoint, self._priority, params)


class Account:
    """One account at one brand. Create it with :func:`evclient.connect`.

    ``await vehicles()`` lists the cars; ``await start()`` polls their endpoints in the background within
    the budget; ``subscribe(callback)`` hears about changed values; ``tokens`` is what to store to resume
    without the password; ``budget`` shows the live figures.
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
    ) -> None:
        self.brand = brand
        self.clock = clock or Clock()
        self._transport = transport
        defaults = brand.default_servers()
        unknown = sorted(set(servers or {}) - set(defaults))
        if unknown:
            # A misspelt name would silently leave that traffic (and the credentials) on the real server.
            raise InvalidInputError(f"{brand.name} has no server named {', '.join(map(repr, unknown))}; "
                                    f"its servers are {', '.join(sorted(defaults))}")
        self._servers = {**defaults, **(servers or {})}
        budget = budget or Budget()
        self.scheduler = Scheduler(budget.resolve(brand.windows), loop=self.clock.loop)
        if budget.state:
            self.scheduler.import_state(budget.state, self.clock.wall(), max_pause=brand.max_pause,
                                        legacy_server=brand.poll_server)
        self._cooldown = min(brand.cooldown if budget.cooldown is None else budget.cooldown, brand.max_pause)
        self._retries = max(0, budget.retries)
        if tokens is not None and tokens.get("brand", brand.name) != brand.name:
            raise InvalidInputError(f"these tokens belong to {tokens.get('brand')!r}, not {brand.name!r}")
        self.auth = brand.create_auth(tokens)
        self._auth_error: AuthenticationError | None = None
        self._vehicles: dict[str, Vehicle] | None = None
        self._listing: asyncio.Task[dict[str, Vehicle]] | None = None
        self._inflight: dict[tuple[Any, ...], asyncio.Future[Any]] = {}
        self._last_admitted: dict[tuple[str, str], float] = {}
        self._listeners: list[Listener] = []
        self._status_listeners: list[StatusListener] = []
        self._statuses: dict[str, VehicleStatus] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._traces: dict[str, deque[CommandTrace]] = {}
        if command_history:
            self._import_history(command_history)
        self._tasks: set[asyncio.Task[Any]] = set()
        poll_windows = self.scheduler.windows_for(brand.poll_server)
        # Requests to these servers spend the polls' budget (they share a window with the poll server).
        self._poll_budget_servers = {
            name for name in self._servers if set(self.scheduler.windows_for(name)) & set(poll_windows)
        }
        interval = max(w.seconds / w.poll_limit for w in poll_windows) if poll_windows else 60.0
        self._plan: PollPlan[tuple[str, str]] = PollPlan(interval)
        self._poller = Poller(self._plan, self._poll, name=f"evclient-{brand.name}-poller")
        self._apis = {p: BoundApi(self, p) for p in Priority}
        self._closed = False
        if vehicles is not None:
            self._vehicles = self._build_vehicles(self._import_listing(vehicles))

    def __repr__(self) -> str:
        return f"<Account {self.brand.name} vehicles={len(self._vehicles or {})}>"

    # -- public surface --------------------------------------------------------------------------------

    @property
    def tokens(self) -> dict[str, Any]:
        """A JSON-serialisable dict that ``connect(tokens=...)`` accepts to resume without the password."""
        return {"brand": self.brand.name, **self.auth.tokens()}

    @property
    def budget(self) -> BudgetStatus:
        """Live figures: used / limit per window, queue length, seconds paused."""
        return self.scheduler.status()

    def budget_state(self) -> dict[str, Any]:
        """The admission log to pass back as ``Budget(state=...)`` after a restart."""
        return self.scheduler.export_state(self.clock.wall())

    @property
    def servers(self) -> dict[str, str]:
        """The base URL of each of the brand's servers this account talks to."""
        return dict(self._servers)

    def vehicle_listing(self) -> list[dict[str, Any]]:
        """The cars as last listed (JSON-serialisable), to pass back as ``connect(vehicles=...)`` so that a
        short-lived process (a CLI run, a script) need not spend a request listing them again."""
        return [vehicle.info.to_json() for vehicle in (self._vehicles or {}).values()]

    @staticmethod
    def _import_listing(listing: Sequence[Mapping[str, Any]]) -> list[VehicleInfo]:
        if isinstance(listing, str | bytes | Mapping) or not isinstance(listing, Sequence):
            raise InvalidInputError("vehicles must be what Account.vehicle_listing() returned")
        try:
            return [VehicleInfo.from_json(item) for item in listing]
        except ValueError as err:
            raise InvalidInputError(f"vehicles: {err}") from None

    def cached_vehicles(self) -> list[Vehicle]:
        """The cars as last listed, without a request (empty before the first listing)."""
        return list((self._vehicles or {}).values())

    def recent_commands(self, vin: str) -> tuple[CommandTrace, ...]:
        """The car's last commands (newest last), as the delay policies see them."""
        return tuple(self._traces.get(vin, ()))

    async def diagnostics(self) -> dict[str, Any]:
        """A JSON-serialisable report for bug reports: budget, each car's endpoints (support, age, last
        error, last raw body), status and recent commands — with VINs, registrations, radio codes, positions,
        addresses, account ids, e-mail addresses and every token redacted. Sends no request."""
        from .diagnostics import account_diagnostics

        return account_diagnostics(self)

    def command_history(self) -> dict[str, list[dict[str, Any]]]:
        """Each car's recent commands (VIN → traces), to pass back as ``connect(command_history=...)``.

        Delay policies learn a car's latency from them, so a restart keeps polling as sparsely.
        """
        return {vin: [trace.to_json() for trace in traces] for vin, traces in self._traces.items() if traces}

    def _import_history(self, history: Mapping[str, Sequence[Any]]) -> None:
        if not isinstance(history, Mapping):
            raise InvalidInputError("command_history must map each VIN to a list of traces")
        for vin, traces in history.items():
            if not isinstance(traces, Sequence) or isinstance(traces, str | bytes):
                raise InvalidInputError("command_history must map each VIN to a list of traces")
            try:
                parsed = [CommandTrace.from_json(trace) for trace in traces]
            except ValueError as err:
                raise InvalidInputError(f"command_history: {err}") from None
            self._history(str(vin)).extend(parsed)

    def _history(self, vin: str) -> deque[CommandTrace]:
        return self._traces.setdefault(vin, deque(maxlen=HISTORY_PER_CAR))

    @property
    def polling(self) -> bool:
        return self._poller.running

    @property
    def poll_interval(self) -> float:
        """Seconds between two background polls of this account (all cars together)."""
        return self._plan.interval

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (every call then raises :class:`~evclient.AccountClosed`)."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise AccountClosed("this account is closed; connect again to use it")

    async def login(self) -> None:
        """Log in (or check the stored tokens), clearing an earlier authentication failure."""
        self._check_open()
        self._auth_error = None
        await self._ensure_auth(Priority.REFRESH)

    async def account_choices(self) -> list[tuple[str, str]]:
        """The brand's sub-accounts this login can use, as ``(id, label)`` pairs (e.g. MyRenault's Kamereon
        accounts; pass the chosen id back as ``connect(account_id=...)``). Empty where a brand has none."""
        self._check_open()
        return await self.brand.account_choices(self._apis[Priority.REFRESH])

    async def vehicles(self, *, refresh: bool = False) -> list[Vehicle]:
        """The account's cars (listed once, then cached; ``refresh=True`` lists them again)."""
        self._check_open()
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

    async def start(self) -> None:
        """Start polling every supported endpoint of every car, evenly spread over the budget."""
        self._check_open()
        await self.vehicles()
        self._check_open()  # closed while the cars were listed: start nothing
        self._plan_targets()
        self._poller.start()

    async def stop(self) -> None:
        """Stop background polling (requests under way are cancelled)."""
        await self._poller.stop()

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(vehicle, changed_endpoint_names)`` after each change; returns an unsubscriber.

        A change is a new value, or an endpoint that starts failing or recovers (its ``last_error``), so a
        listener can mark what an endpoint feeds as stale without polling anything itself.
        """
        self._listeners.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return unsubscribe

    def subscribe_status(self, callback: StatusListener) -> Callable[[], None]:
        """Call ``callback(vehicle, status, changed_fields)`` whenever a car's :class:`VehicleStatus` changes.

        ``changed_fields`` names the fields whose value moved (e.g. ``{"battery_percent", "range_km"}``);
        returns an unsubscriber.
        """
        self._status_listeners.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._status_listeners.remove(callback)

        return unsubscribe

    async def close(self) -> None:
        """Stop everything this account runs and close the HTTP session if the account opened it.

        Callers waiting for a slot, and every later call, get :class:`~evclient.AccountClosed`; nothing more
        is sent. Closing twice is harmless.
        """
        self._closed = True
        self.scheduler.close()
        await self._poller.stop()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await self._transport.close()

    async def __aenter__(self) -> Account:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the request pipeline --------------------------------------------------------------------------

    def api(self, priority: Priority) -> BoundApi:
        """Brand code's view of this account at ``priority``."""
        return self._apis[priority]

    async def _ensure_auth(self, priority: Priority) -> None:
        if self._auth_error is not None:
            # Never retry a refused login on our own: that is how accounts get locked.
            raise self._auth_error
        try:
            with reading("login"):
                await self.auth.ensure(self._apis[priority])
        except AuthenticationError as err:
            self._auth_error = err
            raise

    async def _send(self, request: Request, priority: Priority) -> tuple[Response, float]:
        """Send ``request`` through the scheduler; returns the response and its admission time."""
        self._check_open()
        base = self._servers.get(request.server)
        if base is None:
            raise InvalidInputError(f"no server named {request.server!r} for {self.brand.name}")
        common = self.brand.common_params(request.server)
        attempt = 0
        reauthenticated = False
        deadline = DEADLINE.get()
        while True:
            if request.authenticated:
                if deadline is None:
                    await self._ensure_auth(priority)
                else:
                    await self._ensure_auth_by(priority, deadline)
            slot = await self.scheduler.acquire(priority, request.server, deadline=deadline)
            if request.authenticated and not self.auth.valid(self.clock.wall()):
                # The token expired while this request waited for its slot: renew first.
                slot.cancel()
                continue
            if priority is not Priority.POLL and request.server in self._poll_budget_servers:
                self._plan.consumed(slot.admitted_at)
                self._poller.replanned()
            response: Response | None = None
            try:
                headers = self.auth.headers(request.server) if request.authenticated else None
                response = await self._transport.send(base, request, headers, common)
                error = self.brand.decode_error(response, self.clock.wall())
            except ConnectionFailed as err:
                error = err
            finally:
                slot.release()
            if error is None and response is not None:
                return response, slot.admitted_at
            assert error is not None
            if isinstance(error, RateLimited):
                wait = clamp_pause(error.retry_after, self._cooldown, self.brand.max_pause)
                error.retry_after = wait
                # Only the server that pushed back: a login on another host keeps its own budget going.
                self.scheduler.pause(wait, request.server)
                _LOG.warning("%s: the %s server pushed back; pausing requests to it for %.0f s",
                             self.brand.name, request.server, wait)
                raise error
            if isinstance(error, TemporaryError) and error.retry_after is not None:
                error.retry_after = clamp_pause(error.retry_after, 1.0, self.brand.max_pause)
            if (
                isinstance(error, AuthenticationError)
                and request.authenticated
                and response is not None
                and response.status == 401
                and not reauthenticated
            ):
                reauthenticated = True
                self.auth.invalidate()
                continue
            if isinstance(error, TemporaryError) and request.retryable and attempt < self._retries:
                attempt += 1
                delay = min(2.0**attempt, 30.0)
                if error.retry_after is not None:
                    delay = max(delay, min(error.retry_after, 60.0))
                if deadline is not None and self.clock.now() + delay >= deadline:
                    raise error  # the retry could not happen before the caller's deadline
                await asyncio.sleep(delay)
                self._check_open()
                continue
            raise error

    async def _ensure_auth_by(self, priority: Priority, deadline: float) -> None:
        """:meth:`_ensure_auth`, giving up at ``deadline`` (a renewal another caller leads may take longer)."""
        try:
            async with asyncio.timeout_at(deadline):
                await self._ensure_auth(priority)
        except TimeoutError:
            raise BudgetExhausted("the login did not finish before the deadline", retry_after=None) from None

    # -- endpoints -------------------------------------------------------------------------------------

    def _vehicle(self, vin: str) -> Vehicle:
        vehicle = (self._vehicles or {}).get(vin)
        if vehicle is None:
            raise InvalidInputError(f"no car {mask_vin(vin)} on this account")
        return vehicle

    async def _list_vehicles(self) -> dict[str, Vehicle]:

        with reading("vehicles"):
            infos = await self.brand.list_vehicles(self._apis[Priority.REFRESH])
        return self._build_vehicles(infos)

    def _build_vehicles(self, infos: Sequence[VehicleInfo]) -> dict[str, Vehicle]:
        from .vehicle import Vehicle

        known = self._vehicles or {}
        result: dict[str, Vehicle] = {}
        for info in infos:
            if info.vin in known:
                result[info.vin] = known[info.vin]
                continue
            specs = [self.brand.endpoint_for(info, spec) for spec in self.brand.endpoints]
            endpoints = {
                spec.name: Endpoint(spec, self.brand.endpoint_supported(info, spec)) for spec in specs
            }
            result[info.vin] = Vehicle(self, info, endpoints)
        return result

    async def _fetch(self, vehicle: Vehicle, name: str, priority: Priority, params: Mapping[str, Any]) -> Any:
        endpoint = vehicle.endpoints.get(name)
        if endpoint is None:
            raise InvalidInputError(f"{self.brand.name} has no endpoint {name!r}")
        if endpoint.supported is False:
            raise NotSupportedError(f"{name} is not supported by this car")
        request = endpoint.spec.request(vehicle.info.context, params)  # validates before any request
        key = (vehicle.vin, name, tuple(sorted((request.params or {}).items())))
        while True:
            flight = self._inflight.get(key)
            if flight is None:
                break
            # Someone is reading this already: share the answer rather than spend a request.
            try:
                deadline = DEADLINE.get()
                if deadline is None:
                    return await asyncio.shield(flight)
                try:
                    async with asyncio.timeout_at(deadline):
                        return await asyncio.shield(flight)
                except TimeoutError:
                    raise BudgetExhausted(f"{name}: the shared read had no answer before the deadline "
                                          "(it waits for the budget)", retry_after=None) from None
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if flight.cancelled() and not (task is not None and task.cancelling()):
                    continue  # the reader who led was cancelled, not us: read it ourselves
                raise
        # The first reader reads inline, in its own task (a task per read would cost more than the rest of
        # the read's own work); a future lets later callers share the answer.
        flight = self.clock.loop.create_future()
        self._inflight[key] = flight
        try:
            value = await self._fetch_once(vehicle, endpoint, request, priority, bool(params))
        except Exception as err:
            flight.set_exception(err)
            flight.exception()  # retrieved: the followers (if any) re-raise it themselves
            raise
        else:
            flight.set_result(value)
            return value
        finally:
            if not flight.done():  # cancelled (or interrupted): followers read for themselves
                flight.cancel()
            if self._inflight.get(key) is flight:
                del self._inflight[key]

    async def _fetch_once(
        self, vehicle: Vehicle, endpoint: Endpoint[Any], request: Request, priority: Priority, on_demand_params: bool
    ) -> Any:
        name = endpoint.spec.name
        try:
            response, admitted = await self._send(request, priority)
            body = response.json()
            with reading(name):
                value = endpoint.spec.parse(body)
        except EVClientError as err:
            previous = endpoint.last_error
            endpoint.last_error = err
            if self.brand.is_unsupported(err) and not isinstance(err, InvalidInputError):
                endpoint.supported = False
                self._drop_target(vehicle.vin, name)
            if type(previous) is not type(err):
                # Listeners learn that the endpoint went bad (its value is now stale) without a poll loop of their own.
                self._notify(vehicle, frozenset((name,)))
            raise
        changed = value != endpoint.value or endpoint.last_error is not None
        endpoint.value = value
        endpoint.raw = body
        endpoint.fetched_at = self.clock.to_wall(admitted)
        endpoint.supported = True
        endpoint.last_error = None
        self._last_admitted[(vehicle.vin, name)] = admitted
        if priority is not Priority.POLL and not on_demand_params:
            self._plan.refreshed((vehicle.vin, name), admitted)
        if changed:
            self._notify(vehicle, frozenset((name,)))
        return value

    def _notify(self, vehicle: Vehicle, changed: frozenset[str]) -> None:
        for listener in list(self._listeners):
            try:
                listener(vehicle, changed)
            except Exception:  # one broken listener must not starve the others
                _LOG.exception("an evclient listener failed")
        if not self._status_listeners:
            return
        status = vehicle.status
        moved = changed_fields(self._statuses.get(vehicle.vin), status)
        self._statuses[vehicle.vin] = status
        if not moved:
            return
        for status_listener in list(self._status_listeners):
            try:
                status_listener(vehicle, status, moved)
            except Exception:
                _LOG.exception("an evclient status listener failed")

    # -- background polling ----------------------------------------------------------------------------

    def _plan_targets(self) -> None:
        now = self.clock.now()
        for vehicle in (self._vehicles or {}).values():
            for endpoint in vehicle.endpoints.values():
                if endpoint.spec.poll and endpoint.supported is not False:
                    self._plan.add((vehicle.vin, endpoint.name), now, endpoint.spec.weight)
        self._poller.replanned()

    def _drop_target(self, vin: str, name: str) -> None:
        if (vin, name) in self._plan:
            _LOG.info("%s is not supported by this car: no longer polled", name)
            self._plan.remove((vin, name))
            self._poller.replanned()

    async def _poll(self, key: tuple[str, str]) -> float | None:
        vin, name = key
        vehicle = self._vehicle(vin)
        try:
            await self._fetch(vehicle, name, Priority.POLL, {})
        except EVClientError as err:
            _LOG.debug("poll of %s failed: %s", name, type(err).__name__)
            return None
        return self._last_admitted.get(key)

    # -- commands --------------------------------------------------------------------------------------

    def _command_spec(self, vehicle: Vehicle, name: str) -> CommandSpec:
        for spec in self.brand.commands:
            if spec.name == name:
                if self.brand.command_supported(vehicle.info, spec) is False:
                    raise CommandNotSupported(f"{name} is not supported by this car")
                return spec
        raise CommandNotSupported(f"{self.brand.name} has no command {name!r}")

    async def _start_command(
        self,
        vehicle: Vehicle,
        name: str,
        params: Mapping[str, Any],
        progress: ProgressCallback | None,
        deadline: float | None,
    ) -> CommandHandle:
        self._check_open()
        called = self.clock.now()
        spec = self._command_spec(vehicle, name)
        params = self.brand.command_params(vehicle.info, spec, params)
        prepared = spec.validate(vehicle.info, params)  # raises InvalidInputError before any request
        if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, int | float)
                                     or not math.isfinite(deadline) or deadline <= 0):
            raise InvalidInputError(f"a command deadline must be a positive number of seconds, got {deadline!r}")
        seconds = spec.deadline if deadline is None else float(deadline)
        # The deadline counts from this call: every wait for a slot or for the command channel is inside it.
        deadline_at = called + seconds
        loop = self.clock.loop
        submitted: asyncio.Future[None] = loop.create_future()
        state = _CommandState(submitted=submitted)
        history = self._history(vehicle.vin)
        lock = None
        if spec.lock_key is not None:
            lock = self._locks.setdefault((vehicle.vin, spec.lock_key(prepared)), asyncio.Lock())

        async def run() -> CommandResult:
            DEADLINE.set(deadline_at)
            try:
                if lock is None:
                    return await self._run_command(spec, vehicle, prepared, state, seconds, deadline_at, progress,
                                                   history)
                try:
                    async with asyncio.timeout_at(deadline_at):
                        await lock.acquire()
                except TimeoutError:
                    raise CommandTimedOut(f"{name}: the car's previous command of this kind was still running "
                                          f"at the deadline ({seconds:.0f} s); nothing was sent") from None
                try:
                    return await self._run_command(spec, vehicle, prepared, state, seconds, deadline_at, progress,
                                                   history)
                finally:
                    lock.release()
            except BaseException as err:
                if not submitted.done():  # failed before the server accepted it: the caller hears why
                    submitted.set_exception(err if isinstance(err, Exception) else asyncio.CancelledError())
                    submitted.exception()
                if isinstance(err, asyncio.CancelledError) and self._closed:
                    raise AccountClosed(f"{name}: the account was closed before the command's outcome") from None
                raise

        task = self._spawn(run())
        try:
            await asyncio.shield(submitted)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                if not submitted.done():
                    task.cancel()
                raise
            # Not our caller's cancellation: the account closed, or the command was stopped before submission.
            if self._closed:
                raise AccountClosed(f"{name}: the account was closed before the command was sent") from None
            raise CommandCancelled(f"{name}: stopped before it was sent") from None
        return CommandHandle(name, task, state)

    async def _run_command(
        self,
        spec: CommandSpec,
        vehicle: Vehicle,
        prepared: Any,
        state: _CommandState,
        seconds: float,
        deadline_at: float,
        progress: ProgressCallback | None,
        history: deque[CommandTrace],
    ) -> CommandResult:
        return await run_command(
            spec,
            vehicle.info,
            prepared,
            api_for=self.api,
            state=state,
            deadline=seconds,
            deadline_at=deadline_at,
            progress=progress,
            past=tuple(history),
            remember=history.append,
        )

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
