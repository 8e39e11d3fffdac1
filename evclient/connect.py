"""``connect()``: the one way in."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Generator, Mapping, Sequence
from typing import Any

import aiohttp

from . import brands
from .account import Account, Budget
from .auth import LoginChallenge
from .brand import Brand
from .clock import Clock
from .errors import TwoFactorRequired
from .state.base import AccountStore
from .transport import Timeouts, Transport


async def _logged_in(account: Account) -> Account:
    """A login challenge's end: the brand's auth holds the new tokens, set without a renewal."""
    account.auth.changed()  # so they are announced (and kept) now
    await account.login()  # clears the paused login; the fresh tokens need no request
    return account


class Connecting:
    """What :func:`connect` returns: ``await`` it for a logged-in :class:`Account`, or use
    ``async with connect(...) as account:`` to have the account closed on exit."""

    def __init__(self, factory: Any, login: bool = True) -> None:
        self._factory = factory
        self._login = login
        self._account: Account | None = None

    async def _open(self) -> Account:
        account: Account = self._factory()
        if not self._login:
            return account
        try:
            await account.login()
        except TwoFactorRequired as err:
            if isinstance(err.challenge, LoginChallenge):
                # The account stays open behind the challenge: its last step ends the login here.
                err.challenge.attach(functools.partial(_logged_in, account), account.close)
            else:
                await account.close()
            raise
        except BaseException:
            await account.close()
            raise
        return account

    def __await__(self) -> Generator[Any, None, Account]:
        return self._open().__await__()

    async def __aenter__(self) -> Account:
        self._account = await self._open()
        return self._account

    async def __aexit__(self, *exc: object) -> None:
        if self._account is not None:
            await self._account.close()


def connect(
    brand: str | type[Brand],
    *,
    session: aiohttp.ClientSession | None = None,
    servers: Mapping[str, str] | None = None,
    tokens: Mapping[str, Any] | None = None,
    budget: Budget | None = None,
    timeouts: Timeouts | None = None,
    ssl_context: ssl.SSLContext | None = None,
    clock: Clock | None = None,
    command_history: Mapping[str, Any] | None = None,
    vehicles: Sequence[Mapping[str, Any]] | None = None,
    login: bool = True,
    store: AccountStore | None = None,
    **credentials: Any,
) -> Connecting:
    """Connect to an account at ``brand`` (a registered name such as ``"renault-ze"``).

    ``credentials`` are the brand's (``username``, ``password``, ``region`` …); with ``tokens`` from an
    earlier ``account.tokens`` the password may be left out. ``session`` is used and never closed; without
    it the account opens and closes its own. ``servers`` overrides any of the brand's base URLs (e.g. to
    point at the simulator). ``command_history`` is an earlier ``account.command_history()``, so status
    polling keeps what it learnt about each car's latency. ``vehicles`` is an earlier
    ``account.vehicle_listing()``: the cars are then known without a request. ``login=False`` returns the
    account without logging in (the first request that needs it does). ``store`` keeps the account's state
    (tokens, budget log, listing) as it changes, written through (e.g. :class:`evclient.state.FileStore`).
    Bad arguments raise ``InvalidInputError`` before any request.
    """
    brand_cls = brands.get(brand) if isinstance(brand, str) else brand
    brand_session = brand_cls.open_session(**credentials)  # the settings checked before anything is opened

    def factory() -> Account:
        transport = Transport(session, timeouts=timeouts, ssl_context=ssl_context)
        return Account(brand_session, transport=transport, servers=servers, tokens=tokens, budget=budget, clock=clock,
                       command_history=command_history, vehicles=vehicles, store=store)

    return Connecting(factory, login)
