"""The account: one login at one brand — its lifecycle and its cars; the parts do the work.

The parts (made and wired in :mod:`evclient.parts`, talking through one event bus, :mod:`evclient.events`):

* :class:`~evclient.pipeline.RequestPipeline` — every request: auth → slot → transport → decode → retry;
* :class:`~evclient.reads.Reader` — endpoint reads (single flight), stored in their car;
* :class:`~evclient.vehicle.Vehicle` — a car: the one way in for its values, its status and its commands;
* :class:`~evclient.command_runner.CommandRunner` — commands, their channels and each car's history;
* :class:`~evclient.polling.Polling` — the poll plan and poller, kept by what the bus tells;
* :class:`~evclient.streams.StreamRunner` — the brand's stream;
* :class:`~evclient.state.keeper.StateKeeper` — tokens and budget written through to the account's store.

Calls run downward: a car reads through the reader, commands through the runner, brand code through its door
(:class:`~evclient.door.Door`); what happened comes back as events, never as calls into the account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .brand import Session, VehicleInfo
from .budget import Budget
from .clock import Clock
from .delays import CommandTrace
from .diagnostics import account_diagnostics
from .errors import CommandNotSupported, InvalidInputError, reading
from .events import StreamChanged
from .listeners import Listener, StatusListener, subscribe_values
from .parts import Parts
from .redact import mask_vin
from .scheduler import BudgetStatus, Priority
from .state.keeper import TokensListener
from .state.values import export_values, import_values
from .streams import StreamListener, StreamState
from .transport import Transport
from .vehicle import Vehicle

if TYPE_CHECKING:
    from .api import Api
    from .state.base import AccountStore

__all__ = ["Account", "Budget", "CommandNotSupported", "TokensListener"]

class Account:
    """One account at one brand. Create it with :func:`evclient.connect`.

    ``await vehicles()`` lists the cars; ``await start()`` polls their endpoints in the background within
    the budget (and opens the brand's stream, where it has one); ``subscribe(callback)`` hears about changed
    values; ``tokens`` is what to store to resume without the password; ``budget`` shows the live figures;
    ``events`` is the bus every part tells what happened on.
    """

    def __init__(self, session: Session, *, transport: Transport, servers: Mapping[str, str] | None = None,
                 tokens: Mapping[str, Any] | None = None, budget: Budget | None = None, clock: Clock | None = None,
                 command_history: Mapping[str, Sequence[Any]] | None = None,
                 vehicles: Sequence[Mapping[str, Any]] | None = None, store: AccountStore | None = None) -> None:
        self._parts = parts = Parts(session, transport=transport, servers=servers, tokens=tokens, budget=budget,
                                    clock=clock, command_history=command_history, store=store)
        #: The brand's declaration (shared by every account) and this account's side of it.
        self.brand, self.session = parts.brand, session
        self.clock, self.events, self.auth = parts.clock, parts.events, parts.auth
        self.scheduler, self.pipeline, self.reader = parts.scheduler, parts.pipeline, parts.reader
        self.commands, self.stream, self.polls, self.keeper = parts.commands, parts.stream, parts.polls, parts.keeper
        #: Where the account's state is written through as it changes (``None``: this process only).
        self.state_store = store
        self._vehicles = parts.cars
        self._listed = False
        self._listing: asyncio.Task[dict[str, Vehicle]] | None = None
        if vehicles is not None:
            self._vehicles.update(self._build_vehicles(self._import_listing(vehicles)))
            self._listed = True

    def __repr__(self) -> str:
        return f"<Account {self.brand.name} vehicles={len(self._vehicles)}>"

    # -- figures and state -----------------------------------------------------------------------------

    @property
    def tokens(self) -> dict[str, Any]:
        """A JSON-serialisable dict that ``connect(tokens=...)`` accepts to resume without the password."""
        return self._parts.tokens()

    def subscribe_tokens(self, callback: TokensListener) -> Callable[[], None]:
        """Call ``callback(tokens)`` as soon as the tokens change (a login, a refresh, a rotated refresh
        token), so they are saved at once and a crash never forces a new login. Returns an unsubscriber."""
        return self.keeper.subscribe_tokens(callback)

    @property
    def budget(self) -> BudgetStatus:
        """Live figures: used / limit per window, queue length, pauses."""
        return self.scheduler.status()

    def budget_state(self) -> dict[str, Any]:
        """The admission log to pass back as ``Budget(state=...)`` after a restart."""
        return self._parts.budget_state()

    @property
    def servers(self) -> dict[str, str]:
        """The base URL of each of the brand's servers this account talks to."""
        return dict(self.pipeline.servers)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (every call then raises :class:`~evclient.AccountClosed`)."""
        return self.pipeline.closed

    def left_out(self) -> dict[str, str]:
        """Cars the login sees that this account leaves out (VIN → why), as last listed."""
        return dict(self.session.left_out())

    def poll_period(self, vehicle: Vehicle, name: str) -> float:
        """Seconds between two background polls of one endpoint of ``vehicle`` at the planned rate (whether
        or not the account polls now): how long a value of it stays as fresh as polling would keep it."""
        return self.polls.period(vehicle, name)

    @property
    def polling(self) -> bool:
        """Whether background polling runs (between :meth:`start` and :meth:`stop`)."""
        return self.polls.running

    @property
    def poll_interval(self) -> float:
        """Seconds between two background polls of this account (all cars together)."""
        return self.polls.plan.interval

    def values_state(self) -> dict[str, dict[str, Any]]:
        """Each car's last values read by request (VIN → endpoint → the answer and its times), to pass back
        to :meth:`load_values` in a later process so a fresh value need not be read again."""
        return export_values(self._vehicles.values())

    def load_values(self, saved: Mapping[str, Any]) -> int:
        """Take back what :meth:`values_state` gave (values older than what is held are left out); returns how
        many values were taken. A saved answer that no longer parses is skipped."""
        return import_values(self._vehicles, saved, self.clock.wall())

    def recent_commands(self, vin: str) -> tuple[CommandTrace, ...]:
        """The car's last commands (newest last), as the delay policies see them."""
        return self.commands.recent(vin)

    def command_history(self) -> dict[str, list[dict[str, Any]]]:
        """Each car's recent commands (VIN → traces), to pass back as ``connect(command_history=...)``, so that
        the delay policies keep what they learnt of each car's latency."""
        return self.commands.export()

    async def diagnostics(self) -> dict[str, Any]:
        """A JSON-serialisable report for bug reports: budget, stream, each car's endpoints (support, age,
        source, last error, last raw body), status and recent commands — with VINs, registrations, radio
        codes, positions, addresses, account ids, e-mail addresses and every token redacted. Sends no
        request."""
        return account_diagnostics(self)

    @property
    def stream_state(self) -> StreamState:
        """The brand's stream: whether it is supported, connected since when, messages, reconnects, last error."""
        return self.stream.state

    # -- listeners ---------------------------------------------------------------------------------------

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(vehicle, changed_endpoint_names)`` after each change; returns an unsubscriber.

        A change is a new value from any source (poll, read or push), or an endpoint that starts failing or
        recovers (its ``last_error``), so a listener can mark what an endpoint feeds as stale without polling
        anything itself.
        """
        return subscribe_values(self.events, callback)

    def subscribe_status(self, callback: StatusListener) -> Callable[[], None]:
        """Call ``callback(vehicle, status, changed_fields)`` whenever a car's :class:`VehicleStatus` changes
        (``changed_fields`` names the fields whose value moved); returns an unsubscriber."""
        return self._parts.status.subscribe(callback)

    def subscribe_stream(self, callback: StreamListener) -> Callable[[], None]:
        """Call ``callback(state)`` whenever the stream connects, disconnects or fails; returns an unsubscriber."""
        return self.events.on(StreamChanged, lambda event: callback(event.state))

    # -- login and cars ------------------------------------------------------------------------------------

    async def login(self) -> None:
        """Log in (or check the stored tokens), clearing an earlier authentication failure."""
        self.pipeline.check_open()
        self.pipeline.auth_error = None
        await self.pipeline.ensure_auth(Priority.REFRESH)

    async def account_choices(self) -> list[tuple[str, str]]:
        """The brand's sub-accounts this login can use, as ``(id, label)`` pairs (e.g. MyRenault's Kamereon
        accounts; pass the chosen id back as ``connect(account_id=...)``). Empty where a brand has none."""
        self.pipeline.check_open()
        return await self.session.account_choices(self.api(Priority.REFRESH))

    async def vehicles(self, *, refresh: bool = False) -> list[Vehicle]:
        """The account's cars (listed once, then cached; ``refresh=True`` lists them again)."""
        self.pipeline.check_open()
        if not self._listed or refresh:
            if self._listing is None or self._listing.done():
                self._listing = self._parts.tasks.spawn(self._list_vehicles())
            listed = await asyncio.shield(self._listing)
            self._vehicles.clear()  # in place: the parts hold views of this dict
            self._vehicles.update(listed)
            self._listed = True
            if self.polls.running:
                self.polls.plan_targets()
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

    def cached_vehicles(self) -> list[Vehicle]:
        """The cars as last listed, without a request (empty before the first listing)."""
        return list(self._vehicles.values())

    def vehicle_listing(self) -> list[dict[str, Any]]:
        """The cars as last listed (JSON-serialisable), to pass back as ``connect(vehicles=...)`` so that a
        short-lived process (a CLI run, a script) need not spend a request listing them again."""
        return [vehicle.info.to_json() for vehicle in self._vehicles.values()]

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start polling every supported endpoint of every car, evenly spread over the budget, and open the
        brand's stream where it has one (its endpoints are then polled only while it is down)."""
        self.pipeline.check_open()
        await self.vehicles()
        self.pipeline.check_open()  # closed while the cars were listed: start nothing
        self.stream.start()  # first: the endpoints it will keep fresh wait for it instead of being polled
        self.polls.start()

    async def stop(self) -> None:
        """Stop background polling and the stream (requests under way are cancelled)."""
        await self.stream.stop()
        await self.polls.stop()

    async def close(self) -> None:
        """Stop everything this account runs and close the HTTP session if the account opened it.

        Callers waiting for a slot, and every later call, get :class:`~evclient.AccountClosed`; nothing more
        is sent. Closing twice is harmless.
        """
        self.pipeline.shut()  # first: nothing may be sent while the rest winds down
        await self.stop()
        await self._parts.tasks.cancel()
        await self.pipeline.close()
        self.keeper.tokens_changed()
        if self.state_store is not None and self._vehicles:
            self.keeper.keep({"commands": self.command_history(), "values": self.values_state()})

    async def __aenter__(self) -> Account:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def api(self, priority: Priority) -> Api:
        """Brand code's door into this account at ``priority``."""
        return self._parts.api(priority)

    # -- inside --------------------------------------------------------------------------------------------

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
            infos = await self.session.list_vehicles(self.api(Priority.REFRESH))
        built = self._build_vehicles(infos)
        self.keeper.keep({"vehicles": {"listed_at": self.clock.wall(),
                                       "cars": [v.info.to_json() for v in built.values()]}})
        return built

    def _build_vehicles(self, infos: Sequence[VehicleInfo]) -> dict[str, Vehicle]:
        # A car listed again keeps its values, listeners and channels.
        return {info.vin: self._vehicles.get(info.vin) or self._parts.vehicle(info) for info in infos}
