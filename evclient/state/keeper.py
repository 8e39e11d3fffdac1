"""What keeps an account's state as it changes: tokens and budget written through to the account's store the
moment the bus says they moved, and the tokens' listeners told.

A renewal is announced by the auth itself (:class:`~evclient.events.TokensRenewed`) the moment it ends, so a
rotated refresh token is on disk before it is ever used — nobody polls the tokens for changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..events import BudgetChanged, EventBus, TokensRenewed

if TYPE_CHECKING:
    from .base import AccountStore

_LOG = logging.getLogger("evclient")

#: Called with the account's new ``tokens`` each time they change (a login, a refresh, a rotation).
TokensListener = Callable[[dict[str, Any]], None]


class StateKeeper:
    """Writes an account's changing state to ``store`` (when there is one) and tells the tokens' listeners.

    ``tokens()`` and ``budget()`` give the current parts; ``wall()`` the account's wall clock.
    """

    def __init__(self, events: EventBus, store: AccountStore | None, *, tokens: Callable[[], dict[str, Any]],
                 budget: Callable[[], dict[str, Any]], wall: Callable[[], float]) -> None:
        self.store = store
        self._tokens = tokens
        self._budget = budget
        self._wall = wall
        self._last_tokens = tokens()
        self._listeners: list[TokensListener] = []
        events.on(TokensRenewed, self.tokens_changed)
        if store is not None:
            events.on(BudgetChanged, self._budget_changed)

    def subscribe_tokens(self, callback: TokensListener) -> Callable[[], None]:
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def tokens_changed(self, _event: object = None) -> None:
        """The tokens may have changed: keep them (first: on disk before a new refresh token is used) and tell."""
        tokens = self._tokens()
        if tokens == self._last_tokens:
            return
        self._last_tokens = tokens
        self.keep({"tokens": tokens})
        for listener in list(self._listeners):
            try:
                listener(dict(tokens))
            except Exception:
                _LOG.exception("an evclient tokens listener failed")

    def _budget_changed(self, _event: BudgetChanged) -> None:
        self.keep({"budget": self._budget()})

    def keep(self, changes: Mapping[str, Any]) -> None:
        """Write ``changes`` through to the store; a store that fails is said, never raised into the caller."""
        if self.store is None:
            return
        try:
            self.store.write(changes, self._wall())
        except OSError as err:
            _LOG.warning("could not write the account's state (%s): a crash now would lose what changed",
                         err.strerror or type(err).__name__)
