"""A car of an account: its endpoints (latest values), its status and its commands.

The car is the one way a value reaches an endpoint: background polls, on-demand reads, command confirmation
reads and pushed stream messages all come through :meth:`Vehicle.store`, each with the time it arrived, the
time the car measured it (when known) and its source. A value the car measured earlier than the stored one is
not taken, whatever brought it; a partial value is merged by the endpoint's own rule. Every value stored is
told on the account's event bus once (:class:`~evclient.events.ValueStored`), whatever its source.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .command import CommandHandle, CommandResult, ProgressCallback
from .endpoint import Endpoint, EndpointSpec
from .errors import EVClientError, InvalidInputError, NotSupportedError
from .events import EventBus, ReadFailed, ValueStored
from .redact import mask_vin
from .scheduler import Priority
from .status import FIELDS as STATUS_FIELDS
from .status import StatusBuilder, VehicleStatus

if TYPE_CHECKING:
    from .actions import Action, Range
    from .brand import Brand, VehicleInfo
    from .command_runner import CommandRunner
    from .reads import Reader

T = TypeVar("T")


class Source(enum.StrEnum):
    """What brought a value."""

    POLL = "poll"
    READ = "read"
    PUSH = "push"


class Vehicle:
    """One car. ``endpoints`` maps each endpoint name to its :class:`~evclient.endpoint.Endpoint`."""

    def __init__(self, info: VehicleInfo, endpoints: dict[str, Endpoint[Any]], *, brand: Brand, events: EventBus,
                 reader: Reader, commands: CommandRunner) -> None:
        self.info = info
        self._endpoints = endpoints
        self._brand = brand
        self._events = events
        self._reader = reader
        self._commands = commands
        self._status = StatusBuilder(brand.status_parts(), endpoints)

    def __repr__(self) -> str:
        return f"<Vehicle {mask_vin(self.vin)} model={self.model!r}>"

    @property
    def vin(self) -> str:
        return self.info.vin

    @property
    def model(self) -> str | None:
        """The brand's model code (e.g. ``X102VE``), when the listing gives one."""
        return self.info.model

    @property
    def name(self) -> str | None:
        return self.info.name

    @property
    def endpoints(self) -> Mapping[str, Endpoint[Any]]:
        return self._endpoints

    @property
    def commands(self) -> tuple[str, ...]:
        """Names of the commands this car may accept (those its model is known not to have are left out)."""
        return self._commands.names(self.info)

    @property
    def status(self) -> VehicleStatus:
        """The car's brand-agnostic status from the latest values (no request; see :mod:`evclient.status`).
        Built again only from what changed since it was last asked for."""
        return self._status.current()

    def moved_fields(self) -> frozenset[str]:
        """The status fields whose value moved since this was last asked (for the status listeners)."""
        return self._status.take_moved()

    def value(self, name: str) -> Any:
        """The latest value of an endpoint (``None`` before the first good answer)."""
        endpoint = self._endpoints.get(name)
        return None if endpoint is None else endpoint.value

    async def refresh(self, name: str, /, **params: Any) -> Any:
        """Read one endpoint now (REFRESH priority) and return its parsed value.

        Concurrent refreshes of the same endpoint share one request; the endpoint's next background
        poll moves a full period on, so an on-demand refresh costs no extra request over the day.
        """
        return await self._reader.fetch(self, name, Priority.REFRESH, params)

    async def read(self, spec: EndpointSpec[T], /, **params: Any) -> T:
        """:meth:`refresh` by the brand's ``EndpointSpec`` constant, typed: ``await car.read(BATTERY)`` is a
        ``BatteryStatus`` to a type checker (the string form gives ``Any``)."""
        self._own(spec)
        value: T = await self._reader.fetch(self, spec.name, Priority.REFRESH, params)
        return value

    async def read_status(self, *fields: str) -> VehicleStatus:
        """The status with ``fields`` read now: the endpoints the brand names for each (``Brand.status_reads``;
        a polled field's endpoints otherwise), skipping those this car's model lacks. A field this car does not
        report stays ``None``."""
        unknown = set(fields) - set(STATUS_FIELDS)
        if unknown:
            raise InvalidInputError(f"no status field {', '.join(sorted(unknown))}")
        sources = self.status.sources
        for field in fields:
            names = self._brand.status_reads.get(field) or ((sources[field],) if field in sources else ())
            for name in names:
                endpoint = self._endpoints.get(name)
                if endpoint is None or endpoint.supported is False:
                    continue
                try:
                    await self.refresh(name)
                except NotSupportedError:
                    continue
                if getattr(self.status, field) is not None:
                    break
        return self.status

    def latest(self, spec: EndpointSpec[T], /) -> T | None:
        """The latest value of an endpoint by its spec constant, typed (no request)."""
        self._own(spec)
        endpoint = self._endpoints.get(spec.name)
        return None if endpoint is None else endpoint.value

    def _own(self, spec: EndpointSpec[Any]) -> None:
        """Refuse another brand's constant of the same name: its value type (what a type checker was told)
        is not what this car's endpoint holds."""
        declared = self._brand.endpoints
        if not any(own is spec for own in declared) and spec not in declared:
            brand = self._brand.name
            raise InvalidInputError(f"{spec.name!r} is not one of {brand}'s endpoint constants: use the one from "
                                    f"evclient.brands of {brand}")

    @property
    def actions(self) -> tuple[str, ...]:
        """Names of the typed actions (:mod:`evclient.actions`) this car may run."""
        return tuple(name for name in self._brand.actions if self.can(name))

    def can(self, action: Action | type[Action] | str) -> bool:
        """Whether this car may run ``action`` (its brand maps it to a command the car's model is not known to
        lack); ``act()`` refuses one it cannot before any request."""
        name = action if isinstance(action, str) else action.name
        mapped = self._brand.actions.get(name)
        return mapped is not None and mapped.command in self.commands

    def ranges(self, action: Action | type[Action] | str) -> Mapping[str, Range]:
        """The bounds this car's brand puts on ``action``'s numbers (``{"minimum": Range(15, 45, 5), …}``); empty
        where it puts none, or the car cannot run the action."""
        name = action if isinstance(action, str) else action.name
        mapped = self._brand.actions.get(name)
        return mapped.ranges if mapped is not None and self.can(name) else {}

    async def act(self, action: Action, /, *, progress: ProgressCallback | None = None,
                  deadline: float | None = None) -> CommandResult:
        """Run a typed action to its outcome, as :meth:`command` runs the brand command it maps to; refused with
        ``CommandNotSupported`` (a ``NotSupportedError``) where the car cannot, before any request."""
        name, params = self._brand.command_for(self.info, action)
        return await self.command(name, progress=progress, deadline=deadline, **params)

    async def start_command(
        self, name: str, /, *, progress: ProgressCallback | None = None, deadline: float | None = None, **params: Any
    ) -> CommandHandle:
        """Validate and submit a command; returns once the server accepted it. Await the handle for the result."""
        return await self._commands.start(self, name, params, progress, deadline)

    async def command(
        self, name: str, /, *, progress: ProgressCallback | None = None, deadline: float | None = None, **params: Any
    ) -> CommandResult:
        """Run a command to its outcome: a :class:`CommandResult`, or ``CommandFailed`` / ``CommandTimedOut``.

        ``deadline`` (seconds) counts from this call, waits for budget included. Cancelling this call stops
        following the command (the car may still execute it).
        """
        handle = await self.start_command(name, progress=progress, deadline=deadline, **params)
        try:
            return await handle
        except asyncio.CancelledError:
            # The caller gave up: stop the status reads too, so they free the budget and the command channel.
            handle.cancel()
            raise

    # -- the one way in for values ---------------------------------------------------------------------

    def store(self, name: str, value: Any, *, source: Source, received_at: float, measured_at: float | None = None,
              raw: Any = None, admitted: float | None = None, with_params: bool = False,
              keys: Iterable[str] | None = None) -> bool:
        """Store ``value`` in endpoint ``name`` unless the car measured the stored one later; returns whether
        anything changed. ``keys``: the parts of a partial value this brings (a stream message's keys), so
        the status is built again from those only. Unknown endpoints are ignored (returns ``False``)."""
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            return False
        changed = self._put(endpoint, value, source, received_at, measured_at, raw)
        if changed:
            self._status.touched(name, keys)
        self._events.emit(ValueStored(self, name, source.value, changed, admitted, with_params))
        return changed

    def _put(self, endpoint: Endpoint[Any], value: Any, source: Source, received_at: float,
             measured_at: float | None, raw: Any) -> bool:
        spec = endpoint.spec
        old = endpoint.value
        recovered = endpoint.last_error is not None
        endpoint.supported = True
        endpoint.last_error = None
        if spec.merge is not None and old is not None:
            if measured_at is None and spec.measured is not None:
                # Measured when its newest part was: the part brought, or what was held (never older).
                brought = spec.measured(value)
                held = endpoint.measured_at
                measured_at = held if brought is None else brought if held is None else max(brought, held)
            merged = spec.merge(old, value)
            if type(value) is dict and type(old) is dict and type(merged) is dict:
                # Only the parts it brought can have moved: compared alone, not the whole value.
                changed = recovered or any(merged.get(key) != old.get(key) for key in value)
            else:
                changed = recovered or merged != old
            value = merged
        else:
            if measured_at is None and spec.measured is not None:
                measured_at = spec.measured(value)
            if measured_at is not None and endpoint.measured_at is not None and measured_at < endpoint.measured_at:
                # Older news than what we hold (a slow poll after a push, say): the read worked, the value stays.
                return recovered
            changed = recovered or value != old
        endpoint.value = value
        endpoint.raw = raw
        endpoint.fetched_at = received_at
        endpoint.source = source.value
        endpoint.measured_at = measured_at
        return changed

    def failed(self, name: str, error: EVClientError) -> None:
        """A read of endpoint ``name`` failed: keep the value (now stale) and tell whether the error is news."""
        endpoint = self._endpoints[name]
        previous = endpoint.last_error
        endpoint.last_error = error
        # Listeners learn that the endpoint went bad (its value is now stale) without a poll loop of their own.
        self._events.emit(ReadFailed(self, name, error, type(previous) is not type(error)))
