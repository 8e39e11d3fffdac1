"""Streams: a brand's long-lived connection that pushes values for the account's cars.

A brand that has one declares it (:class:`StreamSpec`, ``Brand.stream``) and implements
:meth:`~evclient.brand.Session.open_stream`, which only connects: with credentials it gets through
``api.authenticate()`` (a scheduled request like any other), it calls ``sink.connected(until=...)`` — ``until``
being when the credentials the connection was opened with run out — and hands every value to ``sink.push(...)``,
the same way in as a poll's. It returns or raises when the connection ends: :class:`StreamRefused` when the server
refused the credentials, :class:`StreamEnded` for an end the brand knows more of (not set up, taken over: when to
try again), anything else for a plain drop. It never retries and never sleeps.

Reconnecting is the runner's alone. :class:`StreamRunner` (given the brand's door and the cars, never the
account) opens the stream in ``start()`` and again after each end: at ``until`` it closes the connection and opens
a fresh one at once; after a refusal it renews the credentials once, then waits 1 minute, then 15 minutes doubling
to 6 hours; after a drop, a capped, jittered back-off; connections closed soon after opening are counted
(``short_drops``) and said as the brand's declaration explains them; after the first connection and after an
outage it reads the pushed endpoints once by REST where the brand asks it to. It closes the stream in
``stop()``/``close()`` and keeps its state public, telling every change on the account's bus. While the stream is
healthy the endpoints it keeps fresh (``EndpointSpec.pushed``) are not polled; when it is down, or silent longer
than the brand allows (``StreamSpec.silence``), they return to the poll plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .errors import AccountClosed, AuthenticationError, EVClientError
from .events import EventBus, StreamChanged
from .scheduler import detached
from .vehicle import Source

if TYPE_CHECKING:
    from .api import Api
    from .brand import Session
    from .clock import Clock
    from .vehicle import Vehicle

_LOG = logging.getLogger("evclient")

#: First and longest wait before opening the stream again after it ended without a word from the brand.
BACKOFF_FIRST = 5.0
BACKOFF_MAX = 900.0
#: A connection that lasted this long was healthy: the back-off starts again from the first step.
HEALTHY_AFTER = 120.0
#: A reconnection due this soon keeps the stream's endpoints out of the poll plan meanwhile.
RECONNECT_GRACE = 30.0
#: After refused credentials: the first retry (with renewed ones), the second, and from the third on a wait that
#: starts at 15 minutes and doubles up to 6 hours (a server that refuses every token must not cost a login a minute).
REFUSED_FIRST_WAIT = 5.0
REFUSED_SECOND_WAIT = 60.0
REFUSALS_BEFORE_LONG_WAIT = 3
REFUSED_LONG_WAIT = 900.0
REFUSED_LONGEST_WAIT = 6 * 3600.0
#: A connection is never renewed sooner than this after it opened (credentials about to run out at connection
#: time are renewed by the next attempt instead of in a tight loop).
SHORTEST_CONNECTION = 60.0


@attrs.frozen(kw_only=True)
class StreamSpec:
    """A brand's stream, declared.

    ``requires`` is the module it imports and ``extra`` the evclient extra that installs it; ``silence`` the
    seconds a connected stream may stay silent before its endpoints are polled again (``None``: silence is
    healthy, e.g. a parked car with nothing to say). A connection the server closes within ``short`` seconds of
    opening it is a short drop; two in a row are reported with ``short_drops_hint`` (what they usually mean on
    this cloud). ``read_after_outage``: after the first connection, and after an outage at least that long, the
    runner reads each car's pushed endpoints once by REST unless a value is fresher (``None``: never).
    """

    requires: str | None = None
    extra: str | None = None
    silence: float | None = None
    short: float = 120.0
    short_drops_hint: str = ""
    read_after_outage: float | None = None


class StreamEnded(EVClientError):
    """A brand's stream ended for a known reason; ``retry_after`` (seconds) sets the next attempt.

    ``taken_over``: the server said another connection (another app on the same account) took the stream;
    the application may tell the owner, who alone can stop the other app. ``outage``: the stream is down for
    real (refused, not set up), so its endpoints are polled again at once even when the next attempt is soon.
    """

    def __init__(self, reason: str, *, retry_after: float | None = None, taken_over: bool = False,
                 outage: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.taken_over = taken_over
        self.outage = outage


class StreamRefused(EVClientError):
    """The stream's server refused the credentials the connection was opened with: the runner renews them once,
    then backs off (see the module docstring)."""


@attrs.frozen
class StreamState:
    """The stream as the application sees it (times are epoch seconds)."""

    supported: bool = False  # the brand has a stream
    available: bool = False  # and what it needs is installed
    running: bool = False  # the account is keeping it open (between start() and stop())
    connected: bool = False
    connected_since: float | None = None
    last_message_at: float | None = None
    messages: int = 0
    reconnects: int = 0
    last_error: str | None = None
    next_attempt_at: float | None = None
    taken_over: bool = False  # it ended because another app took it (until it connects again)
    short_drops: int = 0  # connections in a row the broker closed soon after opening them (0 after a good one)
    rejected_messages: int = 0  # messages that were not the brand's or could not be read (skipped)
    rejected_fields: int = 0  # broken fields of otherwise good messages (skipped)
    restamped: int = 0  # fields stamped too far in the future, stored with their arrival time instead

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


StreamListener = Callable[[StreamState], None]


class StreamSink:
    """What a brand's stream hands its news to."""

    __slots__ = ("_cars", "_runner", "_wall")

    def __init__(self, runner: StreamRunner) -> None:
        self._runner = runner
        self._cars = runner.cars
        self._wall = runner.clock.wall

    def connected(self, *, until: float | None = None) -> None:
        """The connection is up (and subscribed): its endpoints leave the poll plan. ``until`` (epoch seconds):
        when the credentials it was opened with run out; the runner replaces the connection then."""
        self._runner._set_connected(True, until)

    def push(self, vin: str, endpoint: str, value: Any, *, measured_at: float | None = None, raw: Any = None,
             keys: Iterable[str] | None = None) -> bool:
        """Store a pushed value (``keys``: the parts of a partial value the message brought); returns whether it
        changed anything. Cars this login does not list are ignored (a stream may speak of others)."""
        self._runner._message()
        vehicle = self._cars().get(vin)
        if vehicle is None:
            return False
        return vehicle.store(endpoint, value, source=Source.PUSH, received_at=self._wall(), measured_at=measured_at,
                             raw=raw, keys=keys)

    def message(self) -> None:
        """A message arrived that carried no value evclient keeps (it still shows the stream is alive)."""
        self._runner._message()

    def rejected(self, *, fields: int = 0, restamped: int = 0) -> None:
        """Count what a message brought that could not be stored as it came: with no ``fields``, the whole
        message (not the brand's, or broken); else its broken fields (skipped) and the ones stamped in the
        future (stored with their arrival time)."""
        self._runner._rejected(1 if not fields and not restamped else 0, fields, restamped)


class StreamRunner:
    """Runs one account's stream; see the module docstring. ``door`` is the brand code's view of the account,
    ``cars()`` the listed cars; every change of its state is told on ``events`` as
    :class:`~evclient.events.StreamChanged`."""

    def __init__(self, session: Session, *, door: Api, cars: Callable[[], Mapping[str, Vehicle]], events: EventBus,
                 clock: Clock) -> None:
        self.session = session
        self.brand = brand = session.brand
        self.door = door
        self.cars = cars
        self.clock = clock
        self._events = events
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._random = random.Random()
        self.spec = spec = brand.stream
        needs = spec.requires if spec is not None else None
        available = spec is not None and (needs is None or importlib.util.find_spec(needs) is not None)
        self._state = StreamState(supported=spec is not None, available=available)
        # Counted in place (a frozen state a message would cost more than the message's own work).
        self._messages = 0
        self._last_message_at: float | None = None
        self._rejected_messages = self._rejected_fields = self._restamped = 0
        self._told_unavailable = False
        self._opening = False
        # One connection's: when it opened, its deadline (for renewing its credentials) and its reads.
        self._connected_at: float | None = None
        self._deadline: asyncio.Timeout | None = None
        self._reads: asyncio.Task[None] | None = None
        # Across connections: refusals and short drops in a row, and when the last connection was lost.
        self._refusals = 0
        self._renew = False  # the next attempt renews the credentials first (once per run of refusals)
        self._short = 0
        self._connected_before = False
        self._lost_at: float | None = None

    # -- public ----------------------------------------------------------------------------------------

    @property
    def state(self) -> StreamState:
        """The stream's state now (built when asked for)."""
        return attrs.evolve(self._state, messages=self._messages, last_message_at=self._last_message_at,
                            rejected_messages=self._rejected_messages, rejected_fields=self._rejected_fields,
                            restamped=self._restamped)

    def covers_now(self) -> bool:
        """Whether the stream keeps its endpoints fresh right now (connected, and not silent too long)."""
        state = self._state
        if not state.connected:
            # While the first connection is being opened its endpoints wait for it rather than cost a poll.
            return self._opening
        silence = self.spec.silence if self.spec is not None else None
        if silence is None:
            return True  # a silent car on a connected stream is healthy
        # Silence counts from the last message of this connection (or from its start).
        last = max(self._last_message_at or 0.0, state.connected_since or 0.0)
        return self.clock.wall() - last <= silence

    def start(self) -> None:
        if not self._state.supported or (self._task is not None and not self._task.done()):
            return
        if not self._state.available:
            if not self._told_unavailable:
                spec = self.spec
                _LOG.warning("%s can push changes, but %r is not installed (install evclient[%s]); polling only",
                             self.brand.name, spec.requires if spec else None, (spec.extra if spec else None) or "…")
                self._told_unavailable = True
            return
        self._opening = True
        self._task = self.clock.loop.create_task(self._run(), name=f"evclient-{self.brand.name}-stream",
                                                 context=detached())
        self._update(running=True)

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._opening = False
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self._cancel_watchdog()
        if self._state.running or self._state.connected:
            self._update(running=False, connected=False, connected_since=None, next_attempt_at=None, coverage=True)

    # -- the loop --------------------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = BACKOFF_FIRST
        attempts = 0
        while True:
            opened = self.clock.now()
            retry_after: float | None = None
            taken_over = outage = refused = renewing = False
            self._connected_at = None
            try:
                if attempts:
                    self._update(reconnects=self._state.reconnects + 1)
                attempts += 1
                if self._renew:
                    self._renew = False
                    await self.door.authenticate(renew=True)  # the refused credentials may have run out early
                cars = [vehicle.info for vehicle in self.cars().values()]
                async with asyncio.timeout(None) as self._deadline:
                    await self.session.open_stream(self.door, cars, StreamSink(self))
                error = "the stream closed"
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                if self._deadline is None or not self._deadline.expired():
                    error = "TimeoutError"
                else:  # the credentials' end: a planned renewal, not a drop
                    error, retry_after, renewing = "renewing the stream's credentials before they run out", 1.0, True
            except StreamRefused as err:
                error, refused, outage = str(err), True, True
            except StreamEnded as ended:
                error, retry_after, taken_over, outage = ended.reason, ended.retry_after, ended.taken_over, ended.outage
            except AccountClosed:
                return
            except AuthenticationError as err:
                # The login itself is refused: the application must log in again; polling reports it too.
                self._ended(f"{type(err).__name__}: {err}", None)
                return
            except EVClientError as err:
                error = f"{type(err).__name__}: {err}"
            except Exception as err:  # a brand's stream must not take the account down with it
                _LOG.exception("%s stream failed unexpectedly", self.brand.name)
                error = f"{type(err).__name__}"
            finally:
                self._deadline = None
                await self._connection_ended()
            lasted = self.clock.now() - opened
            if lasted >= HEALTHY_AFTER:
                backoff = BACKOFF_FIRST
            error = self._count_short_drops(error, renewing=renewing, dropped=not (refused or retry_after))
            if refused:
                retry_after = self._refused()
            elif self._connected_at is not None:
                self._refusals = 0
            wait = retry_after if retry_after is not None else backoff * self._random.uniform(0.8, 1.2)
            wait = max(1.0, min(wait, 24 * 3600.0))
            if retry_after is None:
                backoff = min(backoff * 2, BACKOFF_MAX)
            self._ended(error, self.clock.wall() + wait, taken_over=taken_over, outage=outage)
            await asyncio.sleep(wait)

    def _refused(self) -> float:
        """The wait after refused credentials (the first run of refusals renews them once, see :meth:`_run`)."""
        self._refusals += 1
        if self._refusals == 1:
            self._renew = True
            return REFUSED_FIRST_WAIT
        if self._refusals < REFUSALS_BEFORE_LONG_WAIT:
            return REFUSED_SECOND_WAIT
        return float(min(REFUSED_LONG_WAIT * 2 ** (self._refusals - REFUSALS_BEFORE_LONG_WAIT), REFUSED_LONGEST_WAIT))

    def _count_short_drops(self, error: str, *, renewing: bool, dropped: bool) -> str:
        """Count connections the server closed soon after they opened, in a row; two or more are said as such,
        with what the brand knows they mean (MQTT 3.1.1 gives no reason for a close: a takeover by another app
        cannot be told from any other drop)."""
        spec = self.spec
        if spec is None or self._connected_at is None:
            return error  # it never connected: a refusal or a failed attempt, not a drop
        short = dropped and not renewing and self.clock.now() - self._connected_at < spec.short
        count = self._short + 1 if short else 0
        if count != self._short:
            self._short = count
            self._update(short_drops=count)
        if count < 2:
            return error
        said = (f"{error}: the server closed the connection {count} times in a row within "
                f"{spec.short / 60:.0f} minutes of opening it")
        return f"{said}; {spec.short_drops_hint}" if spec.short_drops_hint else said

    async def _connection_ended(self) -> None:
        """Stop the reads that went beside the connection; note when a connection that was up was lost."""
        reads, self._reads = self._reads, None
        if reads is not None and not reads.done():
            reads.cancel()
            with contextlib.suppress(BaseException):
                await reads
        if self._connected_at is not None and self._lost_at is None:
            self._lost_at = self.clock.wall()

    async def _read_after_connect(self, vehicles: list[Vehicle], fresh: float) -> None:
        """Each car's pushed endpoints once by REST (a parked car may stream nothing for days), unless a value is
        fresher than ``fresh`` seconds (an application's first refresh, say: no second call of the budget)."""
        for vehicle in vehicles:
            for name, endpoint in vehicle.endpoints.items():
                if not endpoint.spec.pushed or endpoint.supported is False:
                    continue
                age = self.door.age(vehicle.info, name)
                if age is not None and age < fresh:
                    continue
                try:
                    await self.door.fetch(vehicle.info, name)
                except EVClientError as err:
                    _LOG.debug("the read after the stream opened failed: %s", type(err).__name__)
        self._lost_at = None

    def _ended(self, error: str, next_attempt_at: float | None, *, taken_over: bool = False,
               outage: bool = False) -> None:
        was = self._state.connected or self._opening
        # A reconnection due within seconds (a planned one, for a fresh token) is not an outage: its endpoints
        # keep waiting for it rather than cost the polls of a gap nobody will notice. A refusal is one.
        self._opening = (not outage and next_attempt_at is not None
                         and next_attempt_at - self.clock.wall() <= RECONNECT_GRACE)
        if self._opening:
            was = False
        self._cancel_watchdog()
        _LOG.info("%s stream ended (%s)", self.brand.name, error)
        self._update(connected=False, connected_since=None, last_error=error, next_attempt_at=next_attempt_at,
                     taken_over=taken_over, coverage=was)

    def _set_connected(self, connected: bool, until: float | None = None) -> None:
        if connected and not self._state.connected:
            self._opening = False
            self._connected_at = self.clock.now()
            if until is not None and self._deadline is not None:
                # The runner, not the brand, replaces a connection whose credentials run out.
                self._deadline.reschedule(max(self.clock.to_loop(until), self.clock.now() + SHORTEST_CONNECTION))
            self._update(connected=True, connected_since=self.clock.wall(), next_attempt_at=None, taken_over=False,
                         coverage=True)
            self._arm_watchdog()
            self._start_reads()

    def _start_reads(self) -> None:
        fresh = self.spec.read_after_outage if self.spec is not None else None
        if fresh is None:
            return
        first = not self._connected_before
        self._connected_before = True
        lost = self._lost_at
        if first or (lost is not None and self.clock.wall() - lost >= fresh):
            # Beside the messages, never before them: the reads may wait hours for a slot.
            self._reads = self.clock.loop.create_task(self._read_after_connect(list(self.cars().values()), fresh))
        else:
            self._lost_at = None

    def _message(self) -> None:
        silence = self.spec.silence if self.spec is not None else None
        silent_before = silence is not None and self._state.connected and not self.covers_now()
        self._messages += 1
        self._last_message_at = self.clock.wall()
        if silent_before:
            self._update(coverage=True)  # it speaks again: its endpoints leave the poll plan
        if silence is not None:
            self._arm_watchdog()

    def _rejected(self, messages: int, fields: int, restamped: int) -> None:
        if messages:
            self._message()  # still a sign of life
        self._rejected_messages += messages
        self._rejected_fields += fields
        self._restamped += restamped

    # -- silence -----------------------------------------------------------------------------------------

    def _arm_watchdog(self) -> None:
        silence = self.spec.silence if self.spec is not None else None
        if silence is None or not self._state.connected:
            return
        self._cancel_watchdog()
        self._watchdog = self.clock.loop.call_later(silence + 1e-3, self._silent)

    def _cancel_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _silent(self) -> None:
        self._watchdog = None
        if self._state.connected and not self.covers_now():
            _LOG.info("%s stream silent for over %.0f s: its endpoints are polled again", self.brand.name,
                      (self.spec.silence if self.spec is not None else None) or 0)
            self._update(coverage=True)

    def _update(self, *, coverage: bool = False, **changes: Any) -> None:
        if changes:
            self._state = attrs.evolve(self._state, **changes)
        self._events.emit(StreamChanged(self.state, coverage))
