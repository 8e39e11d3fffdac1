"""Credentials and tokens: secrets that never print, JWT expiry, single-flight renewal."""

from __future__ import annotations

import abc
import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import jwt

from .events import EventBus, TokensRenewed

if TYPE_CHECKING:
    from .account import Account
    from .brand import Api


class Secret:
    """A string that keeps out of reprs, logs and exception messages; :meth:`reveal` gives it back."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def _claim(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def jwt_expiry(token: str, received_at: float | None = None) -> float | None:
    """When a JWT expires (epoch seconds), read without verifying the signature.

    With ``received_at`` (the local wall time the token arrived) and an ``iat`` claim, the answer is
    ``received_at + (exp - iat)``: the token's lifetime as the server meant it, on the local clock. A local
    clock that is minutes off would otherwise judge a fresh token expired (or an expired one fresh) and
    spend a refused request finding out.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except jwt.PyJWTError:
        return None
    exp = _claim(claims, "exp")
    if exp is None:
        return None
    iat = _claim(claims, "iat")
    if received_at is not None and iat is not None and exp > iat:
        return received_at + (exp - iat)
    return exp


class Auth(abc.ABC):
    """A brand's way to get and keep valid credentials for its servers.

    :meth:`ensure` is single-flight: concurrent callers share one renewal. Renewal requests go through
    the account's scheduler like any other (``api.request``). Tokens are renewed ``refresh_margin``
    seconds before they expire.
    """

    refresh_margin = 60.0

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        #: The account's bus: told as soon as a renewal ends, whatever the request that needed it does next, so
        #: a rotated refresh token is announced (and saved) before it is ever used, even when that request fails.
        self.events: EventBus | None = None

    async def ensure(self, api: Api) -> None:
        """Make sure the credentials are valid now, renewing them if they are not."""
        if self.valid(api.clock.wall()):
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not self.valid(api.clock.wall()):
                try:
                    await self.renew(api)
                finally:
                    self.changed()

    def changed(self) -> None:
        """The tokens may have changed — a renewal ended, or a brand's resource kept with them (a container id)
        was found: announce it, so they are saved at once."""
        if self.events is not None:
            self.events.emit(TokensRenewed())

    @abc.abstractmethod
    def valid(self, wall_now: float) -> bool:
        """Whether the current tokens can be used now (with the margin)."""

    @abc.abstractmethod
    async def renew(self, api: Api) -> None:
        """Obtain fresh tokens: refresh them, or log in again."""

    @abc.abstractmethod
    def headers(self, server: str) -> Mapping[str, str]:
        """Headers that authenticate a request to ``server``."""

    @abc.abstractmethod
    def invalidate(self) -> None:
        """The server refused the current token (401): the next :meth:`ensure` renews it."""

    def personal_values(self) -> tuple[str, ...]:
        """Ids of the account that are not secrets but are personal (hidden wherever they appear in
        diagnostics)."""
        return ()

    @abc.abstractmethod
    def tokens(self) -> dict[str, Any]:
        """The state to persist (JSON-serialisable) so a later ``connect(tokens=...)`` resumes."""


class LoginChallenge:
    """A login paused until the user answers (say, types the one-time code they were e-mailed).

    ``connect()`` raises :class:`~evclient.errors.TwoFactorRequired` carrying one. The account stays open
    for it: finish the brand's steps (the last returns the logged-in :class:`~evclient.Account`), or call
    :meth:`close` to give up.

    Brand code makes one with the door it logs in through (``api``) and reaches the account only through it;
    ``connect()`` attaches how the login ends (:meth:`attach`), so a challenge never holds the account.
    """

    def __init__(self, api: Api) -> None:
        self._api = api
        self._finish: Callable[[], Awaitable[Account]] | None = None
        self._give_up: Callable[[], Awaitable[None]] | None = None

    def attach(self, finish: Callable[[], Awaitable[Account]], give_up: Callable[[], Awaitable[None]]) -> None:
        """The core's part: ``finish`` ends the login (tokens kept, the account returned), ``give_up`` closes it."""
        self._finish, self._give_up = finish, give_up

    async def close(self) -> None:
        """Give up: close the account the challenge kept open."""
        if self._give_up is not None:
            await self._give_up()

    async def _logged_in(self) -> Account:
        """The brand's last step calls this once its auth holds the new tokens."""
        if self._finish is None:
            raise RuntimeError("this challenge was not raised by connect()")
        return await self._finish()


@attrs.frozen
class CodeDestination:
    """Where a one-time code can be sent: the server's ``id`` for it and how it is shown (``e***@example.com``)."""

    id: str
    masked: str


class CodeChallenge(LoginChallenge):
    """A login paused for a one-time code sent to the user (e-mail, text message).

    The application lists :meth:`destinations`, asks for a code with :meth:`send_code`, and finishes with
    :meth:`complete` and the code the user typed. The CLI and any other front end can drive every brand's
    code challenge through these three steps.
    """

    async def destinations(self) -> list[CodeDestination]:
        """Where a code can be sent."""
        raise NotImplementedError

    async def send_code(self, destination_id: str | None = None) -> None:
        """Send a code (to the only destination, or to ``destination_id``)."""
        raise NotImplementedError

    async def complete(self, code: str, *, remember_device: bool = True) -> Account:
        """Check the code, finish the login and return the logged-in account."""
        raise NotImplementedError


class DeviceCodeChallenge(LoginChallenge):
    """A login the owner approves elsewhere (OAuth device code flow): open :attr:`verification_uri` and type
    :attr:`user_code` — or open :attr:`verification_uri_complete` — before :attr:`expires_at` (epoch seconds).

    ``await challenge.wait()`` polls for the approval (no faster than the server allows, through the account's
    budget) and returns the logged-in :class:`~evclient.Account`; ``close()`` gives up.
    """

    def __init__(self, api: Api, *, verification_uri: str, user_code: str, expires_at: float, interval: float,
                 verification_uri_complete: str | None = None) -> None:
        super().__init__(api)
        self.verification_uri = verification_uri
        self.verification_uri_complete = verification_uri_complete
        self.user_code = user_code
        self.expires_at = expires_at
        self.interval = interval

    def __repr__(self) -> str:
        return f"<DeviceCodeChallenge {self.verification_uri} code={self.user_code}>"

    async def wait(self) -> Account:
        """Wait for the owner's approval and return the logged-in account."""
        raise NotImplementedError
