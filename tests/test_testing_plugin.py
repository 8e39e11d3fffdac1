"""The pytest fixtures evclient.testing offers integration authors work as documented."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("brand", ["renault", "renault-ze", "bmw", "bmw-cardata"])
async def test_the_demo_account_of_every_brand_on_the_simulator_fixture(evclient_simulator, evclient_demo_connect,
                                                                         brand):
    async with evclient_demo_connect(brand) as account:
        cars = await account.vehicles()
    assert cars
    account = await evclient_demo_connect(brand)  # awaited, it is the caller's to close
    await account.close()
    assert {e.brand for e in evclient_simulator.requests()} == {brand}
