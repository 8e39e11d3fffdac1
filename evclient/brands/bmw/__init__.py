"""BMW ConnectedDrive, the legacy ``webapi/v1`` API (``bmw``).

Connect with ``evclient.connect("bmw", username=..., password=..., app_key=..., app_secret=...,
region="rest_of_world" | "usa" | "china", security_answer=...)``. The app key and secret are the i Remote
app's, which the user supplies; ``security_answer`` is needed only to unlock the doors.

Endpoints: ``status``, ``charging-profile`` and ``last-trip`` (polled), ``all-trips``, ``destinations``,
``range-map``. Commands: ``door-lock``, ``door-unlock``, ``climate-now``, ``charge-now``, ``light-flash``,
``horn-blow``, ``vehicle-finder``, ``charging-control``, ``send-poi``; each needs its capability flag in the
vehicle listing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ... import brands
from ...auth import Auth
from ...brand import Api, Brand, Session, VehicleInfo
from ...command import CommandSpec
from ...endpoint import Endpoint, EndpointSpec
from ...errors import EVClientError, InvalidInputError
from ...settings import PASSWORD, USERNAME, Setting
from ...status import VehicleStatus
from ...transport import Request, Response
from .auth import BmwAuth
from .commands import ACTIONS, CAPABILITIES, COMMANDS
from .endpoints import ENDPOINTS, SUPPORT
from .errors import decode_error
from .status import vehicle_status

__all__ = ["Bmw"]

REGIONS = {
    "rest_of_world": "https://b2vapi.bmwgroup.com",
    "usa": "https://b2vapi.bmwgroup.us",
    "china": "https://b2vapi.bmwgroup.cn:8592",
}
#: Flag values that mean a car has a remote service.
_ACTIVE = {"ACTIVATED"}
_PLANNER = {"WEEKLY_PLANNER", "TWO_TIMES_TIMER", "ACTIVATED"}


class BmwSession(Session):
    """One ConnectedDrive account: its region's server, the app's key and secret, the security answer."""

    def servers(self) -> dict[str, str]:
        return {"api": REGIONS[self.settings.text("region") or "rest_of_world"]}

    def create_auth(self, tokens: Mapping[str, Any] | None) -> Auth:
        text, secret = self.settings.text, self.settings.secret
        username, password, app_key, app_secret = text("username"), secret("password"), secret("app_key"), \
            secret("app_secret")
        if tokens is None and None in (username, password, app_key, app_secret):
            raise InvalidInputError("bmw needs username, password, app_key and app_secret (or saved tokens)")
        return BmwAuth(username, password, app_key, app_secret, tokens)

    async def list_vehicles(self, api: Api) -> list[VehicleInfo]:
        response = await api.request(Request(method="GET", server="api", path="/webapi/v1/user/vehicles/",
                                             endpoint="vehicles"))
        body = response.json()
        # The seed shows a bare list; captures from 2018 wrap it in {"vehicles": [...]}.
        cars = body["vehicles"] if isinstance(body, dict) else body
        return [
            VehicleInfo(
                vin=str(car["vin"]),
                model=car.get("model"),
                capabilities={k: str(v) for k, v in car.items() if isinstance(v, str | bool)},
                raw={k: v for k, v in car.items() if k not in {"licensePlate", "dealer", "breakdownNumber"}},
            )
            for car in cars
        ]

    def command_params(self, vehicle: VehicleInfo, spec: CommandSpec, params: Mapping[str, Any]) -> Mapping[str, Any]:
        answer = self.settings.secret("security_answer")
        if spec.name == "door-unlock" and "security_answer" not in params and answer is not None:
            return {**params, "security_answer": answer}
        return params


@brands.register
class Bmw(Brand):
    """The ConnectedDrive cloud of one account."""

    name = "bmw"
    #: The legacy API's security answer, as its unlock command sends it.
    secret_keys = frozenset({"bmwSkAnswer"})
    title = "BMW ConnectedDrive"
    manufacturer = "BMW"
    legacy = ("BMW blocked third-party clients of this API on 2025-09-29; BMW owners use bmw-cardata. "
              "Kept for its protocol and simulator.")
    settings = (
        USERNAME,
        PASSWORD,
        Setting(name="app_key", help="the i Remote app's key (you supply it)", secret=True, required=True,
                resume=True),
        Setting(name="app_secret", help="the i Remote app's secret (you supply it)", secret=True, required=True,
                resume=True),
        Setting(name="region", help="where the account lives", choices=tuple(REGIONS), default="rest_of_world"),
        Setting(name="security_answer", help="the account's security answer, to unlock the doors", secret=True,
                resume=True),
    )
    servers: ClassVar[Mapping[str, str]] = {"api": REGIONS["rest_of_world"]}
    endpoints = ENDPOINTS
    commands = COMMANDS
    actions = ACTIONS
    session = BmwSession

    def decode_error(self, response: Response, wall_now: float) -> EVClientError | None:
        return decode_error(response, wall_now)

    def endpoint_supported(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> bool | None:
        rule = SUPPORT.get(spec.name)
        if rule is None or rule[0] not in vehicle.capabilities:
            return None
        return vehicle.capabilities[rule[0]] in rule[1]

    def command_supported(self, vehicle: VehicleInfo, spec: CommandSpec) -> bool | None:
        flag = CAPABILITIES.get(spec.name)
        if flag is None or not vehicle.capabilities:
            return None
        allowed = _PLANNER if spec.name == "charging-control" else _ACTIVE
        return vehicle.capabilities.get(flag) in allowed

    def vehicle_status(self, endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
        return vehicle_status(endpoints)
