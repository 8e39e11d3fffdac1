"""The door brand code uses into its account: requests at one priority through the pipeline, endpoint reads
through the reader, the credentials made valid — and nothing else of the account (see :class:`~evclient.api.Api`).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import InvalidInputError
from .redact import mask_vin

if TYPE_CHECKING:
    from .api import VehicleInfo
    from .clock import Clock
    from .pipeline import RequestPipeline
    from .reads import Reader
    from .scheduler import Priority
    from .transport import Request, Response
    from .vehicle import Vehicle


class Door:
    """An account as brand code sees it, at one priority."""

    __slots__ = ("_find", "_pipeline", "_priority", "_reader")

    def __init__(self, pipeline: RequestPipeline, reader: Reader, find: Callable[[str], Vehicle | None],
                 priority: Priority) -> None:
        self._pipeline = pipeline
        self._reader = reader
        self._find = find
        self._priority = priority

    @property
    def clock(self) -> Clock:
        return self._pipeline.clock

    async def request(self, request: Request) -> Response:
        response, _ = await self._pipeline.send(request, self._priority)
        return response

    async def fetch(self, vehicle: VehicleInfo, endpoint: str, **params: Any) -> Any:
        car = self._find(vehicle.vin)
        if car is None:
            raise InvalidInputError(f"no car {mask_vin(vehicle.vin)} on this account")
        return await self._reader.fetch(car, endpoint, self._priority, params)

    def age(self, vehicle: VehicleInfo, endpoint: str) -> float | None:
        car = self._find(vehicle.vin)
        held = car.endpoints.get(endpoint) if car is not None else None
        if held is None or held.fetched_at is None:
            return None
        return self._pipeline.clock.wall() - held.fetched_at

    async def authenticate(self, *, renew: bool = False) -> None:
        if renew:
            self._pipeline.auth.invalidate()
        await self._pipeline.ensure_auth(self._priority)

    def admitted(self, server: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._pipeline.admitted(server, self._priority)

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        return self._pipeline.transport.ssl_context

    def server_url(self, server: str) -> str:
        url = self._pipeline.servers.get(server)
        if url is None:
            raise InvalidInputError(f"no server named {server!r} for {self._pipeline.brand.name}")
        return url
