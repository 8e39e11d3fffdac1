"""The value store: the one way a value reaches an :class:`~evclient.endpoint.Endpoint`.

Background polls, on-demand reads, command confirmation reads and pushed stream messages all store values
here, each with the time it arrived, the time the car measured it (when known) and its source. A value the
car measured earlier than the stored one is not taken, whatever brought it; a partial value is merged by the
endpoint's own rule. Listeners hear each real change once, whatever the source.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import EVClientError
from .status import VehicleStatus, changed_fields

if TYPE_CHECKING:
    from .endpoint import Endpoint
    from .vehicle import Vehicle

_LOG = logging.getLogger("evclient")

Listener = Callable[["Vehicle", frozenset[str]], None]
StatusListener = Callable[["Vehicle", VehicleStatus, frozenset[str]], None]


class Source(enum.StrEnum):
    """What brought a value."""

    POLL = "poll"
    READ = "read"
    PUSH = "push"


class ValueStore:
    """Stores endpoint values and tells listeners what changed."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._status_listeners: list[StatusListener] = []
        self._statuses: dict[str, VehicleStatus] = {}

    # -- listeners -------------------------------------------------------------------------------------

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        self._listeners.append(callback)
        return _remover(self._listeners, callback)

    def subscribe_status(self, callback: StatusListener) -> Callable[[], None]:
        self._status_listeners.append(callback)
        return _remover(self._status_listeners, callback)

    # -- values ----------------------------------------------------------------------------------------

    def put(self, vehicle: Vehicle, endpoint: Endpoint[Any], value: Any, *, source: Source, received_at: float,
            measured_at: float | None = None, raw: Any = None) -> bool:
        """Store ``value`` unless the car measured the stored one later; returns whether anything changed
        (and listeners were told)."""
        spec = endpoint.spec
        if spec.merge is not None and endpoint.value is not None:
            value = spec.merge(endpoint.value, value)
        if measured_at is None and spec.measured is not None:
            measured_at = spec.measured(value)
        recovered = endpoint.last_error is not None
        endpoint.supported = True
        endpoint.last_error = None
        if (measured_at is not None and endpoint.measured_at is not None and measured_at < endpoint.measured_at
                and spec.merge is None):
            # Older news than what we hold (a slow poll after a push, say): the read worked, the value stays.
            if recovered:
                self.notify(vehicle, frozenset((spec.name,)))
            return recovered
        changed = recovered or value != endpoint.value
        endpoint.value = value
        endpoint.raw = raw
        endpoint.fetched_at = received_at
        endpoint.source = source.value
        endpoint.measured_at = measured_at
        if changed:
            self.notify(vehicle, frozenset((spec.name,)))
        return changed

    def failed(self, vehicle: Vehicle, endpoint: Endpoint[Any], error: EVClientError) -> None:
        """A read of ``endpoint`` failed: keep the value (now stale) and tell listeners if the error is news."""
        previous = endpoint.last_error
        endpoint.last_error = error
        if type(previous) is not type(error):
            # Listeners learn that the endpoint went bad (its value is now stale) without a poll loop of their own.
            self.notify(vehicle, frozenset((endpoint.name,)))

    def notify(self, vehicle: Vehicle, changed: frozenset[str]) -> None:
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


def _remover(listeners: list[Any], callback: Any) -> Callable[[], None]:
    def unsubscribe() -> None:
        with contextlib.suppress(ValueError):
            listeners.remove(callback)

    return unsubscribe
