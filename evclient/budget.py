"""How an account spends its requests: the windows, the command reserve, a saved log, the pause and retries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .errors import InvalidInputError
from .scheduler import Window, check_state
from .validate import positive_seconds, whole

__all__ = ["Budget"]


@attrs.frozen(kw_only=True)
class Budget:
    """How an account spends its requests.

    ``windows`` replaces the brand's windows; ``reserve`` sets the command reserve of every window
    (default: the brand's, 6 of 60); ``state`` is what :meth:`Account.budget_state` exported before a
    restart; ``cooldown`` overrides the pause after a quota error without Retry-After; ``retries`` is how
    often an idempotent read is retried on a temporary failure (each retry spends a slot).
    """

    windows: Sequence[Window] | None = None
    reserve: int | None = None
    state: Mapping[str, Any] | None = None
    cooldown: float | None = None
    retries: int = 2

    def __attrs_post_init__(self) -> None:
        if self.reserve is not None:
            whole("Budget.reserve", self.reserve, 0)
        if self.cooldown is not None and positive_seconds("Budget.cooldown", self.cooldown) < 1:
            raise InvalidInputError(f"Budget.cooldown must be at least 1 second, got {self.cooldown!r}")
        whole("Budget.retries", self.retries, 0, 10)
        if self.windows is not None and not all(isinstance(w, Window) for w in self.windows):
            raise InvalidInputError("Budget.windows must be evclient.Window objects")
        if self.state is not None:
            check_state(self.state)  # what Account.budget_state() returned, or an InvalidInputError now

    def resolve(self, brand_windows: Sequence[Window]) -> tuple[Window, ...]:
        windows = tuple(self.windows or brand_windows)
        if self.reserve is not None:
            for w in windows:
                if self.reserve >= w.limit:
                    raise InvalidInputError(f"Budget.reserve {self.reserve} leaves nothing for polling in window "
                                            f"{w.name!r} of {w.limit} requests (at most {w.limit - 1})")
            windows = tuple(attrs.evolve(w, reserve=self.reserve) for w in windows)
        return windows
