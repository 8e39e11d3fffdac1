"""What ZE Services' error answers mean, as evclient errors.

The server answers errors as ``{"code": ..., "message": ...}`` (the simulator's documented shape; the
seed shows none), often behind a proxy that sends HTML instead. Decoding relies on the status first and
the code second, so both kinds of answer map the same way.
"""

from __future__ import annotations

from ...errors import (
    AuthenticationError,
    EVClientError,
    InvalidCredentialsError,
    NotSupportedError,
    QuotaExceeded,
    ResponseError,
    ServerError,
)
from ...transport import Response


def decode_error(response: Response, wall_now: float) -> EVClientError | None:
    """The error ``response`` stands for, or ``None`` for a success."""
    if response.ok:
        return None
    status, endpoint = response.status, response.endpoint
    body = response.json_or_none()
    code = str(body.get("code")) if isinstance(body, dict) and body.get("code") is not None else None
    if status == 404 and endpoint == "precondition-last" and code == "NOT_FOUND":
        return None  # no preconditioning yet: a value (None), not an error
    if status == 401:
        if endpoint == "login":
            return InvalidCredentialsError("ZE Services refused the username or password")
        return AuthenticationError(f"{endpoint}: ZE Services refused the token ({code or 'HTTP 401'})")
    if status == 403:
        return NotSupportedError(f"{endpoint}: this car or account has no access to it ({code or 'HTTP 403'})")
    if status == 429 or code == "TOO_MANY_REQUESTS":
        return QuotaExceeded(f"{endpoint}: ZE Services' request quota is used up",
                             retry_after=response.retry_after(wall_now))
    if status == 408 or status >= 500:
        return ServerError(f"{endpoint}: ZE Services answered HTTP {status}", status=status,
                           retry_after=response.retry_after(wall_now))
    if status == 400:
        return ResponseError(f"{endpoint}: ZE Services refused the request as invalid ({code or 'HTTP 400'})",
                             endpoint=endpoint, status=status)
    return ResponseError(f"{endpoint}: unexpected HTTP {status}", endpoint=endpoint, status=status)
