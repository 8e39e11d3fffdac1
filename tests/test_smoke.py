from __future__ import annotations

import asyncio


async def test_login_list_refresh(cloud):
    async with cloud.connect() as account:
        cars = await account.vehicles()
        assert [c.vin for c in cars] == ["VF1SLXXXX00000001"]
        value = await cars[0].refresh("e1")
        assert value.value == 1
        assert cloud.count("login") == 1
        assert asyncio.get_running_loop().time() < 1
