"""The two types brand code and the core share, in a leaf module: :class:`Api`, what brand code may use of an
account, and :class:`VehicleInfo`, what a listing says of one car. It imports nothing of evclient's but the
redaction helper, so every other module can import it without a loop."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from .redact import mask_vin

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from .clock import Clock
    from .transport import Request, Response


class Api(Protocol):
    """What brand code may use of an account: requests at a fixed priority, the clock, endpoints."""

    @property
    def clock(self) -> Clock: ...

    async def request(self, request: Request) -> Response:
        """Send one request through the account's scheduler (and auth, and error decoding)."""

    async def fetch(self, vehicle: VehicleInfo, endpoint: str, **params: Any) -> Any:
        """Read one endpoint of a car (updating its stored value) and return the parsed model."""

    def age(self, vehicle: VehicleInfo, endpoint: str) -> float | None:
        """Seconds since the car's value of ``endpoint`` arrived, whatever brought it (``None``: none yet)."""
        ...

    async def authenticate(self, *, renew: bool = False) -> None:
        """Make the account's credentials valid now (a renewal is a scheduled request like any other);
        ``renew``: renew them whatever their expiry (a server refused them)."""

    def admitted(self, server: str) -> AbstractAsyncContextManager[None]:
        """A slot from the budget for a connection that is not HTTP (e.g. an MQTT stream), held while it opens."""
        ...

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context the application gave (``connect(ssl_context=...)``), for a brand's own connections
        (a stream); ``None``: the system's trust store, verification on."""
        ...

    def server_url(self, server: str) -> str:
        """The base URL of one of the brand's servers for this account."""
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
