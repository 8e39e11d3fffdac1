"""Typed reads: an application's type checker sees each endpoint's model, not ``Any``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from evclient.brands.renault_ze.endpoints import BATTERY
from evclient.brands.renault_ze.models import Battery
from tests.conftest import ZOE

APP = textwrap.dedent('''
    import evclient
    from evclient.brands.renault.endpoints import BATTERY_STATUS, LOCATION
    from evclient.brands.renault_ze.endpoints import BATTERY

    async def app(car: evclient.Vehicle) -> None:
        reveal_type(await car.read(BATTERY_STATUS))
        reveal_type(car.latest(LOCATION))
        reveal_type(await car.read(BATTERY))
        reveal_type(await car.refresh("battery"))
''')


def test_mypy_sees_the_model_types(tmp_path) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path),
                           str(app)], capture_output=True, text=True, timeout=300, check=False)
    revealed = [line.split("Revealed type is ", 1)[1] for line in done.stdout.splitlines() if "Revealed type" in line]
    assert revealed == ['"evclient.brands.renault.models.BatteryStatus"',
                        '"evclient.brands.renault.models.Location | None"',
                        '"evclient.brands.renault_ze.models.Battery"',
                        '"Any"'], done.stdout


async def test_read_by_spec_reads_like_refresh_by_name(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        battery = await car.read(BATTERY)
        assert isinstance(battery, Battery) and battery == car.latest(BATTERY) == car.value("battery")
        assert car.endpoints["battery"].source == "read"
