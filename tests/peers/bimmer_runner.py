"""Runs bimmer_connected (0.5.x / 0.6.x), unmodified, against an evclient simulator; prints JSON.

Run with the peer's own virtual environment: ``python bimmer_runner.py CONFIG`` where CONFIG is a JSON
object with ``server`` (host:port of the simulator's BMW mount, e.g. ``127.0.0.1:8765/bmw``),
``username``, ``password``, ``phase`` ("key", "read" or "act") and, to act, ``vin``. What is adapted is
only what a deployment differs in: the server's address and the scheme (the simulator speaks plain HTTP
on loopback; the client writes ``https://`` into its URL constants). Phase "key" prints the i Remote
app key the release carries, so the simulated account can be given it.
"""

from __future__ import annotations

import ast
import base64
import inspect
import json
import logging
import sys
from importlib.metadata import version
from typing import Any

import bimmer_connected.account as account_module
import bimmer_connected.const as const
from bimmer_connected import country_selector, remote_services, state, vehicle
from bimmer_connected.account import ConnectedDriveAccount
from bimmer_connected.country_selector import Regions


def deploy(server: str) -> None:
    """Point the client's URL constants at the simulator, over plain HTTP."""
    country_selector._SERVER_URLS[Regions.REST_OF_WORLD] = server
    for module in (const, account_module, remote_services, state, vehicle):
        for name, value in list(vars(module).items()):
            if isinstance(value, str) and value.startswith("https://{server}"):
                setattr(module, name, "http://" + value.removeprefix("https://"))


def app_key() -> str:
    """The ``key:secret`` the release sends in its token request's Basic header."""
    tree = ast.parse(inspect.getsource(account_module))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "Authorization" and isinstance(value, ast.Constant):
                    return base64.b64decode(str(value.value).removeprefix("Basic ")).decode()
    raise LookupError("no Basic authorization in this release")


def plain(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "value") and not callable(value.value):  # an Enum
        return plain(value.value)
    return str(value)


def read(account: ConnectedDriveAccount) -> dict[str, Any]:
    cars: dict[str, Any] = {}
    for car in account.vehicles:
        car.update_state()
        values: dict[str, Any] = {}
        for name in car.available_attributes + car.drive_train_attributes:
            try:
                values[name] = plain(getattr(car.state, name))
            except Exception as err:
                values[name] = {"error": type(err).__name__, "detail": str(err)[:200]}
        cars[car.vin] = {"name": car.name, "drive_train": plain(car.drive_train), "values": values}
    return cars


def act(account: ConnectedDriveAccount, vin: str) -> dict[str, Any]:
    car = account.get_vehicle(vin)
    done: dict[str, Any] = {}
    for label in ("light_flash", "horn", "door_lock", "air_conditioning", "door_unlock"):
        try:
            status = getattr(car.remote_services, f"trigger_remote_{label}")()
            done[label] = {"state": plain(status.state)}
        except Exception as err:
            done[label] = {"error": type(err).__name__, "detail": str(err)[:200]}
    return done


def main(config: dict[str, Any]) -> dict[str, Any]:
    if config["phase"] == "key":
        return {"app_key": app_key()}
    deploy(config["server"])
    account = ConnectedDriveAccount(config["username"], config["password"], Regions.REST_OF_WORLD)
    out: dict[str, Any] = {"version": version("bimmer_connected"), "vins": [v.vin for v in account.vehicles]}
    if config["phase"] == "read":
        out["cars"] = read(account)
    else:
        out["actions"] = act(account, config["vin"])
    return out


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    print(json.dumps({"result": main(json.loads(sys.argv[1]))}), flush=True)
