"""The request pipeline: the one way an account's requests reach a server.

auth → a slot from the scheduler → the transport → the brand's error decoder → retry or re-authenticate,
and back through the same gate. Nothing else in evclient calls the transport, so no request can bypass
the budget: logins, token refreshes, listings, polls, commands, status reads and retries all come here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING

from .auth import Auth
from .clock import Clock
from .errors import (
    AccountClosed,
    AuthenticationError,
    BudgetExhausted,
    ConnectionFailed,
    EVClientError,
    InvalidInputError,
    RateLimited,
    TemporaryError,
    reading,
)
from .events import EventBus, RequestAdmitted
from .scheduler import DEADLINE, Priority, Scheduler
from .transport import Request, Response, Transport

if TYPE_CHECKING:
    from .brand import Api, Session

_LOG = logging.getLogger("evclient")


def clamp_pause(seconds: float | None, default: float, maximum: float) -> float:
    """The pause to take after a server's pushback: its ``Retry-After`` (or ``default`` when it gave none or
    nonsense) held to [1 s, ``maximum``], so neither ``-5`` nor ``1e12`` is taken at its word."""
    if seconds is None or math.isnan(seconds):
        seconds = default
    return min(max(seconds, 1.0), maximum)


class RequestPipeline:
    """Sends an account's requests; see the module docstring. ``api_for(priority)`` gives the view brand
    code renews tokens through (so a renewal is a scheduled request like any other)."""

    def __init__(
        self,
        session: Session,
        *,
        auth: Auth,
        scheduler: Scheduler,
        transport: Transport,
        servers: Mapping[str, str],
        clock: Clock,
        cooldown: float | None,
        retries: int,
        api_for: Callable[[Priority], Api],
        events: EventBus,
    ) -> None:
        self.session = session
        self.brand = brand = session.brand
        self.auth = auth
        self.scheduler = scheduler
        self.transport = transport
        self.servers = dict(servers)
        self.clock = clock
        # A cooldown the application set wins; otherwise the brand says (a daily quota: until it resets).
        self.cooldown_set = cooldown is not None
        self.cooldown = min(brand.cooldown if cooldown is None else cooldown, brand.max_pause)
        self.retries = retries
        self._api_for = api_for
        self._events = events
        self.auth_error: AuthenticationError | None = None
        self.closed = False

    def check_open(self) -> None:
        if self.closed:
            raise AccountClosed("this account is closed; connect again to use it")

    def shut(self) -> None:
        """Send nothing more: every waiter for a slot, and every later request, gets ``AccountClosed``."""
        self.closed = True
        self.scheduler.close()

    async def close(self) -> None:
        self.shut()
        await self.transport.close()

    # -- auth ------------------------------------------------------------------------------------------

    async def ensure_auth(self, priority: Priority) -> None:
        if self.auth_error is not None:
            # Never retry a refused login on our own: that is how accounts get locked.
            raise self.auth_error
        try:
            with reading("login"):
                await self.auth.ensure(self._api_for(priority))
        except AuthenticationError as err:
            self.auth_error = err
            raise
        except ConnectionFailed:
            if self.closed:
                raise AccountClosed("this account was closed while its login was renewed") from None
            raise

    async def _ensure_auth_by(self, priority: Priority, deadline: float) -> None:
        """:meth:`ensure_auth`, giving up at ``deadline`` (a renewal another caller leads may take longer)."""
        try:
            async with asyncio.timeout_at(deadline):
                await self.ensure_auth(priority)
        except TimeoutError:
            raise BudgetExhausted("the login did not finish before the deadline", retry_after=None) from None

    # -- sending ---------------------------------------------------------------------------------------

    async def send(self, request: Request, priority: Priority) -> tuple[Response, float]:
        """Send ``request`` through the scheduler; returns the response and its admission time."""
        self.check_open()
        base = self.servers.get(request.server)
        if base is None:
            raise InvalidInputError(f"no server named {request.server!r} for {self.brand.name}")
        common = self.session.common_params(request.server)
        attempt = 0
        reauthenticated = False
        deadline = DEADLINE.get()
        while True:
            if request.authenticated:
                if deadline is None:
                    await self.ensure_auth(priority)
                else:
                    await self._ensure_auth_by(priority, deadline)
            slot = await self.scheduler.acquire(priority, request.server, deadline=deadline)
            if request.authenticated and not self.auth.valid(self.clock.wall()):
                # The token expired while this request waited for its slot: renew first.
                slot.cancel()
                continue
            self._events.emit(RequestAdmitted(request.server, slot.admitted_at, priority))
            response: Response | None = None
            try:
                headers = self.auth.headers(request.server) if request.authenticated else None
                response = await self.transport.send(base, request, headers, common, max_bytes=self.brand.max_answer)
                error = self._decode(response)
            except ConnectionFailed as err:
                if self.closed:
                    # close() ended the session under this request: that is the account's end, not the network's.
                    raise AccountClosed("this account was closed while the request was under way") from None
                error = err
            finally:
                slot.release()
            if error is None and response is not None:
                return response, slot.admitted_at
            assert error is not None
            if isinstance(error, RateLimited):
                raise self._pushed_back(error, request.server)
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
            if isinstance(error, TemporaryError) and request.retryable and attempt < self.retries:
                attempt += 1
                delay = min(2.0**attempt, 30.0)
                if error.retry_after is not None:
                    delay = max(delay, min(error.retry_after, 60.0))
                if deadline is not None and self.clock.now() + delay >= deadline:
                    raise error  # the retry could not happen before the caller's deadline
                await asyncio.sleep(delay)
                self.check_open()
                continue
            raise error

    @contextlib.asynccontextmanager
    async def admitted(self, server: str, priority: Priority) -> AsyncIterator[None]:
        """A slot for opening a stream's connection (a WebSocket handshake, an MQTT connect), held while it
        opens: connection attempts count against the server's window like any request, so a flapping stream
        cannot spend more than the budget."""
        self.check_open()
        if server not in self.servers:
            raise InvalidInputError(f"no server named {server!r} for {self.brand.name}")
        slot = await self.scheduler.acquire(priority, server, deadline=DEADLINE.get())
        self._events.emit(RequestAdmitted(server, slot.admitted_at, priority))
        try:
            yield
        finally:
            slot.release()

    def _decode(self, response: Response) -> EVClientError | None:
        """The brand's reading of an answer; a 429 is the server pushing back whatever its body says."""
        error = self.brand.decode_error(response, self.clock.wall())
        if response.status == 429 and not isinstance(error, RateLimited):
            error = RateLimited(f"{response.endpoint}: HTTP 429 (too many requests)",
                                retry_after=response.retry_after(self.clock.wall()))
        return error

    def _pushed_back(self, error: RateLimited, server: str) -> EVClientError:
        default = self.cooldown if self.cooldown_set else self.brand.default_pause(self.clock.wall(), server)
        wait = clamp_pause(error.retry_after, default, self.brand.max_pause)
        error.retry_after = wait
        # Only the server that pushed back: a login on another host keeps its own budget going.
        self.scheduler.pause(wait, server)
        _LOG.warning("%s: the %s server pushed back; pausing requests to it for %.0f s", self.brand.name, server, wait)
        return error
