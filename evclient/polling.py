"""An account's background polling: the poll plan and its poller, kept true by what the event bus tells.

It subscribes to the account's events instead of being called by the parts: every value stored (by a read, a
command's confirmation read or a push) moves its endpoint's next poll; every request admitted that is not a poll
takes the place of the next tick; an endpoint found unsupported leaves the plan; the stream keeping its
endpoints fresh (or no longer) takes them out of the plan or puts them back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .errors import EVClientError
from .events import EndpointUnsupported, EventBus, RequestAdmitted, StreamChanged, ValueStored
from .pollplan import Poller, PollPlan
from .scheduler import Priority

if TYPE_CHECKING:
    from .clock import Clock
    from .reads import Reader
    from .vehicle import Vehicle

_LOG = logging.getLogger("evclient")

Key = tuple[str, str]


class Polling:
    """Background polls of every supported endpoint of every car, evenly spread over ``interval`` seconds a
    tick. ``cars()`` gives the listed cars; ``streamed()`` whether the stream keeps its endpoints fresh now."""

    def __init__(self, *, interval: float, events: EventBus, reader: Reader, clock: Clock,
                 cars: Callable[[], Mapping[str, Vehicle]], streamed: Callable[[], bool],
                 poll_budget_servers: set[str], name: str) -> None:
        self.plan: PollPlan[Key] = PollPlan(interval)
        self.poller = Poller(self.plan, self._poll, name=name)
        self._reader = reader
        self._clock = clock
        self._cars = cars
        self._streamed = streamed
        self._poll_budget_servers = poll_budget_servers
        self._last_admitted: dict[Key, float] = {}
        events.on(ValueStored, self._stored)
        events.on(RequestAdmitted, self._admitted)
        events.on(EndpointUnsupported, self._unsupported)
        events.on(StreamChanged, self._stream_changed)

    @property
    def running(self) -> bool:
        return self.poller.running

    def start(self) -> None:
        self.plan_targets()
        self.poller.start()

    async def stop(self) -> None:
        await self.poller.stop()

    def period(self, vehicle: Vehicle, name: str) -> float:
        """Seconds between two background polls of one endpoint of ``vehicle`` at the planned rate."""
        weights = [e.spec.weight for v in self._cars().values() for e in v.endpoints.values()
                   if e.spec.poll and e.supported is not False]
        spec = vehicle.endpoints[name].spec
        return max(self.plan.interval * max(sum(weights), spec.weight) / spec.weight, spec.every or 0.0)

    def plan_targets(self, *, resume: bool = False) -> None:
        """Put every endpoint to poll in the plan (those the stream keeps fresh out of it)."""
        now = self._clock.now()
        streamed = self._streamed()
        rejoined = False
        for vehicle in self._cars().values():
            for endpoint in vehicle.endpoints.values():
                if not endpoint.spec.poll or endpoint.supported is False:
                    continue
                key = (vehicle.vin, endpoint.name)
                if endpoint.spec.pushed and streamed:
                    self.plan.remove(key)  # the stream keeps it fresh
                else:
                    rejoined = rejoined or (endpoint.spec.pushed and key not in self.plan)
                    # Due a period after the value we hold (from any source), not at once: a stream that just
                    # went down leaves fresh values behind.
                    last = None if endpoint.fetched_at is None else min(now, self._clock.to_loop(endpoint.fetched_at))
                    self.plan.add(key, now, endpoint.spec.weight, last=last, every=endpoint.spec.every)
        if rejoined and resume:
            # The stream went down: what it kept fresh is polled from now on, not after a full tick (a day's 50
            # calls make a tick half an hour).
            self.plan.resume(now)
        self.poller.replanned()

    # -- what the bus tells --------------------------------------------------------------------------------

    def _stored(self, event: ValueStored) -> None:
        key = (event.vehicle.vin, event.name)
        if event.source == "push":
            self.plan.refreshed(key, self._clock.now())  # as fresh as a poll now
        elif event.admitted is not None:  # read by request (a value loaded from a store moves nothing)
            self._last_admitted[key] = event.admitted
            if event.source != "poll" and not event.with_params:
                self.plan.refreshed(key, event.admitted)

    def _admitted(self, event: RequestAdmitted) -> None:
        if event.priority is not Priority.POLL and event.server in self._poll_budget_servers:
            self.plan.consumed(event.at)
            self.poller.replanned()

    def _unsupported(self, event: EndpointUnsupported) -> None:
        key = (event.vin, event.name)
        if key in self.plan:
            _LOG.info("%s is not supported by this car: no longer polled", event.name)
            self.plan.remove(key)
            self.poller.replanned()

    def _stream_changed(self, event: StreamChanged) -> None:
        if event.coverage and self.poller.running:
            self.plan_targets(resume=True)

    async def _poll(self, key: Key) -> float | None:
        vin, name = key
        vehicle = self._cars().get(vin)
        if vehicle is None:
            return None
        try:
            await self._reader.fetch(vehicle, name, Priority.POLL, {})
        except EVClientError as err:
            _LOG.debug("poll of %s failed: %s", name, type(err).__name__)
            return None
        return self._last_admitted.get(key)

    def __repr__(self) -> str:
        return f"<Polling targets={len(self.plan)} interval={self.plan.interval:.0f}s>"


__all__ = ["Polling"]
