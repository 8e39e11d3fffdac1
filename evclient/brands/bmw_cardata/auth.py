"""CarData's login: the OAuth 2.0 device code flow with PKCE, then refresh tokens (14 days).

The first login needs the owner: ``connect("bmw-cardata", client_id=...)`` raises ``TwoFactorRequired`` with a
:class:`~evclient.auth.DeviceCodeChallenge` (link, code, expiry); ``await challenge.wait()`` polls the token
endpoint no faster than its ``interval`` (5 s more after each ``slow_down``) until the owner approves. Every call
goes through the account's scheduler, in the login server's own window. Afterwards the tokens (access, refresh,
id, gcid and their expiries) resume the account; they are refreshed 10 minutes before they expire, and each
refresh rotates the refresh token, which the account hands the application at once.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...auth import Auth, DeviceCodeChallenge, Secret, jwt_expiry
from ...errors import (
    AuthenticationError,
    ConnectionFailed,
    ServerError,
    TwoFactorExpired,
    TwoFactorRequired,
    reading,
)
from ...transport import Request
from .errors import DEVICE_CODE, DEVICE_TOKEN, TOKEN_REFRESH, AuthorizationPending, RefreshRefused, SlowDown

if TYPE_CHECKING:
    from ...account import Account
    from ...brand import Api

_LOG = logging.getLogger(__name__)

SCOPE = "authenticate_user openid cardata:api:read cardata:streaming:read"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: Refresh tokens live 14 days (BMW's guide).
REFRESH_LIFETIME = 14 * 86400.0
SLOW_DOWN_STEP = 5.0


def _secret(value: Any) -> Secret | None:
    return Secret(value) if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class CarDataAuth(Auth):
    """One CarData login (one owner, one client id)."""

    refresh_margin = 600.0

    def __init__(self, client_id: str, tokens: Mapping[str, Any] | None) -> None:
        super().__init__()
        self.client_id = client_id
        saved = tokens or {}
        if saved.get("client_id") not in (None, client_id):
            raise AuthenticationError("these tokens belong to another client id")
        self._access = _secret(saved.get("access_token"))
        self._refresh = _secret(saved.get("refresh_token"))
        self._id = _secret(saved.get("id_token"))
        self.gcid: str | None = saved.get("gcid") if isinstance(saved.get("gcid"), str) else None
        self._expires = _number(saved.get("expires_at"))
        self._refresh_expires = _number(saved.get("refresh_expires_at"))
        self._id_expires = _number(saved.get("id_expires_at"))
        #: evclient's data containers by kind (the brand finds or makes them; kept so a restart reuses them at
        #: no cost): "telematics", and "daily" for the keys that never stream.
        self.containers: dict[str, str] = {
            kind: saved[field] for kind, field in (("telematics", "container_id"), ("daily", "daily_container_id"))
            if isinstance(saved.get(field), str) and saved[field]}
        self._verifier: Secret | None = None
        #: When the owner approved the device login (its refresh tokens descend from it), epoch seconds.
        self.logged_in_at = _number(saved.get("logged_in_at"))

    # -- Auth ------------------------------------------------------------------------------------------

    def valid(self, wall_now: float) -> bool:
        return self._access is not None and self._expires is not None and self._expires - self.refresh_margin > wall_now

    async def renew(self, api: Api) -> None:
        wall = api.clock.wall()
        if self._refresh is not None and (self._refresh_expires is None or self._refresh_expires > wall):
            try:
                await self._refresh_tokens(api)
                return
            except RefreshRefused as refused:
                self._forget()
                raise AuthenticationError(f"BMW refused the refresh token ({refused.error}) of {self._made()}; "
                                          "run the device login again") from None
        if self._refresh is not None:
            self._forget()
            raise AuthenticationError(f"the CarData login of {self._made()} has lapsed (a login lasts 14 days); run "
                                      "the device login again")
        raise TwoFactorRequired("CarData needs the owner to approve this device: open the link and enter the code",
                                await self._start(api))

    def _made(self) -> str:
        if self.logged_in_at is None:
            return "an earlier device login"
        when = dt.datetime.fromtimestamp(self.logged_in_at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"the device login made {when}"

    def headers(self, server: str) -> Mapping[str, str]:
        if server != "api" or self._access is None:
            return {}
        return {"Authorization": f"Bearer {self._access.reveal()}", "x-version": "v1"}

    def invalidate(self) -> None:
        self._expires = None

    def tokens(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "access_token": self._access.reveal() if self._access else None,
            "refresh_token": self._refresh.reveal() if self._refresh else None,
            "id_token": self._id.reveal() if self._id else None,
            "gcid": self.gcid,
            "expires_at": self._expires,
            "refresh_expires_at": self._refresh_expires,
            "id_expires_at": self._id_expires,
            "container_id": self.containers.get("telematics"),
            "daily_container_id": self.containers.get("daily"),
            "logged_in_at": self.logged_in_at,
        }

    def personal_values(self) -> tuple[str, ...]:
        return (self.gcid,) if self.gcid else ()

    # -- the stream's credentials -----------------------------------------------------------------------

    def stream_credentials(self, wall_now: float) -> tuple[str, str, float] | None:
        """``(gcid, id token, when it expires)`` while the id token is valid, else ``None``."""
        if self.gcid is None or self._id is None or self._id_expires is None or self._id_expires <= wall_now:
            return None
        return self.gcid, self._id.reveal(), self._id_expires

    # -- the device flow ---------------------------------------------------------------------------------

    async def _start(self, api: Api) -> DeviceCodeChallenge:
        verifier = secrets.token_urlsafe(64)
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        response = await api.request(Request(
            method="POST", server="auth", path="/gcdm/oauth/device/code", endpoint=DEVICE_CODE, authenticated=False,
            data={"client_id": self.client_id, "response_type": "device_code", "scope": SCOPE,
                  "code_challenge": challenge, "code_challenge_method": "S256"},
        ))
        with reading(DEVICE_CODE):
            body = response.json()
            started = CarDataDeviceChallenge(
                self, api, Secret(str(body["device_code"])), verification_uri=str(body["verification_uri"]),
                verification_uri_complete=body.get("verification_uri_complete"), user_code=str(body["user_code"]),
                expires_at=api.clock.wall() + float(body.get("expires_in", 300)),
                interval=max(1.0, float(body.get("interval", 5))),
            )
        self._verifier = Secret(verifier)
        return started

    async def poll_device(self, api: Api, device_code: Secret) -> None:
        """One look at the token endpoint; raises ``AuthorizationPending`` / ``SlowDown`` while it is not done."""
        verifier = self._verifier
        if verifier is None:
            raise TwoFactorExpired("this login code belongs to an earlier start; start the login again")
        response = await api.request(Request(
            method="POST", server="auth", path="/gcdm/oauth/token", endpoint=DEVICE_TOKEN, authenticated=False,
            data={"client_id": self.client_id, "device_code": device_code.reveal(), "grant_type": DEVICE_GRANT,
                  "code_verifier": verifier.reveal()},
        ))
        self._set(api, response.json(), DEVICE_TOKEN)
        self._verifier = None
        self.logged_in_at = api.clock.wall()

    async def _refresh_tokens(self, api: Api) -> None:
        assert self._refresh is not None
        response = await api.request(Request(
            method="POST", server="auth", path="/gcdm/oauth/token", endpoint=TOKEN_REFRESH, authenticated=False,
            data={"grant_type": "refresh_token", "refresh_token": self._refresh.reveal(), "client_id": self.client_id},
        ))
        self._set(api, response.json(), TOKEN_REFRESH)

    def _set(self, api: Api, body: Any, endpoint: str) -> None:
        wall = api.clock.wall()
        with reading(endpoint):
            access = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
            refresh = body.get("refresh_token")
            id_token = body.get("id_token")
            gcid = body.get("gcid")
        self._access = Secret(access)
        self._expires = wall + lifetime
        if isinstance(refresh, str) and refresh:
            # A refresh rotates the refresh token: the old one is dead, so the new one must be kept at once.
            self._refresh = Secret(refresh)
            self._refresh_expires = wall + REFRESH_LIFETIME
        if isinstance(id_token, str) and id_token:
            self._id = Secret(id_token)
            self._id_expires = jwt_expiry(id_token, wall) or self._expires
        if isinstance(gcid, str) and gcid:
            self.gcid = gcid

    def _forget(self) -> None:
        self._access = self._refresh = self._id = None
        self._expires = self._refresh_expires = self._id_expires = None


class CarDataDeviceChallenge(DeviceCodeChallenge):
    """CarData's device login, paused for the owner's approval."""

    def __init__(self, auth: CarDataAuth, api: Api, device_code: Secret, **shown: Any) -> None:
        super().__init__(api, **shown)
        self._auth = auth
        self._device_code = device_code

    async def wait(self) -> Account:
        api = self._api
        while True:
            if api.clock.wall() >= self.expires_at:
                raise TwoFactorExpired("the login code expired before the owner approved it; start the login again")
            await asyncio.sleep(self.interval)
            try:
                await self._auth.poll_device(api, self._device_code)
            except AuthorizationPending:
                continue
            except SlowDown:
                self.interval += SLOW_DOWN_STEP
                continue
            except (ServerError, ConnectionFailed) as err:
                # A hiccup of BMW's login server: the code is still pending there, so the next look may succeed.
                _LOG.debug("device login: the token endpoint failed (%s); looking again", type(err).__name__)
                continue
            return await self._logged_in()

