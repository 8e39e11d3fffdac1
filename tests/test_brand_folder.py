"""A brand is one folder: copy ZE Services' folder, simulator module and fixtures under a new name, edit only
the names inside the copies, and the new brand logs in, polls, runs a command, and shows in the CLI's help
and the diagnostics — with no edit to any other file. (The Home Assistant side is in the example's tests.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The names inside the copies, old → new (VINs too: the simulated world keys its cars by VIN).
RENAMES = (("renault-ze", "acme-ze"), ("renault_ze", "acme_ze"), ("RenaultZE", "AcmeZE"),
           ("Renault ZE Services", "Acme ZE"), ("VF1AG0001644", "ACM1AG000164"))


def copy_brand(into: Path) -> Path:
    """A copy of the checkout's code and fixtures with the ``acme-ze`` brand added beside ``renault-ze``."""
    shutil.copytree(ROOT / "evclient", into / "evclient", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "fixtures", into / "fixtures")
    copies = [
        (into / "evclient/brands/renault_ze", into / "evclient/brands/acme_ze"),
        (into / "evclient/simulator/brands/renault_ze.py", into / "evclient/simulator/brands/acme_ze.py"),
        (into / "fixtures/renault_ze", into / "fixtures/acme_ze"),
    ]
    for source, target in copies:
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
        files = [target] if target.is_file() else [p for p in target.rglob("*") if p.is_file()]
        for path in files:
            text = path.read_text(encoding="utf-8")
            for old, new in RENAMES:
                text = text.replace(old, new)
            path.write_text(text, encoding="utf-8")
    return into


SCRIPT = textwrap.dedent('''
    import asyncio, json
    import evclient
    from evclient import brands
    from evclient.simulator import Simulator, DEMO_USERNAME, DEMO_PASSWORD

    async def main():
        sim = Simulator()
        await sim.start()
        try:
            sim.world.set_script("charge-now", latency=2.0)
            fast = evclient.Budget(windows=[evclient.Window(limit=3600, seconds=3600.0, reserve=360)])
            async with evclient.connect("acme-ze", servers=sim.servers("acme-ze"), username=DEMO_USERNAME,
                                        password=DEMO_PASSWORD, budget=fast) as account:
                cars = await account.vehicles()
                await account.start()
                await asyncio.sleep(4)
                result = await cars[0].command("charge-now")
                report = await account.diagnostics()
            routes = sorted({e.route for e in sim.requests(brand="acme-ze")})
            print(json.dumps({"brands": brands.names(), "cars": len(cars), "result": result.status,
                              "routes": routes, "diagnostics_brand": report["brand"],
                              "polled": [r for r in routes if not r.endswith(("login", "charge-now"))]}))
        finally:
            await sim.close()

    asyncio.run(main())
''')


@pytest.mark.timeout(120)
def test_a_copied_brand_folder_is_a_working_brand(tmp_path):
    copy = copy_brand(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(copy), "EVCLIENT_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=90, env=env,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "acme-ze" in found["brands"] and "renault-ze" in found["brands"]
    assert found["cars"] >= 1 and found["diagnostics_brand"] == "acme-ze"
    assert found["result"] == "CHARGING"  # the command walked to ZE Services' confirmation
    assert "acme-ze.login" in found["routes"] and "acme-ze.charge-now" in found["routes"]
    assert found["polled"]  # background polls reached the new brand's simulated cloud

    help_text = subprocess.run([sys.executable, "-m", "evclient.cli", "--brand", "acme-ze", "fetch", "--help"],
                               capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path, check=False)
    assert help_text.returncode == 0 and "endpoints of acme-ze" in help_text.stdout
    main_help = subprocess.run([sys.executable, "-m", "evclient.cli", "--help"], capture_output=True, text=True,
                               timeout=60, env=env, cwd=tmp_path, check=False).stdout
    assert "acme-ze" in main_help
    vehicles = subprocess.run([sys.executable, "-m", "evclient.cli", "--brand", "acme-ze", "--simulator",
                               "http://127.0.0.1:9", "--no-state", "budget"], capture_output=True, text=True,
                              timeout=60, env=env, cwd=tmp_path, check=False)
    assert vehicles.returncode == 0, vehicles.stderr  # the CLI knows its settings and its simulator mounts

    # Nothing outside the copies changed: the checkout's own files are as they were.
    for path in ("evclient/brands/__init__.py", "evclient/simulator/brands/__init__.py", "evclient/cli/app.py",
                 "evclient/diagnostics.py"):
        assert (copy / path).read_text() == (ROOT / path).read_text()


#: CarData under another name: its folder, its simulator module and fixtures (the MQTT helper is shared).
CARDATA_RENAMES = (("bmw-cardata", "acme-cardata"), ("bmw_cardata", "acme_cardata"), ("BmwCarData", "AcmeCarData"),
                   ("WBY31AW0X0FP", "ACY31AW0X0FP"), ("WMW21DJ0X0T", "ACW21DJ0X0T"), ("WBA11AA0X0C", "ACA11AA0X0C"))

CARDATA_SCRIPT = textwrap.dedent('''
    import asyncio, datetime as dt, json
    import evclient
    from evclient.simulator import Simulator
    from evclient.simulator.brands.acme_cardata import DEMO_CLIENT_ID

    async def main():
        sim = Simulator(brands=["acme-cardata"])
        await sim.start()
        try:
            try:
                account = await evclient.connect("acme-cardata", servers=sim.servers("acme-cardata"),
                                                 client_id=DEMO_CLIENT_ID)
            except evclient.TwoFactorRequired as asked:
                sim.brands["acme-cardata"].approve(asked.challenge.user_code, "approve")
                account = await asked.challenge.wait()
            async with account:
                cars = await account.vehicles()
                connected = asyncio.Event()
                account.subscribe_stream(lambda state: connected.set() if state.connected else None)
                pushed = []
                account.subscribe(lambda car, names: pushed.append(car.endpoints["telematics"].source))
                await account.start()
                await asyncio.wait_for(connected.wait(), 30)
                pushed.clear()
                stamp = dt.datetime.fromtimestamp(sim.world.clock.wall() + 1, dt.UTC).isoformat()
                await sim.brands["acme-cardata"].publish_raw(
                    sim.world.account("acme-cardata", DEMO_CLIENT_ID).extra["gcid"], cars[0].vin, json.dumps(
                        {"vin": cars[0].vin, "data": {"vehicle.drivetrain.batteryManagement.header":
                                                      {"value": 61, "timestamp": stamp}}}).encode())
                for _ in range(100):
                    if "push" in pushed:
                        break
                    await asyncio.sleep(0.05)
                print(json.dumps({"cars": len(cars), "pushed": "push" in pushed,
                                  "soc": cars[0].status.battery_percent}))
        finally:
            await sim.close()

    asyncio.run(main())
''')


@pytest.mark.timeout(120)
def test_a_copied_cardata_folder_streams(tmp_path):
    """The brand with a stream copies too: its simulator's routes and broker plugins are named after the copy."""
    shutil.copytree(ROOT / "evclient", tmp_path / "evclient", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "fixtures", tmp_path / "fixtures")
    for source, target in ((tmp_path / "evclient/brands/bmw_cardata", tmp_path / "evclient/brands/acme_cardata"),
                           (tmp_path / "evclient/simulator/brands/bmw_cardata.py",
                            tmp_path / "evclient/simulator/brands/acme_cardata.py"),
                           (tmp_path / "fixtures/bmw_cardata", tmp_path / "fixtures/acme_cardata")):
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
        for path in [target] if target.is_file() else [p for p in target.rglob("*") if p.is_file()]:
            if path.suffix in (".py", ".json", ".md", ".txt", ""):
                text = path.read_text(encoding="utf-8")
                for old, new in CARDATA_RENAMES:
                    text = text.replace(old, new)
                path.write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "EVCLIENT_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-c", CARDATA_SCRIPT], capture_output=True, text=True, timeout=90,
                          env=env, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["cars"] >= 1 and found["pushed"] and found["soc"] == 61
