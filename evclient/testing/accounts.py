"""Logging in to the simulator's demo accounts the way an application would, for every brand."""

from __future__ import annotations

from typing import Any

import evclient
import evclient.brands
from evclient.connect import Connecting
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME, Simulator


async def demo_login(sim: Simulator, brand: str, *, base_url: str | None = None, **settings: Any) -> evclient.Account:
    """The demo account of ``brand`` on ``sim`` (``settings`` add to the demo's), through the brand's device
    login where it has one (the simulated owner approves it after 3 s)."""
    declared = {s.name for s in evclient.brands.get(brand).settings}
    login: dict[str, Any] = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD} if "password" in declared else {}
    return await approved(evclient.connect(brand, servers=sim.servers(brand, base_url), **login, **settings))


async def approved(connecting: Connecting) -> evclient.Account:
    """Await ``connecting``; a device login it asks for is waited for (the simulated owner approves it)."""
    try:
        return await connecting
    except evclient.TwoFactorRequired as asked:
        challenge = asked.challenge
        if not isinstance(challenge, evclient.DeviceCodeChallenge):
            raise
        try:
            return await challenge.wait()
        except BaseException:
            await challenge.close()
            raise
