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
