"""pytest fixtures for code built on evclient: the simulator on loopback, and a logged-in demo account.

Use with ``pytest_plugins = ["evclient.testing.pytest_plugin"]`` (and pytest-asyncio). Pair with ``looptime``
to run simulated hours in milliseconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import evclient
from evclient.simulator import Simulator
from evclient.simulator.brands import all_brands


@pytest.fixture
async def evclient_simulator() -> AsyncIterator[Simulator]:
    """The simulator with its default world, started on a free loopback port and closed afterwards."""
    sim = Simulator()
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()


@pytest.fixture
def evclient_demo_connect(evclient_simulator: Simulator) -> Any:
    """``connect(brand, **overrides)`` to the simulator's demo account of ``brand``."""

    def connect(brand: str, **overrides: Any) -> Any:
        credentials = {**all_brands()[brand].demo_credentials(), **overrides}
        return evclient.connect(brand, servers=evclient_simulator.servers(brand), **credentials)

    return connect
