"""What ConnectedDrive's error answers mean, as evclient errors.

Errors come as ``{"error": {"code", "description"}}`` (the API) or ``{"error", "error_description"}``
(the OAuth token endpoint). Status codes as past clients mapped them: 401 unauthorised, 405 mobile access
disabled, 408 car unreachable, 423 account locked, 429 too many requests, 503 maintenance.
"""

from __future__ import annotations

from ...errors import (
    AuthenticationError,
    CommandFailed,
    EVClientError,
    InvalidCredentialsError,
    NotSupportedError,
    QuotaExceeded,
    ResponseError,
    ServerError,
)
from ...transport import Response

SECRET_KNOWLEDGE = "secretKnowledge"  # noqa: S105 - the error text that names it


def decode_error(response: Response, wall_now: float) -> EVClientError | None:
    if response.ok:
        return None
    status, endpoint = response.status, response.endpoint
    body = response.json_or_none()
    error = body.get("error") if isinstance(body, dict) else None
    description = ""
    if isinstance(error, dict):
        description = str(error.get("description", ""))
    elif isinstance(body, dict):
        description = str(body.get("error_description", ""))
    if endpoint == "login" and status in (400, 401) and error is not None:
        # Only the OAuth server's own refusal (a JSON "error") says the credentials are wrong: a proxy's page
        # with the same status says nothing about them, and taking it for a refusal would end the login.
        return InvalidCredentialsError("ConnectedDrive refused the username, password, app key or secret")
    if endpoint == "login" and status in (400, 401):
        return ServerError(f"login: ConnectedDrive's login server answered HTTP {status} without an OAuth refusal",
                           status=status)
    if status == 401:
        return AuthenticationError(f"{endpoint}: ConnectedDrive refused the token")
    if status == 423:
        return AuthenticationError("the ConnectedDrive account is locked; unlock it in the BMW app or web site")
    if status == 405:
        return NotSupportedError(f"{endpoint}: mobile access to this car is switched off")
    if status == 403 or (status == 400 and "not supported" in description.lower()):
        return NotSupportedError(f"{endpoint}: not supported by this car")
    if status == 429:
        return QuotaExceeded(f"{endpoint}: ConnectedDrive's request quota is used up",
                             retry_after=response.retry_after(wall_now))
    if SECRET_KNOWLEDGE in description:
        # DOOR_UNLOCK without the right answer to the account's security question.
        return CommandFailed(f"{endpoint}: ConnectedDrive refused the security answer", status="SECRET_KNOWLEDGE")
    if status == 408 or status >= 500:
        return ServerError(f"{endpoint}: ConnectedDrive answered HTTP {status}", status=status,
                           retry_after=response.retry_after(wall_now))
    return ResponseError(f"{endpoint}: unexpected HTTP {status}", endpoint=endpoint, status=status)
