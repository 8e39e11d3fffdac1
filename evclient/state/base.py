"""The account's state and where it lives: one interface, written through as the state changes.

An account's state is what must outlive its process: the tokens (CarData's refresh token rotates at every
refresh, so an old copy is worthless), the budget log (the server counts every request, whoever made it),
the car listing, the commands' history and the last values. The account writes each part to its store the
moment it changes — an admitted request before it is sent, a rotated token before it is first used — so a
crash, a kill or a clock step loses nothing the server knows about.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

#: The parts of an account's state, as :meth:`AccountStore.load` returns them and ``write`` takes them.
PARTS = ("tokens", "budget", "vehicles", "commands", "values")


class AccountStore(abc.ABC):
    """Where one account's state lives. ``write`` is called with the parts that changed, ``load`` once at start.

    ``wall_now`` is the account's wall clock (the event loop's, anchored once): a store that keeps times across
    processes converts them with it, never with the machine's clock of the moment, which may have stepped.
    """

    #: Whether anything was written since this store was made (so a program can say whether it saved).
    wrote: bool = False

    @abc.abstractmethod
    def load(self, wall_now: float) -> dict[str, Any]:
        """The saved parts (missing ones absent), their times on the clock of ``wall_now``."""

    @abc.abstractmethod
    def write(self, changes: Mapping[str, Any], wall_now: float) -> None:
        """Keep ``changes`` (a subset of :data:`PARTS`); the budget is merged with what is kept, never replaced."""


class MemoryStore(AccountStore):
    """The state in this process only (what an account without a store has)."""

    def __init__(self, initial: Mapping[str, Any] | None = None) -> None:
        self.state: dict[str, Any] = dict(initial or {})

    def load(self, wall_now: float) -> dict[str, Any]:
        return dict(self.state)

    def write(self, changes: Mapping[str, Any], wall_now: float) -> None:
        self.state.update(changes)
        self.wrote = True
