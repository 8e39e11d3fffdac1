"""What Gigya's and Kamereon's error answers mean, as evclient errors.

Gigya answers HTTP 200 (or its ``statusCode``) with ``errorCode`` > 0. Kamereon answers
``{"errors": [{"errorCode", "errorMessage"}]}`` (the message may itself be JSON) with an HTTP error
status, sometimes 200; its proxy answers HTML on a bad gateway.
"""

from __future__ import annotations

import json
from typing import Any

from ...errors import (
    AuthenticationError,
    EVClientError,
    InvalidCredentialsError,
    NotSupportedError,
    PrivacyModeError,
    QuotaExceeded,
    ResponseError,
    ServerError,
    TemporaryError,
    TwoFactorCodeRejected,
    TwoFactorExpired,
)
from ...transport import Response
from .gigya import TWO_FACTOR_PENDING

#: Kamereon codes that say the car (its model, its subscription) has no such endpoint or action.
NOT_SUPPORTED = {
    "err.func.403", "err.func.wired.forbidden", "err.tech.501", "err.func.wired.notFound", "err.func.wired.not-found",
    "err.func.wired.methodNotAllowed", "err.func.wired.invalid-body-format", "403011", "400001",
}
TEMPORARY = {"err.tech.500", "err.tech.wired.kamereon-proxy", "err.func.wired.low.battery.level"}


def decode_error(response: Response, wall_now: float) -> EVClientError | None:
    """The error ``response`` stands for, or ``None`` for a success."""
    if response.endpoint.startswith("gigya") or response.endpoint in {"login", "jwt"}:
        return _gigya(response, wall_now)
    return _kamereon(response, wall_now)


def _gigya(response: Response, wall_now: float) -> EVClientError | None:
    body = response.json_or_none()
    endpoint = response.endpoint
    if response.status == 429:  # whatever the body says: a ServerError would be retried at once, every poll
        return QuotaExceeded("Gigya asks to slow down", retry_after=response.retry_after(wall_now))
    if not isinstance(body, dict):
        if response.ok and endpoint == "gigya accounts.webSdkBootstrap":
            return None  # its answer is the cookies
        if response.status >= 500 or response.status == 408 or response.ok:
            return ServerError(f"{endpoint}: Gigya answered HTTP {response.status} without JSON",
                               status=response.status, retry_after=response.retry_after(wall_now))
        return ResponseError(f"{endpoint}: Gigya answered HTTP {response.status}", endpoint=endpoint,
                             status=response.status)
    code = _int(body.get("errorCode"))
    if code in (None, 0):
        return None if response.ok else ServerError(f"{endpoint}: HTTP {response.status}", status=response.status)
    details = f"{body.get('errorMessage') or ''} {body.get('errorDetails') or ''}".lower()
    if endpoint == "login" and code in TWO_FACTOR_PENDING:
        return None  # the auth starts the two-factor flow from this answer
    if code == 403042:
        return InvalidCredentialsError("MyRenault refused the e-mail address or password")
    if code in (403005, 403013):
        return AuthenticationError(f"{endpoint}: Gigya no longer accepts the login token ({code})")
    if "maximum allowed tries" in details or code == 400006 or "invalid jwt" in details:
        return TwoFactorExpired("the two-factor challenge is over (too many tries or expired); connect again")
    if "wrong verification code" in details or (code == 400003 and endpoint == "gigya two-factor code"):
        return TwoFactorCodeRejected("that code is not the one e-mailed; try again")
    if code == 400093 or "apikey" in details:
        return AuthenticationError("Gigya refused the api key (Renault rotates them: pass gigya_api_key=...)")
    if code == 403048:
        return QuotaExceeded("Gigya's rate limit", retry_after=response.retry_after(wall_now))
    if code in (403120, 403041):
        return AuthenticationError(f"MyRenault locked or disabled the account ({code})")
    if code >= 500000:
        return ServerError(f"{endpoint}: Gigya error {code}", retry_after=response.retry_after(wall_now))
    return AuthenticationError(f"{endpoint}: Gigya refused the call ({code})")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _kamereon_code(body: Any) -> tuple[str | None, str]:
    if not isinstance(body, dict):
        return None, ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        message = str(first.get("errorMessage") or "")
        code = first.get("errorCode")
        # Some messages wrap the upstream's own JSON:API error; its code is the more precise one.
        try:
            inner = json.loads(message)
            detail = inner["errors"][0]
            message = str(detail.get("detail") or detail.get("title") or message)
            if str(detail.get("code", "")).isdigit() and str(code) == "err.func.403":
                code = detail["code"]
        except (ValueError, TypeError, KeyError, IndexError):
            pass
        return (str(code) if code is not None else None), message
    return None, ""


def _kamereon(response: Response, wall_now: float) -> EVClientError | None:
    body = response.json_or_none()
    code, message = _kamereon_code(body)
    if response.ok and code is None:
        return None
    endpoint, status = response.endpoint, response.status
    what = f"{endpoint}: {code or f'HTTP {status}'}" + (f" ({message[:120]})" if message else "")
    if code == "err.func.wired.overloaded" or status == 429:
        return QuotaExceeded(f"{endpoint}: Kamereon's quota is used up", retry_after=response.retry_after(wall_now))
    if code == "err.func.privacy.on":
        return PrivacyModeError(f"{endpoint}: the car is in privacy mode")
    if code in ("err.func.401",) or status == 401:
        return AuthenticationError(f"{endpoint}: Kamereon refused the token")
    if code == "409001":
        return TemporaryError(f"{endpoint}: the car is still busy with an earlier change; try again shortly")
    if code in NOT_SUPPORTED or (code and code.startswith(("err.func.vcps.", "err.tech.vcps."))) \
            or (code is None and status in (403, 404, 405, 501)):
        return NotSupportedError(f"{what}: not available on this car")
    if code in TEMPORARY or status >= 500 or status == 408:
        return ServerError(what, status=status, retry_after=response.retry_after(wall_now))
    return ResponseError(f"{what}: the server refused the request", endpoint=endpoint, status=status)
