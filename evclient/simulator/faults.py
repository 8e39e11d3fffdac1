"""Scripted trouble: answers the simulator gives instead of (or before) the normal one.

A :class:`Fault` applies to the routes matching ``route`` (a glob on route names such as
``renault-ze.battery`` or ``renault-ze.*``), optionally only for one ``account``, ``times`` times
(``None``: until cleared).
"""

from __future__ import annotations

import enum
import fnmatch
import random
from typing import Any

import attrs


class FaultKind(enum.Enum):
    STATUS = "status"  # answer ``status`` with ``body`` (JSON) and ``headers``
    MALFORMED = "malformed"  # 200 with a body that is not JSON
    TRUNCATED = "truncated"  # the normal answer cut in half
    HTML = "html"  # an HTML error page from a proxy, with ``status`` (default 502)
    DROP = "drop"  # close the connection without answering
    DELAY = "delay"  # answer normally after ``delay`` seconds
    REVOKE = "revoke"  # revoke the account's tokens, then answer normally (so: 401)
    EMPTY = "empty"  # ``status`` (default 200) with an empty body
    SLOW_BODY = "slow_body"  # the normal answer's headers at once, its body trickled out over ``delay`` seconds
    QUOTA = "quota"  # the brand's own quota answer, asking to wait ``retry_after`` seconds
    RAW = "raw"  # ``status`` (default 200) with ``body`` sent as it is (text or bytes), with ``headers``


_DEFAULT_STATUS = {FaultKind.STATUS: 500, FaultKind.HTML: 502}


@attrs.define(kw_only=True)
class Fault:
    """One kind of trouble; ``delay`` (simulated-loop seconds) may accompany any kind."""

    kind: FaultKind = FaultKind.STATUS
    route: str = "*"
    account: str | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0
    times: int | None = 1
    revoke_refresh: bool = False
    retry_after: float = 3600.0

    @property
    def effective_status(self) -> int:
        return self.status or _DEFAULT_STATUS.get(self.kind, 200)

    def matches(self, route: str, account: str | None) -> bool:
        if self.account is not None and self.account != account:
            return False
        return fnmatch.fnmatchcase(route, self.route)

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        """Build a fault from ``POST /_sim/faults`` JSON; raises ``ValueError`` on a bad description."""
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(data) - {f.name for f in attrs.fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        try:
            values["kind"] = FaultKind(values.get("kind", "status"))
        except ValueError:
            raise ValueError(f"unknown fault kind {data.get('kind')!r}") from None
        if not isinstance(values.get("route", "*"), str):
            raise ValueError("route must be a string")
        if not isinstance(values.get("retry_after", 1.0), int | float) or values.get("retry_after", 1.0) <= 0:
            raise ValueError("retry_after must be a positive number")
        for key in ("status", "times"):
            if values.get(key) is not None and not isinstance(values[key], int):
                raise ValueError(f"{key} must be a whole number")
        if not isinstance(values.get("delay", 0.0), int | float) or values.get("delay", 0.0) < 0:
            raise ValueError("delay must be a non-negative number")
        if not isinstance(values.get("headers", {}), dict):
            raise ValueError("headers must be an object")
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["kind"] = self.kind.value
        if isinstance(self.body, bytes):
            data["body"] = f"<{len(self.body)} bytes>"
        return data


class FaultBook:
    """The faults in force, first added first used."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, *faults: Fault) -> None:
        self._faults.extend(faults)

    def take(self, route: str, account: str | None) -> Fault | None:
        """The first fault matching this request, counting one use of it."""
        for fault in self._faults:
            if fault.matches(route, account):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def __iter__(self) -> Any:
        return iter(list(self._faults))

    def __len__(self) -> int:
        return len(self._faults)


def _chaos_faults() -> tuple[Fault, ...]:
    return (
        Fault(status=500), Fault(status=502), Fault(status=503), Fault(kind=FaultKind.HTML),
        Fault(kind=FaultKind.DROP), Fault(kind=FaultKind.TRUNCATED), Fault(kind=FaultKind.MALFORMED, status=200),
        Fault(kind=FaultKind.DELAY, delay=90.0), Fault(kind=FaultKind.SLOW_BODY, delay=90.0),
        Fault(kind=FaultKind.EMPTY), Fault(kind=FaultKind.REVOKE),
        Fault(status=429, headers={"Retry-After": "300"}, body={}), Fault(kind=FaultKind.QUOTA, retry_after=900.0),
    )


@attrs.define
class Chaos:
    """Random trouble for soak tests: each brand request meets one of ``faults`` with probability ``rate``.

    Seeded, so a run can be repeated; ``injected`` counts the faults dealt out.
    """

    rate: float
    seed: int = 0
    faults: tuple[Fault, ...] = attrs.field(factory=_chaos_faults)
    injected: int = 0
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError("rate is a probability: 0 ≤ rate ≤ 1")
        self._rng = random.Random(self.seed)

    def pick(self) -> Fault | None:
        if self._rng.random() >= self.rate:
            return None
        self.injected += 1
        return self._rng.choice(self.faults)
