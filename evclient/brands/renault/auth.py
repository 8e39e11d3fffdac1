"""MyRenault's auth: a Gigya login token (long-lived) mints 15-minute JWTs for Kamereon.

The login token, the person id and the device identity are what ``tokens`` keeps; with them an account
resumes without the password and without a new two-factor code. A login that needs a code raises
:class:`~evclient.errors.TwoFactorRequired` with an :class:`EmailCodeChallenge`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...auth import Auth, CodeChallenge, CodeDestination, Secret, jwt_expiry
from ...brand import Api
from ...errors import (
    AuthenticationError,
    InvalidInputError,
    TwoFactorExpired,
    TwoFactorRequired,
)
from . import gigya
from .gigya import Device, TwoFactorEmail
from .locales import Locale

if TYPE_CHECKING:
    from ...account import Account

_CODE = re.compile(r"^\d{6}$")


class RenaultAuth(Auth):
    """One MyRenault login: Gigya login token → person id → JWT (renewed when its ``exp`` passes)."""

    def __init__(self, locale: Locale, username: str | None, password: Secret | None,
                 tokens: Mapping[str, Any] | None) -> None:
        super().__init__()
        self.locale = locale
        self._username = username
        self._password = password
        saved = tokens or {}
        self.login_token: Secret | None = Secret(saved["login_token"]) if saved.get("login_token") else None
        self.person_id: str | None = saved.get("person_id")
        device = saved.get("device") or {}
        self.device: Device | None = (
            Device(Secret(device["gmid"]), Secret(device["ucid"])) if device.get("gmid") and device.get("ucid")
            else None
        )
        # The 15-minute JWT is kept too: a short-lived process (a CLI run) then mints none while it lasts.
        jwt_saved, exp_saved = saved.get("jwt"), saved.get("jwt_expires_at")
        self._jwt: Secret | None = None
        self._exp: float | None = None
        if isinstance(jwt_saved, str) and isinstance(exp_saved, int | float) and not isinstance(exp_saved, bool):
            self._jwt, self._exp = Secret(jwt_saved), float(exp_saved)

    # -- Auth -------------------------------------------------------------------------------------------

    def valid(self, wall_now: float) -> bool:
        return self._jwt is not None and self._exp is not None and self._exp - self.refresh_margin > wall_now

    async def renew(self, api: Api) -> None:
        if self.login_token is not None:
            try:
                await self._mint(api)
                return
            except AuthenticationError:
                self.login_token = None  # the server no longer honours it (403005 / 403013)
                if self._password is None:
                    raise AuthenticationError(
                        "MyRenault no longer accepts the saved login; log in again with the password"
                    ) from None
        await self.login(api)

    async def login(self, api: Api) -> None:
        """Log in with the password; raises TwoFactorRequired when Gigya asks for a code."""
        if self._username is None or self._password is None:
            raise AuthenticationError("no MyRenault login token and no password to log in with")
        if self.device is None:
            self.device = await gigya.bootstrap(api, self.locale)
        body = await gigya.login(api, self.locale, self._username, self._password, self.device)
        if body.get("errorCode") in gigya.TWO_FACTOR_PENDING:
            challenge = EmailCodeChallenge(self, api, Secret(str(body["regToken"])))
            raise TwoFactorRequired(
                "MyRenault wants a one-time code: it e-mails one to the account's address on request", challenge
            )
        self.login_token = gigya.login_token(body)
        await self._mint(api)

    async def _mint(self, api: Api) -> None:
        assert self.login_token is not None
        if self.person_id is None:
            self.person_id = await gigya.person_id(api, self.locale, self.login_token)
        token = await gigya.jwt(api, self.locale, self.login_token)
        exp = jwt_expiry(token, received_at=api.clock.wall())
        if exp is None:
            raise AuthenticationError("Gigya's JWT carries no expiry")
        self._jwt, self._exp = Secret(token), exp

    def headers(self, server: str) -> Mapping[str, str]:
        if server != "kamereon" or self._jwt is None:
            return {}
        return {"apikey": self.locale.kamereon_api_key, "x-gigya-id_token": self._jwt.reveal()}

    def invalidate(self) -> None:
        self._exp = None

    def tokens(self) -> dict[str, Any]:
        return {
            "locale": self.locale.name,
            "login_token": self.login_token.reveal() if self.login_token else None,
            "person_id": self.person_id,
            "device": {"gmid": self.device.gmid.reveal(), "ucid": self.device.ucid.reveal()} if self.device else None,
            "jwt": self._jwt.reveal() if self._jwt is not None and self._exp is not None else None,
            "jwt_expires_at": self._exp if self._jwt is not None else None,
        }


class EmailCodeChallenge(CodeChallenge):
    """MyRenault's e-mail two-factor step, paused for the user.

    ``await challenge.emails()`` lists where a code can go (masked); ``await challenge.send_code()``
    sends one (to the only address, or to ``destination_id``); ``await challenge.complete(code)`` finishes the
    login and returns the account. A wrong code raises :class:`TwoFactorCodeRejected` (try again); too many
    tries or an expired challenge raise :class:`TwoFactorExpired` (connect again). ``remember_device``
    (default on) spares this device the code for about a month.
    """

    def __init__(self, auth: RenaultAuth, api: Api, reg_token: Secret) -> None:
        super().__init__(api)
        self._auth = auth
        self._reg_token = reg_token
        self._assertion: Secret | None = None
        self._phv_token: Secret | None = None
        self._over = False

    def __repr__(self) -> str:
        return f"<EmailCodeChallenge code_sent={self._phv_token is not None}>"

    def _device(self) -> Device:
        assert self._auth.device is not None
        return self._auth.device

    async def _start(self) -> Secret:
        if self._over:
            raise TwoFactorExpired("this two-factor challenge is over; connect again for a new one")
        if self._assertion is None:
            self._assertion = await self._guard(gigya.init_tfa(self._api, self._auth.locale, self._reg_token,
                                                               self._device()))
        return self._assertion

    async def emails(self) -> list[TwoFactorEmail]:
        """The addresses a code can be sent to."""
        assertion = await self._start()
        found: list[TwoFactorEmail] = await self._guard(
            gigya.tfa_emails(self._api, self._auth.locale, assertion, self._device()))
        return found

    async def destinations(self) -> list[CodeDestination]:
        return list(await self.emails())

    async def send_code(self, destination_id: str | None = None) -> None:
        """E-mail a one-time code (to ``destination_id``, or to the account's only address)."""
        email_id = destination_id
        assertion = await self._start()
        if email_id is None:
            addresses = await self.emails()
            if len(addresses) != 1:
                raise InvalidInputError(
                    "no address for a code" if not addresses else
                    f"several addresses take codes; choose one: {', '.join(a.id for a in addresses)}"
                )
            email_id = addresses[0].id
        self._phv_token = await self._guard(gigya.send_code(self._api, self._auth.locale, assertion, email_id,
                                                            self._device()))

    async def complete(self, code: str, *, remember_device: bool = True) -> Account:
        """Check the code, finish the login, and return the logged-in account."""
        code = str(code).strip()
        if not _CODE.match(code):
            raise InvalidInputError("the code is the six digits from the e-mail")
        if self._phv_token is None:
            raise InvalidInputError("no code was sent yet: call send_code() first")
        assertion = await self._start()
        locale, device = self._auth.locale, self._device()
        provider = await self._guard(gigya.complete(self._api, locale, assertion, self._phv_token, code, device))
        await self._guard(gigya.finalize(self._api, locale, assertion, provider, self._reg_token, remember_device,
                                         device))
        self._over = True
        await self._auth.login(self._api)
        return await self._logged_in()

    async def _guard(self, call: Any) -> Any:
        try:
            return await call
        except TwoFactorExpired:
            self._over = True
            raise
