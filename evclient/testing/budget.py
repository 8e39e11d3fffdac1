"""The scheduler's promise checked from the server's side: no window of a brand's declared budget ever held more
of an account's requests than its limit, counted from the simulator's own request log."""

from __future__ import annotations

from collections.abc import Iterable

import evclient.brands
from evclient.scheduler import Window
from evclient.simulator import Simulator
from evclient.simulator.brands import all_brands
from evclient.simulator.quota import most_in_any_window
from evclient.simulator.server import LogEntry


class BudgetBook:
    """The request times of each brand's windows, fed from the log as it grows, for a simulator with one account
    per brand (the fault matrix's and the soak's: a request the server could not tie to an account, a failed
    login say, is still that account's); the oldest are let go once no window can reach them, so a month of
    requests costs what a window holds."""

    def __init__(self) -> None:
        self._prefixes: dict[str, list[tuple[str, tuple[Window, ...]]]] = {}
        self.stamps: dict[tuple[str, str], list[float]] = {}
        self._limits: dict[tuple[str, str], Window] = {}

    def _windows_by_path(self, brand: str) -> list[tuple[str, tuple[Window, ...]]]:
        found = self._prefixes.get(brand)
        if found is None:
            declared = evclient.brands.get(brand)
            mounts = all_brands()[brand].mounts  # server name → its path on the simulator ("ws:" a WebSocket)
            found = self._prefixes[brand] = sorted(
                ((path.removeprefix("ws:"), tuple(w for w in declared.windows if w.covers(name)))
                 for name, path in mounts.items()),
                key=lambda pair: -len(pair[0]))  # the longest prefix names the server
        return found

    def add(self, entries: Iterable[LogEntry]) -> None:
        """Count ``entries``."""
        for entry in entries:
            for prefix, windows in self._windows_by_path(entry.brand):
                if entry.path.startswith(prefix):
                    for window in windows:
                        key = (entry.brand, window.name)
                        self.stamps.setdefault(key, []).append(entry.t)
                        self._limits[key] = window
                    break

    def violations(self) -> list[str]:
        """Each window that held more than its limit, said as ``brand window: most > limit``."""
        found = []
        for key, stamps in self.stamps.items():
            window = self._limits[key]
            most = most_in_any_window(stamps, window.seconds)
            if most > window.limit:
                found.append(f"{key[0]} {key[1]}: {most} > {window.limit}")
        return found

    def forget_before(self, wall: float) -> None:
        """Let go of the times no window ending after ``wall`` can hold."""
        for key, stamps in self.stamps.items():
            horizon = wall - self._limits[key].seconds
            self.stamps[key] = [t for t in stamps if t > horizon]


def over_budget(sim: Simulator, brand: str) -> list[str]:
    """The windows of ``brand``'s budget its account on ``sim`` overran, by the simulator's log."""
    book = BudgetBook()
    book.add(sim.requests(brand=brand))
    return book.violations()
