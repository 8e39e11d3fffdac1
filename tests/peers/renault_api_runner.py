"""Runs renault-api, unmodified, against an evclient simulator; prints what it read and did as JSON.

Run with the peer's own virtual environment (``make peers``): ``python renault_api_runner.py CONFIG``
where CONFIG is a JSON object with ``gigya``, ``kamereon`` (the simulator's base URLs), ``gigya_key``,
``kamereon_key``, ``username``, ``password`` and ``phase`` ("read" or "act"). Only what a deployment
differs in is given to the client: the servers' URLs and the current API keys (an old release carries
keys Renault has since rotated). Works with renault-api 0.1.x to 0.6.x.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import sys
from importlib.metadata import version
from typing import Any

import aiohttp
from renault_api.renault_client import RenaultClient

#: endpoint → the peer's reader (a release without the method skips the endpoint).
READERS = {
    "battery-status": "get_battery_status", "cockpit": "get_cockpit", "hvac-status": "get_hvac_status",
    "location": "get_location", "lock-status": "get_lock_status", "res-state": "get_res_state",
    "pressure": "get_tyre_pressure", "charge-mode": "get_charge_mode", "charging-settings": "get_charging_settings",
    "hvac-settings": "get_hvac_settings", "notification-settings": "get_notification_settings",
    "soc-levels": "get_battery_soc",
}
#: Readers that take a period: endpoint → (the peer's reader, its arguments after start and end).
PERIOD_READERS = {
    "charges": ("get_charges", ()), "charge-history": ("get_charge_history", ("month",)),
    "hvac-sessions": ("get_hvac_sessions", ()), "hvac-history": ("get_hvac_history", ("month",)),
}
#: The period read: the simulated month so far (the simulator's charge sessions lie in it).
PERIOD = (dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 30))
#: Actions the runner performs, in order, where the peer's table lets it: (label, method, arguments).
ACTIONS = [
    ("hvac-start", "set_ac_start", (21.0,)), ("hvac-stop", "set_ac_stop", ()),
    ("charge-start", "set_charge_start", ()), ("charge-stop", "set_charge_stop", ()),
]
#: The peer's name for each action in its model table (0.5 onwards).
ACTION_ENDPOINTS = {"hvac-start": "actions/hvac-start", "hvac-stop": "actions/hvac-stop",
                    "charge-start": "actions/charge-start", "charge-stop": "actions/charge-stop"}


def plain(value: Any) -> Any:
    """A peer model as JSON-able data without its raw copy (``raw_data``), None values dropped."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name != "raw_data" and getattr(value, f.name) is not None}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def failure(err: Exception) -> dict[str, Any]:
    return {"error": type(err).__name__, "code": getattr(err, "error_code", None)}


async def supports(vehicle: Any, endpoint: str) -> bool:
    try:
        return bool(await vehicle.supports_endpoint(endpoint))
    except Exception:
        return True


async def read_all(vehicle: Any) -> dict[str, Any]:
    reads: dict[str, Any] = {}
    for endpoint, method in READERS.items():
        if not hasattr(vehicle, method):
            continue
        if not await supports(vehicle, endpoint):
            reads[endpoint] = {"skipped": "the peer's table says the model lacks it"}
            continue
        try:
            reads[endpoint] = {"value": plain(await getattr(vehicle, method)())}
        except Exception as err:  # every refusal is recorded, as the peer's caller would see it
            reads[endpoint] = failure(err)
    for endpoint, (method, extra) in PERIOD_READERS.items():
        if not hasattr(vehicle, method) or not await supports(vehicle, endpoint):
            continue
        try:
            value = await getattr(vehicle, method)(*PERIOD, *extra)
            reads[endpoint] = {"value": plain(value), "raw": value.raw_data}
        except Exception as err:
            reads[endpoint] = failure(err)
    return reads


async def act_all(vehicle: Any) -> dict[str, Any]:
    done: dict[str, Any] = {}
    for label, method, arguments in ACTIONS:
        if not hasattr(vehicle, method):
            continue
        if not await supports(vehicle, ACTION_ENDPOINTS[label]):
            done[label] = {"skipped": "the peer's table says the model lacks it"}
            continue
        try:
            await getattr(vehicle, method)(*arguments)
            done[label] = {"ok": True}
        except Exception as err:
            done[label] = failure(err)
        # The simulator's clock is held still: the test moves it between actions (one line in, one out).
        print(json.dumps({"acted": label, "vin": vehicle.vin}), flush=True)
        sys.stdin.readline()
    return done


async def main(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"version": version("renault-api"), "accounts": {}, "cars": {}}
    async with aiohttp.ClientSession() as websession:
        client = RenaultClient(websession=websession, locale="fr_FR", country="FR", locale_details={
            "gigya-root-url": config["gigya"], "gigya-api-key": config["gigya_key"],
            "kamereon-root-url": config["kamereon"], "kamereon-api-key": config["kamereon_key"],
        })
        await client.session.login(config["username"], config["password"])
        # As Home Assistant's integration does: every account's vehicles, no error caught.
        for account in await client.get_api_accounts():
            vehicles = await account.get_api_vehicles()
            out["accounts"][account.account_id] = [v.vin for v in vehicles]
            for vehicle in vehicles:
                details = await vehicle.get_details()
                car: dict[str, Any] = {"model": details.get_model_code(), "brand": details.get_brand_label(),
                                       "energy": details.get_energy_code()}
                if hasattr(details, "uses_electricity"):
                    car["uses_electricity"] = details.uses_electricity()
                if config["phase"] == "read":
                    car["reads"] = await read_all(vehicle)
                else:
                    car["actions"] = await act_all(vehicle)
                out["cars"][vehicle.vin] = car
    return out


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(main(json.loads(sys.argv[1])))
    print(json.dumps({"result": result}, default=str), flush=True)
