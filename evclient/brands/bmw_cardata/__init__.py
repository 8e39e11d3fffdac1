"""BMW CarData (``bmw-cardata``): the one BMW API that still answers third parties (since 2025-09-29).

``evclient.connect("bmw-cardata", client_id=...)`` — the client id is the owner's, made in BMW's CarData portal.
The first login raises ``TwoFactorRequired`` with a device-code challenge (link, code); later ones resume from the
tokens. CarData reads only: no remote commands. Its REST API allows **50 calls a day** for all the owner's cars
(every call counts: listing, containers, telematics, pages, retries); its MQTT stream pushes every change, so
``telematics`` is polled only while the stream is down. The stream needs the ``cardata`` extra (``aiomqtt``);
without it the brand polls within the 50 calls and says so once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from ... import brands
from ...auth import Auth
from ...brand import Api, Brand, Session, VehicleInfo
from ...endpoint import Endpoint, EndpointSpec
from ...errors import EVClientError, InvalidInputError, reading
from ...scheduler import Window
from ...settings import Setting, Settings
from ...status import StatusPart, VehicleStatus
from ...streams import StreamSink, StreamSpec
from ...transport import Request, Response
from . import keys
from .auth import CarDataAuth
from .endpoints import BASIC_DATA, ENDPOINTS, TELEMATICS
from .errors import decode_error
from .models import BasicData, ContainerState, MappingType, parse_containers, parse_mappings
from .status import PARTS as STATUS_PARTS
from .status import vehicle_status
from .stream import SHORT, CarDataStream

__all__ = ["BmwCarData", "CarDataSession"]

_LOG = logging.getLogger(__name__)

#: After an outage this long the stream's cars are read once by REST (a parked car may say nothing for days).
OUTAGE_READ = 600.0


def _client_id(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 64 or any(c.isspace() for c in value):
        raise InvalidInputError("a CarData client id is a UUID such as 12345678-abcd-…")
    return value


class CarDataSession(Session):
    """One CarData client id: its auth (which keeps the container ids with the tokens), the cars it may read,
    its containers and its MQTT stream."""

    def __init__(self, brand: Brand, settings: Settings) -> None:
        super().__init__(brand, settings)
        self._stream = CarDataStream()
        self._secondary: list[str] = []
        self._container_lock: asyncio.Lock | None = None

    _auth: CarDataAuth  # made by create_auth, which the account calls before anything else

    def create_auth(self, tokens: Mapping[str, Any] | None) -> Auth:
        self._auth = CarDataAuth(self.settings.text("client_id") or "", tokens)
        return self._auth

    @property
    def secondary_vins(self) -> tuple[str, ...]:
        """Cars the owner sees only as a SECONDARY user: CarData does not let them be queried (CU-104)."""
        return tuple(self._secondary)

    def left_out(self) -> Mapping[str, str]:
        why = ("mapped to this owner as a SECONDARY user: BMW lets only the PRIMARY user read a car or stream it "
               "(make this account the car's primary user in the BMW app to read it here)")
        return dict.fromkeys(self._secondary, why)

    # -- cars and the containers -------------------------------------------------------------------------

    async def list_vehicles(self, api: Api) -> list[VehicleInfo]:
        response = await api.request(Request(method="GET", server="api", endpoint="mappings",
                                             path="/customers/vehicles/mappings",
                                             headers={"Accept": "application/json"}))
        with reading("mappings"):
            mappings = parse_mappings(response.json())
        self._secondary = [m.vin for m in mappings if m.mapping_type is not MappingType.PRIMARY]
        if self._secondary:
            _LOG.info("%d car(s) mapped as SECONDARY: CarData lets only PRIMARY cars be read", len(self._secondary))
        cars = [VehicleInfo(vin=m.vin, capabilities={"mapping": m.mapping_type.value}, raw={"mappedSince":
                m.mapped_since}) for m in mappings if m.mapping_type is MappingType.PRIMARY]
        if cars:
            await self.resource(api, TELEMATICS.name)  # start-up costs come first, before any car is read
        return cars

    async def resource(self, api: Api, name: str) -> str:
        """evclient's container of kind ``name`` (see :data:`keys.CONTAINERS`): found by name, made when
        missing; containers an earlier evclient made (other names, other keys) are deleted."""
        if name not in keys.CONTAINERS:
            return await super().resource(api, name)
        auth = self._auth
        if name in auth.containers:
            return auth.containers[name]
        if self._container_lock is None:
            self._container_lock = asyncio.Lock()
        async with self._container_lock:
            # One flight per account: two reads that find a container gone would otherwise make two.
            if name not in auth.containers:
                await self._find_or_make_container(api, auth, name)
                auth.changed()  # kept with the tokens: saved at once, so a restart finds them at no cost
            return auth.containers[name]

    def forget(self, name: str) -> None:
        # Deleted in the portal, or unknown: found or made again before the next read.
        self._auth.containers.pop(name, None)

    async def _find_or_make_container(self, api: Api, auth: CarDataAuth, kind: str) -> None:
        response = await api.request(Request(method="GET", server="api", endpoint="containers",
                                             path="/customers/containers", headers={"Accept": "application/json"}))
        with reading("containers"):
            containers = parse_containers(response.json())
        active = [c for c in containers if c.state is not ContainerState.DELETED]
        names = {name: wanted for wanted, (name, _, _) in keys.CONTAINERS.items()}
        for found in active:
            if found.name in names:
                auth.containers.setdefault(names[found.name], found.container_id)
            elif found.name.startswith(keys.CONTAINER_PREFIX):
                # An earlier evclient's container (other keys): it only takes one of the owner's ten places.
                await api.request(Request(method="DELETE", server="api", endpoint="containers",
                                          path=f"/customers/containers/{found.container_id}"))
        if kind not in auth.containers:
            name, purpose, descriptors = keys.CONTAINERS[kind]
            created = await api.request(Request(
                method="POST", server="api", endpoint="containers", path="/customers/containers",
                headers={"Accept": "application/json"},
                json={"name": name, "purpose": purpose, "technicalDescriptors": list(descriptors)},
            ))
            with reading("containers"):
                auth.containers[kind] = str(created.json()["containerId"])

    # -- the stream --------------------------------------------------------------------------------------

    async def open_stream(self, api: Api, cars: Sequence[VehicleInfo], sink: StreamSink) -> None:
        await self._stream.run(api, self._auth, sink)


@brands.register
class BmwCarData(Brand):
    """BMW CarData for one owner (one client id): read-only, 50 REST calls a day, and an MQTT stream."""

    name = "bmw-cardata"
    #: The owner's BMW id: the stream's user name and every topic's first part.
    secret_keys = frozenset({"gcid"})
    title = "BMW CarData (BMW, MINI)"
    manufacturer = "BMW"
    settings = (
        Setting(name="client_id", help="the CarData client id made in BMW's CarData portal (a UUID)", required=True,
                identity=True, always=True, check=_client_id),
    )
    login_challenges = ("device-code",)
    servers: ClassVar[Mapping[str, str]] = {
        "auth": "https://customer.bmwgroup.com",
        "api": "https://api-cardata.bmwgroup.com",
        "stream": "mqtts://customer.streaming-cardata.bmwgroup.com:9000",
    }
    windows = (
        # 50 calls in any 24 hours is safe whether BMW's day is rolling or ends at midnight UTC.
        Window(limit=50, seconds=86400.0, name="rest", servers={"api"}, reserve=0),
        # One device login polls every 5 s for up to 5 minutes (60 calls), plus the hourly refreshes.
        Window(limit=120, seconds=3600.0, name="login", servers={"auth"}, reserve=0),
        Window(limit=30, seconds=3600.0, name="stream", servers={"stream"}, reserve=0),
    )
    poll_server = "api"
    max_pause = 86400.0
    max_answer = 16 * 1024 * 1024  # the car's image is a PNG of a few MiB
    endpoints = ENDPOINTS
    stream = StreamSpec(
        requires="aiomqtt", extra="cardata", short=SHORT, read_after_outage=OUTAGE_READ,
        short_drops_hint="BMW does this when another app connects with this account",
    )
    session = CarDataSession

    def decode_error(self, response: Response, wall_now: float) -> EVClientError | None:
        return decode_error(response, wall_now)

    def default_pause(self, wall_now: float, server: str) -> float:
        """The REST API's daily quota is back at the next midnight UTC when the server names no time."""
        if server != "api":
            return self.cooldown
        now = dt.datetime.fromtimestamp(wall_now, dt.UTC)
        midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(1.0, (midnight - now).total_seconds())

    def endpoint_for(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> EndpointSpec[Any]:
        if spec.name == BASIC_DATA.name:
            # The live answer names no VIN: the car is the path's.
            return attrs.evolve(spec, parse=functools.partial(BasicData.from_json, vin=vehicle.vin))
        return spec

    def endpoint_supported(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> bool | None:
        return None if vehicle.capabilities.get("mapping", "PRIMARY") == "PRIMARY" else False

    def vehicle_status(self, endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
        return vehicle_status(endpoints)

    def status_parts(self) -> Sequence[StatusPart]:
        return STATUS_PARTS
