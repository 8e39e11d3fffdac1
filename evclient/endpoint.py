"""Endpoints: a brand's static :class:`EndpointSpec` and the per-car :class:`Endpoint` holding its value."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from .errors import EVClientError, InvalidInputError
from .transport import Request

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class EndpointSpec(Generic[T]):
    """How to read one resource of a car.

    ``path`` is a template filled from the vehicle's context (``{vin}``, ``{account_id}``, …);
    ``parse`` turns the decoded JSON body into the typed model (raising on a wrong shape); ``query``
    validates on-demand parameters (e.g. a date range) and turns them into query parameters. Endpoints
    with ``poll=False`` are fetched on request only; ``weight`` gives a polled endpoint a larger share.
    ``measured(value)`` says when the car measured a value (epoch seconds, ``None`` when the value does not
    say), so an older value never replaces a newer one whatever brought it; ``merge(old, new)`` combines a
    partial value with the stored one (a stream that pushes only the keys that changed). ``pushed``: a
    stream keeps this endpoint fresh, so it is polled only while the stream is down. ``every``: polled at
    most this often (seconds), however much budget is free — for values that move on the scale of days.
    ``needs`` maps a query parameter to a resource of the account's session (CarData's container id): the
    reader asks the session for it at the read's own priority before each read.

    An ``EndpointSpec`` constant is also the typed way to read: ``await car.read(BATTERY)`` gives the
    model's type to a type checker, where ``car.refresh("battery")`` gives ``Any``.
    """

    name: str
    path: str
    parse: Callable[[Any], T]
    server: str = "api"
    method: str = "GET"
    poll: bool = True
    weight: float = 1.0
    query: Callable[..., Mapping[str, str]] | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    measured: Callable[[T], float | None] | None = None
    merge: Callable[[T, T], T] | None = None
    pushed: bool = False
    every: float | None = None
    binary: bool = False  # ``parse`` gets the body's bytes (an image), not its JSON
    needs: Mapping[str, str] = attrs.field(factory=dict)

    def needs_parameters(self, context: Mapping[str, str]) -> bool:
        """Whether this endpoint cannot be read without parameters (a history's date range)."""
        try:
            self.request(context, {})
        except InvalidInputError:
            return True
        return False

    def parameters(self) -> tuple[tuple[str, bool], ...]:
        """The on-demand parameters this endpoint takes, each with whether it is required."""
        if self.query is None:
            return ()
        return tuple((p.name, p.default is inspect.Parameter.empty)
                     for p in inspect.signature(self.query).parameters.values()
                     if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD))

    def _check_names(self, params: Mapping[str, Any]) -> None:
        # Said in the caller's words, not as Python's "got an unexpected keyword argument".
        accepted = self.parameters()
        names = {name for name, _ in accepted}
        unknown = sorted(set(params) - names)
        missing = [name for name, required in accepted if required and name not in params]
        if unknown or missing:
            takes = ", ".join(name if required else f"[{name}]" for name, required in accepted)
            problems = [f"unknown {', '.join(unknown)}"] if unknown else []
            problems += [f"missing {', '.join(missing)}"] if missing else []
            raise InvalidInputError(f"{self.name} takes {takes} ({'; '.join(problems)})")

    def request(self, context: Mapping[str, str], params: Mapping[str, Any],
                resources: Mapping[str, str] | None = None) -> Request:
        """The request for this endpoint on one car; bad ``params`` raise :class:`InvalidInputError`.
        ``resources`` are the values of what it ``needs``, by resource name."""
        if self.query is not None:
            self._check_names(params)
            query = dict(self.query(**params))
        elif params:
            raise InvalidInputError(f"{self.name} takes no parameters (got {', '.join(sorted(params))})")
        else:
            query = {}
        if resources:
            query.update({param: resources[name] for param, name in self.needs.items() if name in resources})
        return Request(
            method=self.method,
            server=self.server,
            path=self.path.format_map(context),
            endpoint=self.name,
            params=query or None,
            headers=self.headers,
        )


class Endpoint(Generic[T]):
    """One endpoint of one car: the spec, the latest value and what is known about it.

    ``supported`` is ``None`` until the car has answered (or the brand's model table decided);
    ``fetched_at`` is the wall-clock time (epoch seconds) the latest value arrived, ``measured_at`` when the
    car measured it (``None`` when its source does not say) and ``source`` what brought it: ``"poll"``,
    ``"read"`` (an on-demand or command confirmation read) or ``"push"`` (a stream).
    """

    __slots__ = ("fetched_at", "last_error", "measured_at", "raw", "source", "spec", "supported", "value")

    def __init__(self, spec: EndpointSpec[T], supported: bool | None = None) -> None:
        self.spec = spec
        self.value: T | None = None
        self.raw: Any = None
        self.fetched_at: float | None = None
        self.measured_at: float | None = None
        self.source: str | None = None
        self.supported = supported
        self.last_error: EVClientError | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def stale(self) -> bool:
        """Whether ``value`` is older than the latest attempt to read it (which failed: see ``last_error``)."""
        return self.value is not None and self.last_error is not None

    def __repr__(self) -> str:
        state = {True: "supported", False: "unsupported", None: "unknown"}[self.supported]
        return f"<Endpoint {self.spec.name} {state} fetched_at={self.fetched_at}>"
