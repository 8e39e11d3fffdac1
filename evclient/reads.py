"""Reading endpoints: validate, share concurrent reads of the same endpoint (single flight), send through the
pipeline, parse, and store the value through the value store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import BudgetExhausted, EVClientError, InvalidInputError, NotSupportedError, ResourceGone, reading
from .events import EndpointUnsupported, EventBus
from .scheduler import DEADLINE, Priority
from .vehicle import Source

if TYPE_CHECKING:
    from .brand import Api, Session
    from .clock import Clock
    from .endpoint import Endpoint
    from .pipeline import RequestPipeline
    from .transport import Request
    from .vehicle import Vehicle


class Reader:
    """Reads endpoints for an account. Every answer is stored in its car (which tells the bus); an endpoint the
    car turns out not to have is told as :class:`~evclient.events.EndpointUnsupported`."""

    def __init__(self, session: Session, pipeline: RequestPipeline, clock: Clock, events: EventBus, *,
                 api_for: Callable[[Priority], Api]) -> None:
        self._session = session
        self._brand = session.brand
        self._api_for = api_for
        self._pipeline = pipeline
        self._clock = clock
        self._events = events
        self._inflight: dict[tuple[Any, ...], asyncio.Future[Any]] = {}

    async def fetch(self, vehicle: Vehicle, name: str, priority: Priority, params: Mapping[str, Any]) -> Any:
        try:
            return await self._fetch(vehicle, name, priority, params)
        except ResourceGone:
            endpoint = vehicle.endpoints.get(name)
            if endpoint is None or not endpoint.spec.needs:
                raise
            for resource in set(endpoint.spec.needs.values()):
                self._session.forget(resource)
        # What the read needs was gone (CarData's container): found or made again, read once more — once only.
        return await self._fetch(vehicle, name, priority, params)

    async def _fetch(self, vehicle: Vehicle, name: str, priority: Priority, params: Mapping[str, Any]) -> Any:
        endpoint = vehicle.endpoints.get(name)
        if endpoint is None:
            raise InvalidInputError(f"{self._brand.name} has no endpoint {name!r}")
        if endpoint.supported is False:
            raise NotSupportedError(f"{name} is not supported by this car")
        self._pipeline.check_open()
        request = endpoint.spec.request(vehicle.info.context, params)  # validates before any request
        if endpoint.spec.needs:
            # What the read needs in place first (CarData's container), at the read's own priority: a user's
            # read that must make the container does not wait behind the background polls.
            door = self._api_for(priority)
            resources = {r: await self._session.resource(door, r) for r in set(endpoint.spec.needs.values())}
            request = endpoint.spec.request(vehicle.info.context, params, resources)
        key = (vehicle.vin, name, tuple(sorted((request.params or {}).items())))
        while True:
            flight = self._inflight.get(key)
            if flight is None:
                break
            # Someone is reading this already: share the answer rather than spend a request.
            try:
                return await self._follow(flight, name)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if flight.cancelled() and not (task is not None and task.cancelling()):
                    continue  # the reader who led was cancelled, not us: read it ourselves
                raise
        # The first reader reads inline, in its own task (a task per read would cost more than the rest of
        # the read's own work); a future lets later callers share the answer.
        flight = self._clock.loop.create_future()
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

    @staticmethod
    async def _follow(flight: asyncio.Future[Any], name: str) -> Any:
        deadline = DEADLINE.get()
        if deadline is None:
            return await asyncio.shield(flight)
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(flight)
        except TimeoutError:
            raise BudgetExhausted(f"{name}: the shared read had no answer before the deadline "
                                  "(it waits for the budget)", retry_after=None) from None

    async def _fetch_once(self, vehicle: Vehicle, endpoint: Endpoint[Any], request: Request, priority: Priority,
                          on_demand_params: bool) -> Any:
        name = endpoint.spec.name
        try:
            response, admitted = await self._pipeline.send(request, priority)
            body = response.body if endpoint.spec.binary else response.json()
            with reading(name):
                value = endpoint.spec.parse(body)
        except EVClientError as err:
            if isinstance(err, NotSupportedError) and err.permanent and not isinstance(err, InvalidInputError):
                endpoint.supported = False
                self._events.emit(EndpointUnsupported(vehicle.vin, name))
            vehicle.failed(name, err)
            raise
        source = Source.POLL if priority is Priority.POLL else Source.READ
        vehicle.store(name, value, source=source, received_at=self._clock.to_wall(admitted), raw=body,
                      admitted=admitted, with_params=on_demand_params)
        return value
