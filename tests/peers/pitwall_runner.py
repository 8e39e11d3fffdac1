"""Runs PyPI ``pitwall-mcp`` (0.1.1), unmodified, against an evclient simulator; prints JSON.

Run with the peer's own virtual environment (Python 3.13): ``python pitwall_runner.py CONFIG``, CONFIG a JSON
object with ``auth`` and ``api`` (the simulator's base URLs for BMW's login and API hosts), ``client_id`` and
``folder`` (where its token file and database go). What is adapted is only what a deployment differs in: the
default base URLs of the library it is built on (``bmw-cardata``), which pitwall-mcp does not let one set.

It logs in through its own token manager (the device flow; the simulated owner approves), then reads through its
own adapter (cache, quota guard and history included): the mappings, the containers, and for each PRIMARY car the
basic data, the telematics through a container of its own (pitwall-mcp makes its containers with a script, by
hand: here the library it builds on makes one) and the tyre diagnosis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import bmw_cardata.auth
import bmw_cardata.client

KEYS = [
    "vehicle.drivetrain.batteryManagement.header",
    "vehicle.vehicle.travelledDistance",
    "vehicle.cabin.infotainment.navigation.currentLocation.latitude",
    "vehicle.cabin.door.lock.status",
]


async def main(config: dict[str, Any]) -> dict[str, Any]:
    bmw_cardata.client.CarDataClient.__init__.__kwdefaults__["base_url"] = config["api"]
    bmw_cardata.auth.DeviceCodeFlowClient.__init__.__kwdefaults__["base_url"] = config["auth"]
    from bmw_cardata.models.container import CreateContainerRequest
    from pitwall_mcp.cardata.auth import TokenManager
    from pitwall_mcp.cardata.client import CarDataAdapter
    from pitwall_mcp.config import Settings
    from pitwall_mcp.storage.db import Database

    folder = Path(config["folder"])
    settings = Settings(client_id=config["client_id"], vin=None, container_id=None, token_file=folder / "tokens.json",
                        db_path=folder / "pitwall.db", daily_quota=50, log_level="CRITICAL",
                        catalogue_path=folder / "catalogue.json")
    tokens = TokenManager(settings)
    await tokens.device_login(lambda device: None)
    adapter = CarDataAdapter(settings, db=Database(settings.db_path), tokens=tokens)
    out: dict[str, Any] = {"version": version("pitwall-mcp")}
    vehicles = (await adapter.list_vehicles()).payload
    out["mappings"] = {v["vin"]: v.get("mappingType") for v in vehicles}
    async with bmw_cardata.client.CarDataClient(tokens.access_token) as client:
        made = await client.create_container(CreateContainerRequest.from_dict(
            {"name": "pitwall", "purpose": "a third-party client's reads", "technicalDescriptors": KEYS}))
    out["containers"] = sorted(c.get("name") for c in (await adapter.list_containers()).payload["containers"])
    cars: dict[str, Any] = {}
    for vin, kind in out["mappings"].items():
        if kind != "PRIMARY":
            continue
        basic = (await adapter.get_basic_data(vin)).payload
        telematics = (await adapter.get_telematic_data(vin, made.container_id)).payload
        tyres = (await adapter.get_tyre_diagnosis(vin)).payload
        cars[vin] = {"basic": basic,
                     "telematics": {k: v.get("value") for k, v in telematics["telematicData"].items()},
                     "tyres": sorted(tyres.get("passengerCar") or {})}
    out["cars"] = cars
    return out


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    print(json.dumps({"result": asyncio.run(main(json.loads(sys.argv[1])))}, default=str), flush=True)
