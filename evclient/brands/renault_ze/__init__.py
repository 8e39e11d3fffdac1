"""Renault ZE Services (``renault-ze``): the Zoe's original cloud API.

Connect with ``evclient.connect("renault-ze", username=..., password=...)``. Endpoints: ``battery``
and ``precondition-last`` (polled), ``precondition-history`` and ``charge-history`` (``begin`` / ``end``
months), ``notification-settings``, ``charge-schedule``. Commands: ``precondition``, ``charge-now``,
``precondition-at``, ``set-notification-settings``, ``set-charge-schedule``, ``deploy-charge-schedule``,
``deactivate-charge-schedule``. What a car may use follows the login's service ``scopes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ... import brands
from ...auth import Auth
from ...brand import Api, Brand, Session, VehicleInfo
from ...command import CommandSpec
from ...endpoint import Endpoint, EndpointSpec
from ...errors import AuthenticationError, EVClientError, InvalidInputError
from ...settings import PASSWORD, USERNAME
from ...status import VehicleStatus
from ...transport import Response
from .auth import ZEAuth
from .commands import ACTIONS, COMMANDS
from .endpoints import ENDPOINTS, SCOPES
from .errors import decode_error
from .status import vehicle_status

__all__ = ["RenaultZE"]


class ZESession(Session):
    """One ZE Services account: its username and password, and the login that lists its cars."""

    _auth: ZEAuth  # made by create_auth, which the account calls before anything else

    def create_auth(self, tokens: Mapping[str, Any] | None) -> Auth:
        username, password = self.settings.text("username"), self.settings.secret("password")
        if tokens is None and password is None:
            raise InvalidInputError("renault-ze needs a username and password, or saved tokens")
        if password is not None and username is None:
            raise InvalidInputError("renault-ze needs the username with the password")
        self._auth = ZEAuth(username, password, tokens)
        return self._auth

    async def list_vehicles(self, api: Api) -> list[VehicleInfo]:
        # The login answer is the only list of cars this API has; it is kept with the tokens.
        auth = self._auth
        if auth.vehicles is None:
            if self.settings.secret("password") is None:
                raise AuthenticationError("these saved tokens hold no car list; log in once with the password")
            await auth.login(api)
        scopes = {scope: "ACTIVATED" for scope in auth.scopes or ()}
        return [
            VehicleInfo(vin=v["vin"], capabilities=scopes, raw={"timezone": v.get("timezone")})
            for v in auth.vehicles or ()
        ]


@brands.register
class RenaultZE(Brand):
    """The Renault ZE Services cloud (one account: a username and password)."""

    name = "renault-ze"
    title = "Renault ZE Services"
    manufacturer = "Renault"
    legacy = "ZE Services was replaced by MyRenault (brand renault); kept for its protocol and simulator."
    settings = (USERNAME, PASSWORD)
    servers: ClassVar[Mapping[str, str]] = {"api": "https://www.services.renault-ze.com/api"}
    endpoints = ENDPOINTS
    commands = COMMANDS
    actions = ACTIONS
    session = ZESession

    def decode_error(self, response: Response, wall_now: float) -> EVClientError | None:
        return decode_error(response, wall_now)

    def _scoped(self, vehicle: VehicleInfo, name: str) -> bool | None:
        needed = SCOPES.get(name)
        if needed is None or not vehicle.capabilities:
            return None
        return needed in vehicle.capabilities

    def endpoint_supported(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> bool | None:
        return self._scoped(vehicle, spec.name)

    def command_supported(self, vehicle: VehicleInfo, spec: CommandSpec) -> bool | None:
        return self._scoped(vehicle, spec.name)

    def vehicle_status(self, endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
        return vehicle_status(endpoints)
