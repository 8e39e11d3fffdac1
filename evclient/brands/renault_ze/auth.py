"""ZE Services login: a JWT from ``/user/login``, renewed with the refresh token when its ``exp`` passes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...auth import Auth, Secret, jwt_expiry
from ...brand import Api
from ...errors import AuthenticationError
from ...transport import Request


class ZEAuth(Auth):
    """Tokens of one ZE Services account.

    The login answer also lists the account's cars and service scopes; they are kept (and saved in
    ``tokens``) so that listing the cars costs no request.
    """

    def __init__(self, username: str | None, password: Secret | None, tokens: Mapping[str, Any] | None) -> None:
        super().__init__()
        self._username = username
        self._password = password
        saved = tokens or {}
        self._token: Secret | None = Secret(saved["token"]) if saved.get("token") else None
        self._refresh: Secret | None = Secret(saved["refresh_token"]) if saved.get("refresh_token") else None
        saved_exp = saved.get("expires_at")
        if isinstance(saved_exp, int | float) and not isinstance(saved_exp, bool):
            self._exp: float | None = float(saved_exp)  # judged on this machine's clock when it arrived
        else:
            self._exp = jwt_expiry(self._token.reveal()) if self._token else None
        self.vehicles: list[dict[str, Any]] | None = saved.get("vehicles")
        self.scopes: list[str] | None = saved.get("scopes")

    def valid(self, wall_now: float) -> bool:
        return self._token is not None and self._exp is not None and self._exp - self.refresh_margin > wall_now

    async def renew(self, api: Api) -> None:
        token, refresh = self._token, self._refresh
        if token is not None and refresh is not None:
            try:
                await self._refresh_token(api, token, refresh)
                return
            except AuthenticationError:
                if self._password is None:
                    raise
        await self.login(api)

    async def login(self, api: Api) -> None:
        """Log in with the password (one request)."""
        if self._username is None or self._password is None:
            raise AuthenticationError("the saved tokens are no longer valid; log in with the password")
        response = await api.request(Request(
            method="POST", server="api", path="/user/login", endpoint="login", authenticated=False,
            json={"username": self._username, "password": self._password.reveal()},
        ))
        body = response.json()
        user = body["user"]
        self.vehicles = [
            {"vin": str(v["VIN"]), "timezone": (user.get("vehicle_details") or {}).get("timezone")}
            for v in user.get("associated_vehicles") or []
        ]
        self.scopes = [str(s) for s in user.get("scopes") or []]
        self._refresh = Secret(str(body["refresh_token"]))
        self._set(str(body["token"]), api.clock.wall())
        self.changed()  # also when the listing logs in (not a renewal): the new tokens are kept at once

    async def _refresh_token(self, api: Api, token: Secret, refresh: Secret) -> None:
        expired = token.reveal()
        response = await api.request(Request(
            method="POST", server="api", path="/user/token/refresh", endpoint="token-refresh",
            authenticated=False, headers={"Authorization": f"Bearer {expired}"},
            json={"token": expired, "refresh_token": refresh.reveal()},
        ))
        self._set(str(response.json()["token"]), api.clock.wall())

    def _set(self, token: str, received_at: float) -> None:
        self._token = Secret(token)
        self._exp = jwt_expiry(token, received_at)
        if self._exp is None:
            raise AuthenticationError("the server's token carries no expiry")

    def headers(self, server: str) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self._token.reveal()}"} if self._token else {}

    def invalidate(self) -> None:
        self._exp = None

    def tokens(self) -> dict[str, Any]:
        return {
            "token": self._token.reveal() if self._token else None,
            "refresh_token": self._refresh.reveal() if self._refresh else None,
            "expires_at": self._exp,
            "vehicles": self.vehicles,
            "scopes": self.scopes,
        }
