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


def test_every_builtin_brand_resolves_in_a_fresh_interpreter():
    # A brand must not depend on the simulator (or anything else) having imported it first.
    import subprocess
    import sys

    code = (
        "import sys; from evclient import brands; "
        "[brands.get(n) for n in brands.names()]; "
        "print(' '.join(brands.names())); "
        "sys.exit('evclient.simulator' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["bmw", "bmw-cardata", "renault", "renault-ze"]


def test_the_log_guard_knows_a_secret_when_it_sees_one():
    from tests.conftest import leaked

    assert leaked("GET /cars/VF1AG000164412345/battery")
    assert leaked("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig")
    assert leaked("login with demo-password")
    assert leaked("refresh with abcdef-opaque-1234", issued=["abcdef-opaque-1234"])
    assert not leaked("GET /cars/*************2345/battery: 200 in 0.01 s")
