"""The plug-in interface a brand implements. The core knows brands only through this module.

A brand is two things: a :class:`Brand` — its declaration, data and pure functions, the same for every account
(an instance holds nothing) — and a :class:`Session`, made by the core for each account from the account's
settings: its servers, its auth, its listing, the resources its endpoints need and its stream.

:class:`Api` (what brand code may use of an account) and :class:`VehicleInfo` (a listed car) live in the leaf
module :mod:`evclient.api` and are re-exported here.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from .api import Api, VehicleInfo
from .errors import CommandNotSupported, NotSupportedError
from .redact import hide_keys
from .scheduler import DEFAULT_WINDOWS, Window
from .settings import Setting, Settings, read_settings
from .status import StatusPart, VehicleStatus, whole
from .transport import MAX_ANSWER

if TYPE_CHECKING:
    from .actions import Action, ActionMap
    from .auth import Auth
    from .command import CommandSpec
    from .endpoint import Endpoint, EndpointSpec
    from .errors import EVClientError
    from .streams import StreamSink, StreamSpec
    from .transport import Response

__all__ = ["Api", "Brand", "Session", "VehicleInfo"]


class Brand(abc.ABC):
    """One car cloud, declared. Subclasses set the class attributes and the pure methods; everything that
    belongs to one account (credentials, tokens, what its listing found) lives on the :attr:`session` class
    it names. An instance holds nothing: setting an attribute on one raises ``AttributeError``.
    """

    name: ClassVar[str]
    #: How people call this cloud ("MyRenault"), and who makes the cars.
    title: ClassVar[str] = ""
    manufacturer: ClassVar[str] = ""
    #: Why a brand is kept only for its protocol (its servers no longer answer third parties), or ``None``.
    legacy: ClassVar[str | None] = None
    #: What ``connect()`` takes (see :class:`~evclient.settings.Setting`); the declarations are the validation.
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
    #: The largest answer read from any of its servers, in bytes once decompressed (larger for images).
    max_answer: ClassVar[int] = MAX_ANSWER
    endpoints: ClassVar[Sequence[EndpointSpec[Any]]] = ()
    commands: ClassVar[Sequence[CommandSpec]] = ()
    #: The typed actions (:mod:`evclient.actions`) its cars can run, by action name: each maps the action to one
    #: of :attr:`commands` and its parameters.
    actions: ClassVar[Mapping[str, ActionMap]] = {}
    #: Status fields held by endpoints that are read on demand, not polled (``Vehicle.read_status`` reads them):
    #: field → the endpoints that may hold it, in the order to try.
    status_reads: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: The brand's stream, when it has one (its session then implements ``open_stream``).
    stream: ClassVar[StreamSpec | None] = None
    #: The per-account side: made by :meth:`open_session` for each account.
    session: ClassVar[type[Session]]
    #: Wire names (query parameters, body fields, headers; any letter case) whose values are secret or
    #: personal in this brand's protocol, hidden in every log line and diagnostics from the moment the class
    #: is made (the core hides the common ones: password, token, vin, latitude …).
    secret_keys: ClassVar[frozenset[str]] = frozenset()

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Secret settings too (an app secret, a security answer): a new brand's secrets are hidden without an edit.
        hide_keys(cls.secret_keys | {setting.name for setting in cls.settings if setting.secret})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a brand is a declaration shared by every account; {name!r} belongs on its Session")

    @classmethod
    def open_session(cls, **given: Any) -> Session:
        """A new account's session: ``given`` (``connect()``'s keywords) checked against :attr:`settings`
        (``InvalidInputError`` before any request) and handed to :attr:`session`."""
        return cls.session(cls(), read_settings(cls.name, cls.settings, given))

    @classmethod
    def identity(cls) -> str:
        """The setting that names the account (``username`` unless the brand says otherwise)."""
        return next((s.name for s in cls.settings if s.identity), "username")

    @classmethod
    def label(cls) -> str:
        """The title, marked when the brand is legacy."""
        title = cls.title or cls.name
        return f"{title} (legacy)" if cls.legacy else title

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

    def command_for(self, vehicle: VehicleInfo, action: Action) -> tuple[str, Mapping[str, Any]]:
        """The command (and its parameters) that runs ``action`` on this car; ``CommandNotSupported`` where the
        brand has none, ``InvalidInputError`` for a value it cannot take."""
        mapped = self.actions.get(action.name)
        if mapped is None:
            raise CommandNotSupported(f"{self.name} cars cannot {action.name}")
        return mapped(vehicle, action)

    def vehicle_status(self, endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
        """The car's brand-agnostic status from its endpoints' latest values (see :mod:`evclient.status`)."""
        return VehicleStatus()

    def status_parts(self) -> Sequence[StatusPart]:
        """The status in parts, each built again only when what it reads changed (by default one part: the
        whole :meth:`vehicle_status`)."""
        return whole(self.vehicle_status)

    def default_pause(self, wall_now: float, server: str) -> float:
        """The pause after ``server``'s quota answer that names no time (``cooldown``; a daily quota: until it
        resets)."""
        return self.cooldown


class Session(abc.ABC):
    """One account's side of a brand, made by the core per account (:meth:`Brand.open_session`): what the
    account's settings pick, its auth, its listing, the resources its endpoints need (``EndpointSpec.needs``)
    and its stream. Brand code reaches the account only through the ``api`` door each call gets.
    """

    def __init__(self, brand: Brand, settings: Settings) -> None:
        #: The declaration this session belongs to.
        self.brand = brand
        #: The account's settings, checked (secret ones as :class:`~evclient.auth.Secret`).
        self.settings = settings

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.brand.name}>"

    def servers(self) -> dict[str, str]:
        """The base URLs for this account (a brand with regions picks them from its settings)."""
        return dict(self.brand.servers)

    def common_params(self, server: str) -> Mapping[str, str]:
        """Query parameters every request to ``server`` carries (e.g. Kamereon's ``country``)."""
        return {}

    @abc.abstractmethod
    def create_auth(self, tokens: Mapping[str, Any] | None) -> Auth:
        """The auth strategy, resumed from saved ``tokens`` when given."""

    @abc.abstractmethod
    async def list_vehicles(self, api: Api) -> list[VehicleInfo]:
        """The account's cars."""

    async def account_choices(self, api: Api) -> list[tuple[str, str]]:
        """Sub-accounts the login can choose between, as ``(id, label)``; none by default."""
        return []

    def left_out(self) -> Mapping[str, str]:
        """Cars the login sees that the account leaves out, by VIN, each with the reason (e.g. CarData's cars
        mapped to a SECONDARY user, which BMW lets nobody read). Shown in diagnostics and ``evclient vehicles``."""
        return {}

    def command_params(self, vehicle: VehicleInfo, spec: CommandSpec, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """The parameters a command is validated with: the caller's, plus any the account holds (e.g. BMW's
        security answer for unlocking)."""
        return params

    async def resource(self, api: Api, name: str) -> str:
        """The value of a resource an endpoint ``needs`` (CarData's container id), found or made through
        ``api`` — the door at the priority of the read that needs it. Asked before every such read: keep it."""
        raise NotSupportedError(f"{self.brand.name} has no resource {name!r}")

    def forget(self, name: str) -> None:  # noqa: B027 - a brand without resources keeps it
        """Drop a kept resource: a read that needed it failed with :class:`~evclient.errors.ResourceGone`."""

    async def open_stream(self, api: Api, cars: Sequence[VehicleInfo], sink: StreamSink) -> None:
        """Open one connection of the brand's stream and hand its messages to ``sink`` until it ends (see
        :mod:`evclient.streams`); never retry or sleep: reconnecting is the runner's. A brand without a stream
        (``Brand.stream`` is ``None``) leaves this as it is."""
        raise NotImplementedError(f"{self.brand.name} has no stream")
