"""An account's parts, made and wired in one place.

Each part gets what it needs — the pipeline, the reader, a door at a priority, a view of the cars, the bus — from
here, never a callback into the :class:`~evclient.account.Account`; the account keeps their lifecycle and the
listing. What the parts share lives here: the cars (one dict, changed in place, so every view of it stays true),
the doors, and the tasks started on the account's behalf.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .budget import Budget
from .clock import Clock
from .command_runner import CommandRunner
from .door import Door
from .endpoint import Endpoint
from .errors import InvalidInputError
from .events import BudgetChanged, EventBus
from .listeners import StatusWatch
from .pipeline import RequestPipeline
from .polling import Polling
from .reads import Reader
from .scheduler import Priority, Scheduler
from .state.keeper import StateKeeper
from .streams import StreamRunner
from .vehicle import Vehicle

if TYPE_CHECKING:
    from .api import Api, VehicleInfo
    from .brand import Session
    from .state.base import AccountStore
    from .transport import Transport

T = TypeVar("T")

_BUDGET_CHANGED = BudgetChanged()


class Tasks:
    """Tasks started on the account's behalf (a listing, a command's follow-up), cancelled when it closes."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = self._clock.loop.create_task(coro)
        self._running.add(task)
        task.add_done_callback(self._reap)
        return task

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here; whoever awaits the task still gets it

    async def cancel(self) -> None:
        tasks = [t for t in self._running if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


class Parts:
    """One account's parts (see :mod:`evclient.account` for what each does)."""

    def __init__(self, session: Session, *, transport: Transport, servers: Mapping[str, str] | None,
                 tokens: Mapping[str, Any] | None, budget: Budget | None, clock: Clock | None,
                 command_history: Mapping[str, Sequence[Any]] | None, store: AccountStore | None) -> None:
        self.session = session
        self.brand = brand = session.brand
        self.clock = clock = clock or Clock()
        self.events = events = EventBus()
        self.servers = servers = _servers(session, servers)
        budget = budget or Budget()
        self.scheduler = Scheduler(budget.resolve(brand.windows), loop=clock.loop)
        if budget.state:
            self.scheduler.import_state(budget.state, clock.wall(), max_pause=brand.max_pause,
                                        legacy_server=brand.poll_server)
        self.scheduler.on_change = lambda: events.emit(_BUDGET_CHANGED)
        if tokens is not None and tokens.get("brand", brand.name) != brand.name:
            raise InvalidInputError(f"these tokens belong to {tokens.get('brand')!r}, not {brand.name!r}")
        self.auth = session.create_auth(tokens)
        self.auth.events = events
        #: The listed cars by VIN: changed in place only (the doors, the poller and the stream hold views of it).
        self.cars: dict[str, Vehicle] = {}
        self.tasks = Tasks(clock)
        self.pipeline = RequestPipeline(session, auth=self.auth, scheduler=self.scheduler, transport=transport,
                                        servers=servers, clock=clock, cooldown=budget.cooldown,
                                        retries=budget.retries, api_for=self.api, events=events)
        self.reader = Reader(session, self.pipeline, clock, events, api_for=self.api)
        self._doors = {p: Door(self.pipeline, self.reader, self.cars.get, p) for p in Priority}
        self.commands = CommandRunner(session, clock, api_for=self.api, spawn=self.tasks.spawn,
                                      is_closed=lambda: self.pipeline.closed, check_open=self.pipeline.check_open)
        if command_history:
            self.commands.load(command_history)
        self.stream = StreamRunner(session, door=self.api(Priority.REFRESH), cars=self._cars, events=events,
                                   clock=clock)
        poll_windows = self.scheduler.windows_for(brand.poll_server)
        self.polls = Polling(
            interval=max(w.seconds / w.poll_limit for w in poll_windows) if poll_windows else 60.0,
            events=events, reader=self.reader, clock=clock, cars=self._cars, streamed=self.stream.covers_now,
            # Requests to these servers spend the polls' budget (they share a window with the poll server).
            poll_budget_servers={name for name in servers
                                 if set(self.scheduler.windows_for(name)) & set(poll_windows)},
            name=f"evclient-{brand.name}-poller")
        self.status = StatusWatch(events)
        self.keeper = StateKeeper(events, store, tokens=self.tokens, budget=self.budget_state, wall=clock.wall)

    def api(self, priority: Priority) -> Api:
        """Brand code's door into the account at ``priority``."""
        return self._doors[priority]

    def tokens(self) -> dict[str, Any]:
        return {"brand": self.brand.name, **self.auth.tokens()}

    def budget_state(self) -> dict[str, Any]:
        return self.scheduler.export_state(self.clock.wall())

    def vehicle(self, info: VehicleInfo) -> Vehicle:
        """A new car of the listing, its endpoints as its model has them."""
        brand = self.brand
        specs = [brand.endpoint_for(info, spec) for spec in brand.endpoints]
        endpoints: dict[str, Endpoint[Any]] = {spec.name: Endpoint(spec, brand.endpoint_supported(info, spec))
                                               for spec in specs}
        return Vehicle(info, endpoints, brand=brand, events=self.events, reader=self.reader, commands=self.commands)

    def _cars(self) -> Mapping[str, Vehicle]:
        return self.cars


def _servers(session: Session, given: Mapping[str, str] | None) -> dict[str, str]:
    defaults = session.servers()
    unknown = sorted(set(given or {}) - set(defaults))
    if unknown:
        # A misspelt name would silently leave that traffic (and the credentials) on the real server.
        raise InvalidInputError(f"{session.brand.name} has no server named {', '.join(map(repr, unknown))}; "
                                f"its servers are {', '.join(sorted(defaults))}")
    return {**defaults, **(given or {})}
