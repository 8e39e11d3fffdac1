"""CarData's refusals as evclient's errors: the OAuth token endpoint's ``error`` codes and the REST API's
``CU-…`` codes (REFERENCE §3b). CU-429 comes as HTTP 403 and is read as the quota, never as a permission."""

from __future__ import annotations

from typing import Any

from ...errors import (
    AuthenticationError,
    EVClientError,
    InvalidCredentialsError,
    NotSupportedError,
    QuotaExceeded,
    ResourceGone,
    ResponseError,
    ServerError,
    TemporaryError,
    TwoFactorExpired,
)
from ...transport import Response

#: Endpoint labels of the token endpoint's calls.
DEVICE_CODE = "device-code"
DEVICE_TOKEN = "device-token"  # noqa: S105 - an endpoint label
TOKEN_REFRESH = "token-refresh"  # noqa: S105 - an endpoint label


class AuthorizationPending(TemporaryError):
    """The owner has not approved the device yet (keep polling at the interval)."""


class SlowDown(TemporaryError):
    """The token endpoint asks to poll 5 s more slowly."""


class DeviceLoginDenied(AuthenticationError):
    """The owner declined the device login."""


class ContainerGone(ResourceGone):
    """evclient's container is gone or not the account's any more (it is found or made again)."""


def decode_error(response: Response, wall_now: float) -> EVClientError | None:
    if response.ok:
        return None
    body = response.json_or_none()
    status = response.status
    endpoint = response.endpoint
    if endpoint in (DEVICE_CODE, DEVICE_TOKEN, TOKEN_REFRESH):
        return _oauth_error(endpoint, status, body)
    code = str(body.get("exveErrorId") or "") if isinstance(body, dict) else ""
    note = str(body.get("exveErrorMsg") or "") if isinstance(body, dict) else ""
    return _rest_error(endpoint, status, code, note, response.retry_after(wall_now))


def _oauth_error(endpoint: str, status: int, body: Any) -> EVClientError:
    error = str(body.get("error") or "") if isinstance(body, dict) else ""
    if isinstance(body, dict) and body.get("exveErrorId") == "CU-429":
        return QuotaExceeded(f"{endpoint}: BMW's rate limit")
    fault = body.get("fault") if isinstance(body, dict) else None
    if endpoint == DEVICE_TOKEN:
        if error == "authorization_pending":
            return AuthorizationPending("the owner has not approved the login yet")
        if error == "slow_down":
            return SlowDown("BMW asks to poll more slowly")
        if error == "access_denied":
            return DeviceLoginDenied("the owner declined the login on BMW's page")
        if error in ("expired_token", "invalid_grant"):
            return TwoFactorExpired("the login code has expired or was used; start the login again")
        if fault is not None:
            # BMW's key management refused the device code ([O]: it is used up): never poll it again.
            return TwoFactorExpired("BMW refused this login code (key management); start the login again")
    if error == "invalid_client" or (status == 401 and endpoint == DEVICE_CODE):
        return InvalidCredentialsError("BMW does not know this client id, or it is not subscribed to CarData")
    if endpoint == TOKEN_REFRESH:
        return _refresh_error(status, error)
    if status == 429:
        return QuotaExceeded(f"{endpoint}: BMW's login server asks to wait")
    if status >= 500:
        return ServerError(f"{endpoint}: BMW's login server failed (HTTP {status})", status=status)
    return ResponseError(f"{endpoint}: BMW's login server refused ({error or f'HTTP {status}'})", endpoint=endpoint,
                         status=status)


#: The OAuth answers to a refresh that end the login (RFC 6749 §5.2, RFC 8628); nothing else does.
REFRESH_REFUSALS = ("invalid_grant", "invalid_token", "expired_token")


class RefreshRefused(AuthenticationError):
    """BMW's login server refused the refresh token with an OAuth error (``error``): the login is over."""

    def __init__(self, error: str) -> None:
        super().__init__(f"BMW refused the refresh token ({error})")
        self.error = error


def _refresh_error(status: int, error: str) -> EVClientError:
    """A refresh ends the login only on a documented OAuth refusal: a proxy's HTML page, a maintenance answer
    or a 400 without an OAuth body says nothing about the refresh token, which BMW may still accept."""
    if error in REFRESH_REFUSALS:
        return RefreshRefused(error)
    if status == 429:
        return QuotaExceeded(f"{TOKEN_REFRESH}: BMW's login server asks to wait")
    return ServerError(f"{TOKEN_REFRESH}: BMW's login server answered HTTP {status} without an OAuth refusal; "
                       "the tokens are kept and the refresh is tried again", status=status)


def _rest_error(endpoint: str, status: int, code: str, note: str, retry_after: float | None) -> EVClientError:
    if code == "CU-429" or status == 429:
        return QuotaExceeded("CarData's daily limit of 50 calls is used up", retry_after=retry_after)
    if code in ("CU-100", "CU-101", "CU-102") or status == 401 or "invalid_token" in note:
        return AuthenticationError(f"{endpoint}: CarData refused the token ({code or status})")
    if code == "CU-103":
        return AuthenticationError("this client id is not subscribed to the CarData API (BMW's portal)")
    if code == "CU-104":
        return NotSupportedError(f"{endpoint}: this car is not the account's primary car (CU-104)")
    if code in ("CU-105", "CU-121", "CU-122"):
        return ContainerGone(f"{endpoint}: evclient's data container is gone ({code})", endpoint=endpoint,
                             status=status)
    if code == "CU-124":
        # The account's trouble, not the car's: the endpoint stays, and works once a container is deleted.
        return NotSupportedError("the account already has 10 data containers (BMW's limit); delete one in the "
                                 "CarData portal", permanent=False)
    if code == "CU-126":
        return NotSupportedError(f"{endpoint}: BMW has no image of this car")
    if code == "CU-127":
        return NotSupportedError(f"{endpoint}: no charging settings for this car")
    if code == "CU-120":
        return NotSupportedError(f"{endpoint}: CarData does not know this VIN")
    if code in ("CU-500", "CU-503") or status >= 500:
        return ServerError(f"{endpoint}: CarData failed ({code or status})", status=status, retry_after=retry_after)
    return ResponseError(f"{endpoint}: CarData refused the request ({code or f'HTTP {status}'})", endpoint=endpoint,
                         status=status)
