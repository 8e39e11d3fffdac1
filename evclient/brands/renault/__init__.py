"""MyRenault (``renault``): Gigya login (with e-mail two-factor) and the Kamereon API of Renault, Dacia, Alpine.

Connect with ``evclient.connect("renault", locale="fr_FR", username=..., password=...)``; any locale
setting can be overridden (``gigya_url``, ``gigya_api_key``, ``kamereon_url``, ``kamereon_api_key``)
and ``account_id`` picks one of several Kamereon accounts. Two budgets: 60 Kamereon requests an hour
(polls, actions) and 30 Gigya calls an hour (logins, JWTs), so logins never starve polling.

Actions (``vehicle.command(name, ...)``): ``charge-start``, ``charge-stop``, ``charge-mode``,
``hvac-start``, ``hvac-stop``, ``set-charge-schedules``, ``set-hvac-schedules``, ``horn``, ``lights``,
``refresh-location``, ``set-soc-levels``; the model decides which a car has and how each is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from ... import brands
from ...auth import Auth
from ...brand import Api, Brand, Session, VehicleInfo
from ...command import CommandSpec
from ...endpoint import Endpoint, EndpointSpec
from ...errors import EVClientError, InvalidInputError, NotSupportedError, reading
from ...scheduler import Window
from ...settings import PASSWORD, USERNAME, Setting, Settings
from ...status import VehicleStatus
from ...transport import Request, Response
from . import locales
from .actions import ACTIONS, AVAILABLE, COMMANDS
from .auth import EmailCodeChallenge, RenaultAuth
from .endpoints import ENDPOINTS, IN_WATTS, NO_TANK_COCKPIT
from .errors import decode_error
from .models import ELECTRIC_ONLY, KamereonAccount, person_accounts, vehicles
from .status import vehicle_status
from .support import MODELS, support

__all__ = ["EmailCodeChallenge", "Renault"]

#: Kamereon account types that hold cars, in the order one is chosen when several exist.
CAR_ACCOUNTS = ("MYRENAULT", "MYDACIA", "MYALPINE")


class RenaultSession(Session):
    """One MyRenault login: its locale (which picks the servers and keys), credentials and Kamereon account."""

    def __init__(self, brand: Brand, settings: Settings) -> None:
        super().__init__(brand, settings)
        # Resolved here, at connect(): an unknown locale is refused before any request.
        self.locale = locales.resolve(settings.text("locale") or "fr_FR", **{
            key: settings.text(key) for key in ("gigya_url", "gigya_api_key", "kamereon_url", "kamereon_api_key")})
        self.account_id = settings.text("account_id")

    _auth: RenaultAuth  # made by create_auth, which the account calls before anything else

    def servers(self) -> dict[str, str]:
        return {"gigya": self.locale.gigya_url, "kamereon": self.locale.kamereon_url}

    def common_params(self, server: str) -> Mapping[str, str]:
        return {"country": self.locale.country} if server == "kamereon" else {}

    def create_auth(self, tokens: Mapping[str, Any] | None) -> Auth:
        username, password = self.settings.text("username"), self.settings.secret("password")
        if tokens is None and password is None:
            raise InvalidInputError("renault needs a username and password, or saved tokens")
        if password is not None and username is None:
            raise InvalidInputError("renault needs the username with the password")
        if tokens and tokens.get("locale") not in (None, self.locale.name):
            raise InvalidInputError(f"these tokens are for locale {tokens.get('locale')}, not {self.locale.name}")
        self._auth = RenaultAuth(self.locale, username, password, tokens)
        return self._auth

    async def accounts(self, api: Api) -> tuple[KamereonAccount, ...]:
        """The person's Kamereon accounts (id, type such as MYRENAULT, status)."""
        auth = self._auth
        await auth.ensure(api)
        response = await api.request(Request(method="GET", server="kamereon", endpoint="person",
                                             path=f"/commerce/v1/persons/{auth.person_id}"))
        with reading("person"):
            return person_accounts(response.json())

    async def _car_accounts(self, api: Api) -> list[KamereonAccount]:
        found = [a for a in await self.accounts(api) if a.account_type in CAR_ACCOUNTS]
        return [a for a in found if a.account_status in ("ACTIVE", None)] or found

    async def account_choices(self, api: Api) -> list[tuple[str, str]]:
        """The Kamereon car accounts (MYRENAULT, MYDACIA, MYALPINE) of this login."""
        return [(a.account_id, f"{a.account_type} {a.account_id}") for a in await self._car_accounts(api)]

    async def _account_id(self, api: Api) -> str:
        if self.account_id is not None:
            return self.account_id
        active = await self._car_accounts(api)
        if not active:
            raise NotSupportedError("this MyRenault login has no car account (MYRENAULT, MYDACIA, MYALPINE)")
        if len(active) > 1:
            listed = ", ".join(f"{a.account_id} ({a.account_type})" for a in active)
            raise InvalidInputError(f"this login has several car accounts; pass account_id= one of {listed}")
        self.account_id = active[0].account_id
        return self.account_id

    async def list_vehicles(self, api: Api) -> list[VehicleInfo]:
        account_id = await self._account_id(api)
        response = await api.request(Request(method="GET", server="kamereon", endpoint="vehicles",
                                             path=f"/commerce/v1/accounts/{account_id}/vehicles"))
        with reading("vehicles"):
            listed = vehicles(response.json())
        return [
            VehicleInfo(
                vin=car.vin, model=car.model_code, name=car.model_label, context={"account_id": account_id},
                capabilities={"energy": car.energy or "", "registration": car.registration or ""}, raw=car.raw,
            )
            for car in listed
        ]


#: The schedules are read on demand; the charge mode is polled on models with charge-mode, in ev-settings on kcm.
STATUS_READS = MappingProxyType({"charge_schedules": ("charging-settings",), "climate_schedules": ("hvac-settings",),
                                 "charging_mode": ("charge-mode", "ev-settings", "charging-settings")})


@brands.register
class Renault(Brand):
    """The MyRenault cloud for one person (one locale, one Kamereon account)."""

    name = "renault"
    #: Gigya's login and session tokens, its device ids, and Kamereon's car and place data.
    secret_keys = frozenset({
        "x-gigya-id_token", "login_token", "loginToken", "cookieValue", "regToken", "gigyaAssertion", "phvToken",
        "providerAssertion", "loginID", "gmid", "ucid", "radioCode", "gpsLatitude", "gpsLongitude",
    })
    title = "MyRenault (Renault, Dacia, Alpine)"
    manufacturer = "Renault"
    login_challenges = ("email-code",)
    settings = (
        USERNAME,
        PASSWORD,
        Setting(name="locale", help="the account's locale, e.g. fr_FR (it picks the servers and keys)",
                default="fr_FR", required=True),
        Setting(name="account_id", help="the Kamereon account, when the login has several"),
        Setting(name="gigya_url", help="override the locale's Gigya server", advanced=True),
        Setting(name="gigya_api_key", help="override the locale's Gigya key", advanced=True),
        Setting(name="kamereon_url", help="override the locale's Kamereon server", advanced=True),
        Setting(name="kamereon_api_key", help="override the locale's Kamereon key", advanced=True),
    )
    servers: ClassVar[Mapping[str, str]] = {"gigya": locales.GIGYA_EU, "kamereon": locales.KAMEREON_EU}
    windows = (
        Window(limit=60, seconds=3600.0, name="kamereon", servers={"kamereon"}, reserve=6),
        Window(limit=30, seconds=3600.0, name="gigya", servers={"gigya"}, reserve=0),
    )
    poll_server = "kamereon"
    endpoints = ENDPOINTS
    commands = COMMANDS
    actions = ACTIONS
    status_reads = STATUS_READS
    session = RenaultSession

    def decode_error(self, response: Response, wall_now: float) -> EVClientError | None:
        return decode_error(response, wall_now)

    def endpoint_for(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> EndpointSpec[Any]:
        if support(vehicle.model).power_in_watts and spec.name in IN_WATTS:
            return attrs.evolve(spec, parse=IN_WATTS[spec.name])
        if spec.name == "cockpit" and vehicle.capabilities.get("energy") in ELECTRIC_ONLY:
            return attrs.evolve(spec, parse=NO_TANK_COCKPIT)
        return spec

    def endpoint_supported(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> bool | None:
        return support(vehicle.model).endpoints.get(spec.name)

    def command_supported(self, vehicle: VehicleInfo, spec: CommandSpec) -> bool | None:
        if vehicle.model not in MODELS:
            return None  # an unknown model tries every action; the server's answer says
        return AVAILABLE[spec.name](support(vehicle.model))

    def vehicle_status(self, endpoints: Mapping[str, Endpoint[Any]]) -> VehicleStatus:
        return vehicle_status(endpoints)

