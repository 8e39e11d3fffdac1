"""Logging in to the simulator's demo accounts the way an application would, for every brand."""

from __future__ import annotations

from typing import Any

import evclient
import evclient.brands
from evclient.connect import Connecting
from evclient.simulator import Simulator
from evclient.simulator.brands import Rehearsal, all_brands


def rehearsed_brands() -> dict[str, Rehearsal]:
    """Every brand evclient has and the simulator serves, with what its simulator rehearses: a new brand joins the
    demo, the fault matrix and the soak by declaring one (``tests/test_fault_matrix.py`` checks none is missing)."""
    sims = all_brands()
    return {name: sims[name].rehearsal for name in evclient.brands.names() if name in sims}


def demo_settings(brand: str) -> dict[str, Any]:
    """What ``connect()`` takes for the default world's demo account of ``brand`` (its simulator says)."""
    return dict(all_brands()[brand].demo_credentials())


def demo_secrets(brand: str) -> tuple[str, ...]:
    """The demo account's secret values (those of settings the brand declares secret): no log line, repr or
    error message may hold them."""
    secret = {s.name for s in evclient.brands.get(brand).settings if s.secret}
    return tuple(str(v) for k, v in demo_settings(brand).items() if k in secret and v)


async def demo_login(sim: Simulator, brand: str, *, base_url: str | None = None, **settings: Any) -> evclient.Account:
    """The demo account of ``brand`` on ``sim`` (``settings`` add to or replace the demo's), through the brand's
    device login where it has one (the simulated owner approves it after 3 s)."""
    given = {**demo_settings(brand), **settings}
    return await approved(evclient.connect(brand, servers=sim.servers(brand, base_url), **given))


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
