"""The application's listeners, as the account's bus feeds them: values that changed, and the cars' status."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from .events import EventBus, ReadFailed, ValueStored
from .status import VehicleStatus, changed_fields

if TYPE_CHECKING:
    from .vehicle import Vehicle

_LOG = logging.getLogger("evclient")

#: ``callback(vehicle, changed_endpoint_names)``.
Listener = Callable[["Vehicle", frozenset[str]], None]
#: ``callback(vehicle, status, changed_fields)``.
StatusListener = Callable[["Vehicle", VehicleStatus, frozenset[str]], None]


def subscribe_values(events: EventBus, callback: Listener) -> Callable[[], None]:
    """Call ``callback`` for every value that changed and every endpoint that starts failing (or fails anew)."""

    def stored(event: ValueStored) -> None:
        if event.changed:
            callback(event.vehicle, frozenset((event.name,)))

    def failed(event: ReadFailed) -> None:
        if event.news:
            callback(event.vehicle, frozenset((event.name,)))

    off = (events.on(ValueStored, stored), events.on(ReadFailed, failed))

    def unsubscribe() -> None:
        for undo in off:
            undo()

    return unsubscribe


class StatusWatch:
    """Tells status listeners which fields of a car's :class:`VehicleStatus` moved, after each change of value.

    It listens to the bus only while someone listens to it, so a stream without status listeners pays nothing.
    """

    def __init__(self, events: EventBus) -> None:
        self._events = events
        self._listeners: list[StatusListener] = []
        self._seen: set[str] = set()
        self._off: Callable[[], None] | None = None

    def subscribe(self, callback: StatusListener) -> Callable[[], None]:
        self._listeners.append(callback)
        if self._off is None:
            self._off = self._events.on(ValueStored, self._stored)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)
            if not self._listeners and self._off is not None:
                self._off()
                self._off = None
                self._seen.clear()

        return unsubscribe

    def _stored(self, event: ValueStored) -> None:
        if not event.changed:
            return
        vehicle = event.vehicle
        moved = vehicle.moved_fields()
        status = vehicle.status
        if vehicle.vin not in self._seen:
            self._seen.add(vehicle.vin)  # the first time: every field that has a value is news
            moved = changed_fields(None, status)
        if not moved:
            return
        for listener in tuple(self._listeners):
            try:
                listener(vehicle, status, moved)
            except Exception:  # one broken listener must not starve the others
                _LOG.exception("an evclient status listener failed")
