"""A car of an account: its endpoints (latest values) and its commands."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .command import CommandHandle, CommandResult, ProgressCallback
from .endpoint import Endpoint, EndpointSpec
from .errors import InvalidInputError
from .redact import mask_vin
from .scheduler import Priority
from .status import VehicleStatus

if TYPE_CHECKING:
    from .account import Account
    from .brand import VehicleInfo

T = TypeVar("T")


class Vehicle:
    """One car. ``endpoints`` maps each endpoint name to its :class:`~evclient.endpoint.Endpoint`."""

    def __init__(self, account: Account, info: VehicleInfo, endpoints: dict[str, Endpoint[Any]]) -> None:
        self._account = account
        self.info = info
        self._endpoints = endpoints

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
        brand = self._account.brand
        return tuple(s.name for s in brand.commands if brand.command_supported(self.info, s) is not False)

    @property
    def status(self) -> VehicleStatus:
        """The car's brand-agnostic status from the latest values (no request; see :mod:`evclient.status`)."""
        return self._account.brand.vehicle_status(self._endpoints)

    def value(self, name: str) -> Any:
        """The latest value of an endpoint (``None`` before the first good answer)."""
        endpoint = self._endpoints.get(name)
        return None if endpoint is None else endpoint.value

    async def refresh(self, name: str, /, **params: Any) -> Any:
        """Read one endpoint now (REFRESH priority) and return its parsed value.

        Concurrent refreshes of the same endpoint share one request; the endpoint's next background
        poll moves a full period on, so an on-demand refresh costs no extra request over the day.
        """
        return await self._account.read_endpoint(self, name, Priority.REFRESH, params)

    async def read(self, spec: EndpointSpec[T], /, **params: Any) -> T:
        """:meth:`refresh` by the brand's ``EndpointSpec`` constant, typed: ``await car.read(BATTERY)`` is a
        ``BatteryStatus`` to a type checker (the string form gives ``Any``)."""
        self._own(spec)
        value: T = await self._account.read_endpoint(self, spec.name, Priority.REFRESH, params)
        return value

    def latest(self, spec: EndpointSpec[T], /) -> T | None:
        """The latest value of an endpoint by its spec constant, typed (no request)."""
        self._own(spec)
        endpoint = self._endpoints.get(spec.name)
        return None if endpoint is None else endpoint.value

    def _own(self, spec: EndpointSpec[Any]) -> None:
        """Refuse another brand's constant of the same name: its value type (what a type checker was told)
        is not what this car's endpoint holds."""
        declared = self._account.brand.endpoints
        if not any(own is spec for own in declared) and spec not in declared:
            brand = self._account.brand.name
            raise InvalidInputError(f"{spec.name!r} is not one of {brand}'s endpoint constants: use the one from "
                                    f"evclient.brands of {brand}")

    async def start_command(
        self, name: str, /, *, progress: ProgressCallback | None = None, deadline: float | None = None, **params: Any
    ) -> CommandHandle:
        """Validate and submit a command; returns once the server accepted it. Await the handle for the result."""
        return await self._account.start_command(self, name, params, progress, deadline)

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
