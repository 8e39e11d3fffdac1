"""One small event bus per account: what happened, told to whoever listens.

Modelled on zwave-js-server-python's event base: :meth:`EventBus.on` returns an unsubscriber, and a
listener's exception is logged, never raised into the part that emitted the event (a broken listener must not
stop a read, a stream or a renewal). Parts emit facts; the parts that react (the poll plan, the account's
state store, status listeners, diagnostics) subscribe. Nothing calls back up into the account.

Events are small frozen classes, matched by exact type. Emitting an event nobody listens to costs one dict
lookup, so the stream's hot path pays for what is subscribed only.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

if TYPE_CHECKING:
    from .errors import EVClientError
    from .scheduler import Priority
    from .streams import StreamState
    from .vehicle import Vehicle

__all__ = [
    "BudgetChanged",
    "EndpointUnsupported",
    "EventBus",
    "ReadFailed",
    "RequestAdmitted",
    "StreamChanged",
    "TokensRenewed",
    "ValueStored",
]

_LOG = logging.getLogger("evclient")

E = TypeVar("E")


@attrs.frozen(slots=True)
class ValueStored:
    """A value reached a car's endpoint (by poll, read or push), whether or not it changed anything.

    ``changed``: listeners of values hear of it. ``admitted`` (loop time): when the request that brought it was
    let through (``None`` for a push). ``with_params``: an on-demand read with the caller's own parameters (a
    history month), which says nothing of the endpoint's regular freshness.
    """

    vehicle: Vehicle
    name: str
    source: str
    changed: bool
    admitted: float | None = None
    with_params: bool = False


@attrs.frozen(slots=True)
class ReadFailed:
    """A read of a car's endpoint failed; ``news``: the endpoint was not failing this way before."""

    vehicle: Vehicle
    name: str
    error: EVClientError
    news: bool


@attrs.frozen(slots=True)
class EndpointUnsupported:
    """The car turned out not to have this endpoint: it is never polled again."""

    vin: str
    name: str


@attrs.frozen(slots=True)
class RequestAdmitted:
    """The scheduler let a request (or a stream's connection attempt) through to ``server``."""

    server: str
    at: float
    priority: Priority


@attrs.frozen(slots=True)
class TokensRenewed:
    """The auth's tokens may have changed: a renewal ended (whatever the request that needed it does next), a
    login challenge finished, or a brand's resource kept with the tokens (CarData's container) was found."""


@attrs.frozen(slots=True)
class BudgetChanged:
    """The budget's log moved: a slot admitted, released or given back, or a pause."""


@attrs.frozen(slots=True)
class StreamChanged:
    """The stream's public state changed. ``coverage``: whether it now keeps its endpoints fresh changed too
    (connected, dropped, silent too long, speaking again), so the poll plan takes them out or back."""

    state: StreamState
    coverage: bool


class EventBus:
    """Listeners by event type; see the module docstring."""

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: dict[type[Any], list[Callable[[Any], None]]] = {}

    def on(self, event_type: type[E], listener: Callable[[E], None]) -> Callable[[], None]:
        """Call ``listener(event)`` for every event of ``event_type``; returns the unsubscriber."""
        listeners = self._listeners.setdefault(event_type, [])
        listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                listeners.remove(listener)

        return unsubscribe

    def emit(self, event: object) -> None:
        """Tell every listener of the event's type, in the order they subscribed."""
        listeners = self._listeners.get(type(event))
        if not listeners:
            return
        for listener in tuple(listeners):
            try:
                listener(event)
            except Exception:
                _LOG.exception("an evclient %s listener failed", type(event).__name__)
