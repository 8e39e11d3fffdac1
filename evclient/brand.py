"""The plug-in interface a brand implements. The core knows brands only through this module."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs

from .redact import mask_vin
from .scheduler import DEFAULT_WINDOWS, Window
from .settings import Setting

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from .auth import Auth
    from .clock import Clock
    from .command import CommandSpec
    from .endpoint import Endpoint, EndpointSpec
    from .errors import EVClientError
    from .status import VehicleStatus
    from .streams import StreamSink
    from .transport import Request, Response, WebSocket


class Api(Protocol):
    """What brand code may use of an account: requests at a fixed priority, the clock, endpoints."""

    @property
    def clock(self) -> Clock: ...

    async def request(self, request: Request) -> Response:
        """Send one request through the account's scheduler (and auth, and error decoding)."""

    async def fetch(self, vehicle: VehicleInfo, endpoint: str, **params: Any) -> Any:
        """Read one endpoint of a car (updating its stored value) and return the parsed model."""

    async def authenticate(self) -> None:
        """Make the account's credentials valid now (a renewal is a scheduled request like any other)."""

    def websocket(self, server: str, path: str, *, authenticated: bool = True
                  ) -> AbstractAsyncContextManager[WebSocket]:
        """A WebSocket to one of the brand's servers, on the account's session (for streams)."""
        ...


@attrs.frozen(kw_only=True)
class VehicleInfo:
    """What a brand's vehicle listing says of one car.

    ``context`` fills endpoint path templates (``vin`` is always there); ``capabilities`` holds the
    brand's own capability flags (e.g. BMW's ``doorLock: ACTIVATED``).
    """

    vin: str
    model: str | None = None
    name: str | None = None
    context: Mapping[str, str] = attrs.field(factory=dict)
    capabilities: Mapping[str, str] = attrs.field(factory=dict)
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if "vin" not in self.context:
            object.__setattr__(self, "context", {**self.context, "vin": self.vin})

    def __repr__(self) -> str:
        # A repr ends up in logs and bug reports: no full VIN, registration, account id or dealer address.
        return f"VehicleInfo(vin={mask_vin(self.vin)!r}, model={self.model!r}, name={self.name!r})"

    def to_json(self) -> dict[str, Any]:
        """What :meth:`from_json` takes back (for a cached listing; ``raw`` included)."""
        return {"vin": self.vin, "model": self.model, "name": self.name, "context": dict(self.context),
                "capabilities": dict(self.capabilities), "raw": dict(self.raw)}

    @classmethod
    def from_json(cls, data: Any) -> VehicleInfo:
        """A car as :meth:`to_json` wrote it; ``ValueError`` when the data is not of that shape."""
        if not isinstance(data, Mapping) or not isinstance(data.get("vin"), str) or not data["vin"]:
            raise ValueError("a listed car needs a VIN")
        optional = {key: data.get(key) for key in ("model", "name")}
        if any(v is not None and not isinstance(v, str) for v in optional.values()):
            raise ValueError("a listed car's model and name are strings")
        maps = {key: data.get(key) or {} for key in ("context", "capabilities", "raw")}
        if not all(isinstance(v, Mapping) for v in maps.values()):
            raise ValueError("a listed car's context, capabilities and raw data are mappings")
        for key in ("context", "capabilities"):
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in maps[key].items()):
                raise ValueError(f"a listed car's {key} maps strings to strings")
        return cls(vin=data["vin"], model=optional["model"], name=optional["name"], context=dict(maps["context"]),
                   capabilities=dict(maps["capabilities"]), raw=dict(maps["raw"]))


class Brand(abc.ABC):
    """One car cloud. Subclasses declare the class attributes and implement the abstract methods.

    An instance belongs to one account: it holds that account's credentials (as
    :class:`~evclient.auth.Secret` where they are secret) and settings such as the region.
    """

    name: ClassVar[str]
    #: How people call this cloud ("MyRenault"), and who makes the cars.
    title: ClassVar[str] = ""
    manufacturer: ClassVar[str] = ""
    #: Why a brand is kept only for its protocol (its servers no longer answer third parties), or ``None``.
    legacy: ClassVar[str | None] = None
    #: What ``connect()`` takes (see :class:`~evclient.settings.Setting`).
    settings: ClassVar[tuple[Setting, ...]] = ()
    #: The login challenges this brand may raise ``TwoFactorRequired`` with (e.g. ``"email-code"``).
    login_challenges: ClassVar[tuple[str, ...]] = ()
    #: Named base URLs; ``connect(servers=...)`` overrides any of them.
    servers: ClassVar[Mapping[str, str]]
    windows: ClassVar[Sequence[Window]] = DEFAULT_WINDOWS
    #: The server background polls go to (its windows set the poll rhythm).
    poll_server: ClassVar[str] = "api"
    #: Pause after a quota error when the server gives no Retry-After (seconds).
    cooldown: ClassVar[float] = 900.0
    #: The longest pause a server's Retry-After (or a saved state) may impose; a brand with a daily quota
    #: declares up to a day.
    max_pause: ClassVar[float] = 3600.0
    endpoints: ClassVar[Sequence[EndpointSpec[Any]]] = ()
    commands: ClassVar[Sequence[CommandSpec]] = ()
    #: What a stream needs beyond evclient: the module it imports and the extra that installs it.
    stream_requires: ClassVar[str | None] = None
    stream_extra: ClassVar[str | None] = None
    #: Seconds a connected stream may stay silent before its endpoints are polled again (``None``: silence
    #: is healthy, e.g. a parked car that has nothing to say).
    stream_silence: ClassVar[float | None] = None

    def __init__(self, **credentials: Any) -> None:  # noqa: B027 - a brand without credentials keeps it
        """Validate and keep the account's credentials; raise ``InvalidInputError`` on bad ones."""

    @classmethod
    def identity(cls) -> str:
        """The setting that names the account (``username`` unless the brand says otherwise)."""
        return next((s.name for s in cls.settings if s.identity), "username")

    @classmethod
    def label(cls) -> str:
        """The title, marked when the brand is legacy."""
        title = cls.title or cls.name
        return f"{title} (legacy)" if cls.legacy else title

    def default_servers(self) -> dict[str, str]:
        """The base URLs for this account (a brand with regions picks them here)."""
        return dict(self.servers)

    @abc.abstractmethod
    def create_auth(self, tokens: Mapping[str, Any] | None) -> Auth:
        """The auth strategy, resumed from saved ``tokens`` when given."""

    @abc.abstractmethod
    async def list_vehicles(self, api: Api) -> list[VehicleInfo]:
        """The account's cars."""

    async def account_choices(self, api: Api) -> list[tuple[str, str]]:
        """Sub-accounts the login can choose between, as ``(id, label)``; none by default."""
        return []

    @abc.abstractmethod
    def decode_error(self, response: Response, wall_now: float) -> EVClientError | None:
        """The evclient error a response stands for, or ``None`` when it is a success."""

    def endpoint_for(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> EndpointSpec[Any]:
        """The endpoint as this car's model has it (a model may answer in other units or at another path)."""
        return spec

    def endpoint_supported(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> bool | None:
        """Whether the car's model has this endpoint; ``None`` means unknown (try it and learn)."""
        return None

    def command_supported(self, vehicle: VehicleInfo, spec: CommandSpec) -> bool | None:
        """Whether the car can run this command; ``False`` refuses it before any request."""
        return None

    def command_params(self, vehicle: VehicleInfo, spec: CommandSpec, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """The parameters a command is validated with: the caller's, plus any the brand holds for the account
        (e.g. BMW's security answer for unlocking)."""
        return params

    def common_params(self, server: str) -> Mapping[str, str]:
        """Query parameters every request to ``server`` carries (e.g. Kamereon's ``country``)."""
        return {}

    def vehicle_status(self, endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
        """The car's brand-agnostic status from its endpoints' latest values (see :mod:`evclient.status`)."""
        from .status import VehicleStatus

        return VehicleStatus()

    def has_stream(self) -> bool:
        """Whether this account's brand pushes values (by default: whether it implements :meth:`open_stream`)."""
        return type(self).open_stream is not Brand.open_stream

    async def open_stream(self, api: Api, cars: Sequence[VehicleInfo], sink: StreamSink) -> None:
        """Run the brand's stream until the connection ends (see :mod:`evclient.streams`). A brand without
        a stream leaves this as it is."""
        raise NotImplementedError(f"{self.name} has no stream")

    def is_unsupported(self, error: EVClientError) -> bool:
        """Whether an endpoint's error means the car will never support it (drop it from polling)."""
        from .errors import NotSupportedError

        return isinstance(error, NotSupportedError)
