"""The simulated clouds, one module per brand; each registers a :class:`SimBrand`.

Every module in this package is imported when the simulator first asks for its brands, so a new brand's
simulator is one more module here; nothing names it.

A brand's routes are named ``<brand>.<endpoint>`` so that the request log, faults and quota know
which brand and endpoint a request was for.
"""

from __future__ import annotations

import abc
import importlib
import pkgutil
import ssl
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from aiohttp import web

from ...actions import Action

if TYPE_CHECKING:
    from ..world import Car, SimAccount, World

DEMO_USERNAME = "demo@evclient.dev"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the simulator's published demo account


async def json_body(request: web.Request) -> Any:
    """The request's JSON body, or ``None`` when it has none or it is not JSON (routes answer that themselves)."""
    try:
        return await request.json()
    except ValueError:
        return None


class Refusal(Exception):
    """Raised inside a route to answer with ``response`` (an error in the brand's own shape) at once."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


#: The kinds of call the fault matrix injects trouble into, in its table's order.
ROUTE_CLASSES = ("login", "token refresh", "listing", "poll", "command submit", "command status")


@attrs.frozen(kw_only=True)
class Rehearsal:
    """What evclient's own tools — the demo, the fault matrix, the soak — do with a brand on the default
    world, declared beside its simulator so that none of those tools names a brand.

    ``routes`` maps each of :data:`ROUTE_CLASSES` to the simulator's route name that serves it (``None``: the
    brand makes no such call, e.g. a listing that comes with the login); ``action`` is a typed action the demo
    car runs with a status walk, through the brand command the routes name (``None``: a read-only brand);
    ``account`` is the simulator's name for the demo account when it is not the demo user name (the stream faults
    address it).
    """

    vin: str
    poll: str
    routes: dict[str, str | None]
    action: Action | None = None
    account: str = DEMO_USERNAME

    def __attrs_post_init__(self) -> None:
        if set(self.routes) != set(ROUTE_CLASSES):
            raise ValueError(f"a rehearsal names a route for each of {', '.join(ROUTE_CLASSES)}")


class SimBrand(abc.ABC):
    """One brand's simulated cloud."""

    #: The evclient brand name it serves.
    name: ClassVar[str]
    #: The brand's server names → path prefixes on the simulator (its "base URLs").
    mounts: ClassVar[dict[str, str]]
    #: How many requests the sliding quota window holds, and how many seconds it spans.
    quota: ClassVar[tuple[int, float]] = (60, 3600.0)
    #: Folder name of the brand's fixtures.
    fixtures: ClassVar[str]
    #: What the demo, the fault matrix and the soak do with it.
    rehearsal: ClassVar[Rehearsal]

    def __init__(self, world: World) -> None:
        self.world = world

    @abc.abstractmethod
    def add_routes(self, app: web.Application) -> None:
        """Add the brand's routes (named ``<brand>.<endpoint>``) under its mounts."""

    @abc.abstractmethod
    async def identify(self, request: web.Request, world: World) -> str | None:
        """The account (username) a request belongs to, even when its token has expired."""

    @abc.abstractmethod
    def quota_response(self, retry_after: float) -> web.StreamResponse:
        """The brand's own answer once an account has used up its quota."""

    @classmethod
    def demo_credentials(cls) -> dict[str, Any]:
        """What ``evclient.connect`` needs for the default world's demo account."""
        return {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}

    def default_accounts(self) -> list[SimAccount]:
        """Accounts of the default world."""
        from ..world import SimAccount

        return [SimAccount(brand=self.name, username=DEMO_USERNAME, password=DEMO_PASSWORD, email=DEMO_USERNAME)]

    def load_car(self, data: dict[str, Any]) -> Car:
        """A car from its fixture (``fixtures/<brand>/cars/*.json``)."""
        from ..world import Car

        return Car(
            brand=self.name,
            owner=data.get("owner", DEMO_USERNAME),
            extra=dict(data.get("extra", {})),
            **{k: v for k, v in data.items() if k not in {"owner", "extra", "comment"}},
        )

    def setup_car(self, world: World, car: Car) -> None:  # noqa: B027 - optional hook
        """Complete a car's brand-specific state when it joins the world."""

    def on_event(self, world: World, car: Car, event: str) -> None:  # noqa: B027 - optional hook
        """React to a physics event (``charge_started``, ``charge_ended:<reason>``, ``hvac_started`` …)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop what the brand runs besides its routes (a broker, a publisher)."""

    async def start_tls(self, host: str, context: ssl.SSLContext) -> dict[str, str]:
        """Open the brand's TLS listeners on ``host`` (a simulator started with ``tls=True``); returns the
        servers they serve (name → URL). Most brands have none."""
        return {}

    #: Whether the brand streams (then it offers the two stream faults below).
    streams: ClassVar[bool] = False

    async def stream_raw(self, username: str, vin: str, payload: bytes) -> None:
        """Send any bytes on the stream as a message about ``vin`` of account ``username`` (a poison message)."""
        raise NotImplementedError(f"{self.name} has no stream")

    def refuse_stream(self, username: str, refuse: bool = True) -> None:
        """Refuse (or again accept) every stream connection of account ``username`` as not authorised."""
        raise NotImplementedError(f"{self.name} has no stream")


_REGISTRY: dict[str, type[SimBrand]] = {}
_discovered = False


def register(brand: type[SimBrand]) -> type[SimBrand]:
    """Make a simulated brand part of every new :class:`~evclient.simulator.Simulator`."""
    _REGISTRY[brand.name] = brand
    return brand


def all_brands() -> dict[str, type[SimBrand]]:
    """Every simulated brand (the modules of this package are imported on first use)."""
    global _discovered
    if not _discovered:
        _discovered = True
        for module in pkgutil.iter_modules(__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(_REGISTRY.items()))
