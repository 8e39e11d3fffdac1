"""The simulated world: accounts, cars and their physics, issued tokens, the outbox.

Physics is lazy: a car's state is brought up to the clock's "now" whenever it is read, by integrating
charging between the events of its agenda (a command taking effect, a schedule slot starting …). So a
simulated day costs nothing while nobody asks, and a test can jump the clock by hours.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import jwt

from .clock import SimClock

if TYPE_CHECKING:
    from .brands import SimBrand

#: Signs the simulator's JWTs. Not a secret: the simulator is a test double.
SIGNING_KEY = "evclient-simulator-signing-key-not-a-secret-000"

#: Messages the outbox keeps (the newest).
OUTBOX_KEPT = 1000

#: Where a charge stops by itself (percent).
FULL = 100.0


@attrs.define(kw_only=True)
class SimAccount:
    """An account at one brand's simulated cloud."""

    brand: str
    username: str
    password: str
    email: str | None = None
    two_factor: bool = False
    #: Brand-specific settings (e.g. BMW's app key and secret).
    extra: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class CommandScript:
    """How the car answers a command: after ``latency`` seconds, with ``outcome``.

    ``auto`` lets the physics decide (e.g. preconditioning fails at a low battery); ``success`` and
    ``fail`` force it; ``never`` means the car never answers (the command times out). ``execution`` is
    how long before its answer the car received the command (BMW's DELIVERED phase; default: the
    brand's own choice).
    """

    latency: float = 20.0
    outcome: str = "auto"
    execution: float | None = None

    OUTCOMES = ("auto", "success", "fail", "never")

    def __attrs_post_init__(self) -> None:
        if self.outcome not in self.OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(self.OUTCOMES)}")
        if self.latency < 0:
            raise ValueError("latency must not be negative")
        if self.execution is not None and not 0 <= self.execution <= self.latency:
            raise ValueError("execution must lie between 0 and the latency")


@attrs.define(kw_only=True, eq=False)
class Car:
    """One simulated car. Units are in the names; ``extra`` holds brand-specific state."""

    brand: str
    vin: str
    owner: str
    model: str | None = None
    name: str | None = None
    timezone: str = "UTC"
    capabilities: dict[str, Any] = attrs.field(factory=dict)
    battery_level: float = 50.0  # percent
    battery_capacity_kwh: float = 41.0
    full_range_km: float = 300.0
    plugged: bool = False
    charging: bool = False
    charge_power_kw: float = 7.4
    charging_point: str = "INVALID"
    mileage_km: float = 0.0
    latitude: float = 0.0
    longitude: float = 0.0
    locked: bool = True
    hvac_on: bool = False
    hvac_until: float | None = None
    outside_temperature_c: float = 12.0
    #: When the car last reported to the cloud (simulated epoch seconds; a negative value in a fixture
    #: means that many seconds before the car joins the world).
    last_update: float = 0.0
    #: Simulated time the state is integrated up to.
    t: float = 0.0
    extra: dict[str, Any] = attrs.field(factory=dict)

    def zone(self) -> dt.tzinfo:
        """The car's time zone (UTC when this machine does not know it)."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return dt.UTC

    @property
    def range_km(self) -> float:
        return round(self.full_range_km * self.battery_level / 100.0, 1)

    @property
    def minutes_to_full(self) -> int | None:
        if not self.charging or self.charge_power_kw <= 0:
            return None
        kwh = (FULL - self.battery_level) / 100.0 * self.battery_capacity_kwh
        return max(0, round(kwh / self.charge_power_kw * 60))

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self, filter=lambda a, v: a.name not in {"t"})
        data["range_km"] = self.range_km
        data["minutes_to_full"] = self.minutes_to_full
        return data


@attrs.define
class Message:
    """Something the cloud "sent" its user: a notification, a two-factor code."""

    t: float
    brand: str
    to: str
    channel: str
    subject: str
    body: str


@attrs.define
class IssuedToken:
    brand: str
    username: str
    kind: str  # "access" or "refresh"
    expires: float | None


Hook = Callable[["World", Car], None]


class World:
    """Everything the simulated clouds know. Brands add their accounts and cars at start."""

    def __init__(self, clock: SimClock | None = None) -> None:
        self.clock = clock or SimClock()
        self.accounts: dict[tuple[str, str], SimAccount] = {}
        self.cars: dict[str, Car] = {}
        self.outbox: list[Message] = []
        self.tokens: dict[str, IssuedToken] = {}
        self.scripts: dict[tuple[str, str], CommandScript] = {}
        self.brands: dict[str, SimBrand] = {}
        self._agenda: list[tuple[float, int, str, Hook]] = []
        self._seq = itertools.count()

    # -- accounts and cars -----------------------------------------------------------------------------

    def add_account(self, account: SimAccount) -> SimAccount:
        self.accounts[(account.brand, account.username)] = account
        return account

    def account(self, brand: str, username: str | None) -> SimAccount | None:
        return None if username is None else self.accounts.get((brand, username))

    def add_car(self, car: Car) -> Car:
        self.cars[car.vin] = car
        brand = self.brands.get(car.brand)
        if brand is not None:
            brand.setup_car(self, car)
        return car

    def car(self, vin: str) -> Car | None:
        """A car with its state brought up to now, or ``None``."""
        car = self.cars.get(vin)
        if car is not None:
            self.advance(car)
        return car

    def cars_of(self, brand: str, username: str) -> list[Car]:
        return [self.advance(c) for c in self.cars.values() if c.brand == brand and c.owner == username]

    # -- commands --------------------------------------------------------------------------------------

    def script(self, vin: str, command: str) -> CommandScript:
        """How the car answers ``command`` (a per-car script, else the ``*`` one, else the default)."""
        return self.scripts.get((vin, command)) or self.scripts.get(("*", command)) or CommandScript()

    def scripted(self, vin: str, command: str) -> CommandScript | None:
        """The script set for ``command`` on this car (or on every car), or ``None``."""
        return self.scripts.get((vin, command)) or self.scripts.get(("*", command))

    def set_script(
        self, command: str, *, vin: str = "*", latency: float = 20.0, outcome: str = "auto",
        execution: float | None = None,
    ) -> None:
        self.scripts[(vin, command)] = CommandScript(latency=latency, outcome=outcome, execution=execution)

    # -- time and physics ------------------------------------------------------------------------------

    def at(self, when: float, car: Car, hook: Hook) -> None:
        """Run ``hook`` on ``car`` when simulated time reaches ``when``."""
        heapq.heappush(self._agenda, (when, next(self._seq), car.vin, hook))

    def cancel(self, car: Car, predicate: Callable[[Hook], bool]) -> None:
        """Drop the car's pending events whose hook matches."""
        self._agenda = [e for e in self._agenda if not (e[2] == car.vin and predicate(e[3]))]
        heapq.heapify(self._agenda)

    def advance(self, car: Car, now: float | None = None) -> Car:
        """Integrate the car's state up to ``now``, running its due events in order."""
        now = self.clock.wall() if now is None else now
        if not car.t:
            # The car joins the timeline on first use (the clock anchors lazily, see SimClock).
            car.t = now
            car.last_update = now + car.last_update if car.last_update <= 0 else car.last_update
            self.emit(car, "joined")
        while True:
            due = [e for e in self._agenda if e[2] == car.vin and e[0] <= now]
            if not due:
                break
            event = min(due)
            self._agenda.remove(event)
            heapq.heapify(self._agenda)
            self._integrate(car, event[0])
            event[3](self, car)
        self._integrate(car, now)
        return car

    def advance_all(self) -> None:
        for car in self.cars.values():
            self.advance(car)

    def _integrate(self, car: Car, until: float) -> None:
        while True:
            if car.hvac_on and car.hvac_until is not None and car.hvac_until <= car.t:
                car.hvac_on = False
                car.hvac_until = None
                self.emit(car, "hvac_stopped")
            if car.t >= until:
                return
            step_end = until
            if car.hvac_on and car.hvac_until is not None:
                step_end = min(step_end, car.hvac_until)
            self._charge(car, step_end)
            car.t = step_end

    def _charge(self, car: Car, until: float) -> None:
        if not (car.charging and car.plugged and car.charge_power_kw > 0):
            return
        start = car.t
        per_second = car.charge_power_kw / car.battery_capacity_kwh * 100.0 / 3600.0
        full_at = start + max(0.0, FULL - car.battery_level) / per_second
        if full_at <= until:
            car.battery_level = FULL
            car.t = full_at
            self.stop_charging(car, reason="full")
            return
        car.battery_level = min(FULL, car.battery_level + per_second * (until - start))
        # A charging car reports to the cloud every five minutes.
        car.last_update = max(car.last_update, math.floor(until / 300.0) * 300.0)

    def emit(self, car: Car, event: str) -> None:
        brand = self.brands.get(car.brand)
        if brand is not None:
            brand.on_event(self, car, event)

    def start_charging(self, car: Car) -> bool:
        """Start charging if the car is plugged and not full; say whether it charges now."""
        if car.charging or not car.plugged or car.battery_level >= FULL:
            return car.charging
        car.charging = True
        car.last_update = car.t
        self.emit(car, "charge_started")
        return True

    def stop_charging(self, car: Car, *, reason: str) -> None:
        if not car.charging:
            return
        car.charging = False
        car.last_update = car.t
        self.emit(car, f"charge_ended:{reason}")

    def start_hvac(self, car: Car, seconds: float = 300.0) -> None:
        car.hvac_on = True
        car.hvac_until = car.t + seconds
        car.last_update = car.t
        self.emit(car, "hvac_started")

    # -- tokens ----------------------------------------------------------------------------------------

    def _forget_expired(self) -> None:
        """Drop tokens expired over a day ago (a month-long soak must not grow the world without end)."""
        if len(self.tokens) < 512:
            return
        horizon = self.clock.wall() - 86400
        for token, issued in list(self.tokens.items()):
            if issued.expires is not None and issued.expires < horizon:
                del self.tokens[token]

    def issue_jwt(self, brand: str, username: str, lifetime: float, claims: dict[str, Any] | None = None) -> str:
        """A signed JWT (``sub``, ``jti``, ``iat``, ``exp``) the simulator will accept until it expires."""
        now = self.clock.wall()
        expires = int(now + lifetime)
        payload: dict[str, Any] = {"sub": username, "jti": secrets.token_hex(16), "iat": int(now), "exp": expires}
        payload.update(claims or {})
        token = jwt.encode(payload, SIGNING_KEY, algorithm="HS256")
        self.tokens[token] = IssuedToken(brand, username, "access", float(expires))
        self._forget_expired()
        return token

    def issue_opaque(self, brand: str, username: str, kind: str, lifetime: float | None = None) -> str:
        token = secrets.token_urlsafe(24)
        expires = None if lifetime is None else self.clock.wall() + lifetime
        self.tokens[token] = IssuedToken(brand, username, kind, expires)
        self._forget_expired()
        return token

    def token(self, brand: str, token: str, kind: str = "access") -> tuple[IssuedToken | None, str]:
        """Look a token up: ``(issued, "ok")`` or ``(issued or None, reason)`` with reason
        ``unknown`` / ``expired`` (``issued`` is known for an expired or revoked-then-unknown token)."""
        issued = self.tokens.get(token)
        if issued is None or issued.brand != brand or issued.kind != kind:
            return None, "unknown"
        if issued.expires is not None and issued.expires <= self.clock.wall():
            return issued, "expired"
        return issued, "ok"

    def revoke(self, brand: str, username: str, *, refresh: bool = False) -> int:
        """Forget the account's access tokens (and refresh tokens too with ``refresh``)."""
        kinds = {"access"} | ({"refresh"} if refresh else set())
        gone = [t for t, i in self.tokens.items() if i.brand == brand and i.username == username and i.kind in kinds]
        for token in gone:
            del self.tokens[token]
        return len(gone)

    # -- outbox ----------------------------------------------------------------------------------------

    def send(self, brand: str, to: str, channel: str, subject: str, body: str) -> None:
        self.outbox.append(Message(self.clock.wall(), brand, to, channel, subject, body))
        del self.outbox[:-OUTBOX_KEPT]

    def messages(self, to: str | None = None) -> list[Message]:
        """What the cloud has sent so far (the world is brought up to now first)."""
        self.advance_all()
        return [m for m in self.outbox if to is None or m.to == to]
