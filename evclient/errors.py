"""The exception tree: everything evclient raises derives from :class:`EVClientError`.

Applications map these onto their own reactions:

* :class:`AuthenticationError` → ask the user to log in again (Home Assistant: re-auth flow);
* :class:`TemporaryError` (and its :attr:`~TemporaryError.retry_after`) → retry later, keep cached values;
* :class:`NotSupportedError` → stop asking for this feature on this car;
* :class:`InvalidInputError` → the caller's mistake; no request was spent;
* :class:`CommandFailed` / :class:`CommandTimedOut` → the car said no / never answered;
* :class:`ResponseError` → the server answered something evclient does not understand;
* :class:`AccountClosed` → the account was closed; nothing more is sent.

Messages never hold secrets: callers pass only what is safe to show.
"""

from __future__ import annotations

import re
from typing import Any


class EVClientError(Exception):
    """Base of every error evclient raises."""


class AuthenticationError(EVClientError):
    """The server refused the credentials or the stored tokens; the user must log in again."""


class InvalidCredentialsError(AuthenticationError):
    """The username, password or app key is wrong."""


class TwoFactorRequired(AuthenticationError):
    """The login needs a one-time code; :attr:`challenge` carries the resumable flow."""

    def __init__(self, message: str, challenge: Any) -> None:
        super().__init__(message)
        self.challenge = challenge


class TwoFactorCodeRejected(AuthenticationError):
    """The one-time code was wrong; the same challenge takes another try."""


class TwoFactorExpired(AuthenticationError):
    """The two-factor challenge is over (too many tries, or it expired): log in again from the start."""


class TemporaryError(EVClientError):
    """Trouble that should pass: retry later, after :attr:`retry_after` seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConnectionFailed(TemporaryError):
    """The server could not be reached, the connection broke, or it did not answer in time."""


class RequestTimeout(ConnectionFailed):
    """The server did not answer within the configured timeout."""


class ServerError(TemporaryError):
    """The server answered with a 5xx status or a temporary upstream error code."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


class RateLimited(TemporaryError):
    """Too many requests: the server pushed back (HTTP 429) or evclient's budget is paused."""


class QuotaExceeded(RateLimited):
    """The brand's own quota error (e.g. Kamereon ``err.func.wired.overloaded``)."""


class BudgetExhausted(RateLimited):
    """evclient's own budget has no slot before the caller's deadline; nothing was sent.

    :attr:`retry_after` says when the next slot frees (``None`` when it waits for a request under way).
    """


class NotSupportedError(EVClientError):
    """The car, its model or the account does not support this endpoint or command.

    ``permanent`` says whether the car will never have it (the endpoint is then left out of polling); a
    refusal that is the account's passing trouble (CarData's ten containers) says ``permanent=False``.
    """

    def __init__(self, message: str, *, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent


class PrivacyModeError(NotSupportedError):
    """The car is in privacy mode: it shares no data until the driver turns that off."""


class InvalidInputError(EVClientError, ValueError):
    """A parameter is out of range or malformed; raised before any request is spent."""


class CommandNotSupported(NotSupportedError, InvalidInputError):
    """The car (or brand) has no such command or action; raised before any request."""


class AccountClosed(InvalidInputError):
    """The account was closed: every call after :meth:`~evclient.Account.close` raises this, sending nothing."""


class SessionClosed(InvalidInputError):
    """The ``aiohttp.ClientSession`` the application passed to ``connect()`` is closed; nothing was sent."""


class CommandFailed(EVClientError):
    """The car or the server reported that a command was not executed."""

    def __init__(self, message: str, *, status: str | None = None, result: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.result = result


class CommandTimedOut(EVClientError):
    """A command reached TIMED_OUT on the server or passed its local deadline without an outcome."""

    def __init__(self, message: str, *, status: str | None = None, result: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.result = result


class ResponseError(EVClientError):
    """The server's answer could not be understood (not JSON, wrong shape, unexpected status)."""

    def __init__(self, message: str, *, endpoint: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class ResourceGone(ResponseError):
    """A resource the read needed (``EndpointSpec.needs``, e.g. CarData's data container) is gone on the
    server: the session forgets it and the read is tried once more, finding or making it again."""


class RedirectRefused(ResponseError):
    """The server answered with a redirect. evclient follows none: a redirected request would reach a server
    without passing the budget, and could carry credentials to another origin."""


class CommandCancelled(EVClientError):
    """Following the command was stopped locally (``handle.cancel()``); the car may still execute it."""


#: What parsing an unexpected body raises in plain Python code.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, LookupError, ArithmeticError)


class reading:
    """Turn a wrongly shaped answer met inside the block into a :class:`ResponseError` naming ``endpoint``.

    Brand code indexes server bodies freely; the core wraps every call into it with this, so a raw
    ``KeyError`` never escapes the library. evclient's own errors pass through unchanged. (A class, not a
    generator: it runs around every parse of every poll.)
    """

    __slots__ = ("endpoint",)

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        if error is None or isinstance(error, EVClientError) or not isinstance(error, SHAPE_ERRORS):
            return
        raise ResponseError(f"{self.endpoint}: {_shape_problem(error)}", endpoint=self.endpoint) from error


#: A field name worth naming in a message (not a VIN or an id used as a key).
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


def _shape_problem(error: BaseException) -> str:
    """What was wrong with an answer, in words rather than Python's exception names."""
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], str) and _FIELD.fullmatch(
            error.args[0]) and not error.args[0].isupper():
        return f"the answer lacks the field {error.args[0]!r}"
    if isinstance(error, KeyError):
        return "the answer lacks a field"
    if isinstance(error, IndexError):
        return "a list in the answer is shorter than expected"
    if isinstance(error, TypeError | AttributeError):
        return "a field of the answer is not of the expected type"
    if isinstance(error, ArithmeticError):
        return "a number in the answer is out of range"
    return "a field of the answer has a value that is not understood"
