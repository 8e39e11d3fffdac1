"""ConnectedDrive login: an OAuth password grant with the app's key and secret as Basic credentials.

The token lives ``expires_in`` seconds (8 h); the seed's advice is to log in again before then, which
is what evclient does (the refresh token it gets is not used by this API).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ...auth import Auth, Secret
from ...brand import Api
from ...errors import AuthenticationError, ResponseError
from ...transport import Request

TOKEN_PATH = "/webapi/oauth/token/"  # noqa: S105 - a path, not a password
SCOPE = "remote_services vehicle_data"


class BmwAuth(Auth):
    def __init__(
        self,
        username: str | None,
        password: Secret | None,
        app_key: Secret | None,
        app_secret: Secret | None,
        tokens: Mapping[str, Any] | None,
    ) -> None:
        super().__init__()
        self._username = username
        self._password = password
        self._key = app_key
        self._secret = app_secret
        saved = tokens or {}
        self._token: Secret | None = Secret(saved["access_token"]) if saved.get("access_token") else None
        self._expires: float | None = float(saved["expires_at"]) if saved.get("expires_at") else None

    def valid(self, wall_now: float) -> bool:
        return self._token is not None and self._expires is not None and self._expires - self.refresh_margin > wall_now

    async def renew(self, api: Api) -> None:
        username, password, key, secret = self._username, self._password, self._key, self._secret
        if username is None or password is None or key is None or secret is None:
            raise AuthenticationError("the saved token expired; log in with the password, app key and secret")
        basic = base64.b64encode(f"{key.reveal()}:{secret.reveal()}".encode()).decode()
        response = await api.request(Request(
            method="POST", server="api", path=TOKEN_PATH, endpoint="login", authenticated=False,
            headers={"Authorization": f"Basic {basic}"},
            data={"grant_type": "password", "username": username, "password": password.reveal(), "scope": SCOPE},
        ))
        body = response.json()
        if body.get("token_type", "Bearer").lower() != "bearer":
            raise ResponseError("login: the server sent a token that is not a bearer token", endpoint="login")
        lifetime = float(body["expires_in"])
        self._token = Secret(str(body["access_token"]))
        self._expires = api.clock.wall() + lifetime

    def headers(self, server: str) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self._token.reveal()}"} if self._token else {}

    def invalidate(self) -> None:
        self._expires = None

    def tokens(self) -> dict[str, Any]:
        return {"access_token": self._token.reveal() if self._token else None, "expires_at": self._expires}
