"""pytest fixtures for code built on evclient: the simulator on loopback, and a logged-in demo account.

Use with ``pytest_plugins = ["evclient.testing.pytest_plugin"]`` (and pytest-asyncio). Pair with ``looptime``
to run simulated hours in milliseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import Any

import pytest

import evclient
from evclient.connect import Connecting
from evclient.simulator import Simulator
from evclient.testing.accounts import approved, demo_settings


@pytest.fixture
async def evclient_simulator() -> AsyncIterator[Simulator]:
    """The simulator with its default world, started on a free loopback port and closed afterwards."""
    sim = Simulator()
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()


class DemoConnecting:
    """``await`` it for the logged-in demo account, or ``async with`` it to have the account closed on exit;
    a brand's device login is approved by the simulated owner and waited for."""

    def __init__(self, connecting: Connecting) -> None:
        self._connecting = connecting
        self._account: evclient.Account | None = None

    def __await__(self) -> Generator[Any, None, evclient.Account]:
        return approved(self._connecting).__await__()

    async def __aenter__(self) -> evclient.Account:
        self._account = await approved(self._connecting)
        return self._account

    async def __aexit__(self, *exc: object) -> None:
        if self._account is not None:
            await self._account.close()


@pytest.fixture
def evclient_demo_connect(evclient_simulator: Simulator) -> Any:
    """``connect(brand, **overrides)`` to the simulator's demo account of ``brand`` (any brand: a device login
    is approved by the simulated owner)."""

    def connect(brand: str, **overrides: Any) -> DemoConnecting:
        credentials = {**demo_settings(brand), **overrides}
        return DemoConnecting(evclient.connect(brand, servers=evclient_simulator.servers(brand), **credentials))

    return connect
