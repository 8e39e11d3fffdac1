"""Runs PyPI ``bmw-cardata`` (0.1.0a3), unmodified, against an evclient simulator; prints JSON.

Run with the peer's own virtual environment: ``python bmw_cardata_runner.py CONFIG``, CONFIG a JSON object with
``auth`` and ``api`` (the simulator's base URLs for BMW's login and API hosts), ``stream_host``, ``stream_port``
and ``ca_file`` (its MQTT-over-TLS listener and test CA), ``client_id``, ``controls`` (the simulator's base URL,
to move its clock), ``start`` / ``end`` (the charging history's range) and ``phase`` ("read" or "stream").
What is adapted is only what a deployment differs in: the base URLs the library takes as arguments, the
stream's host and port, and the CA.

Phase "read" logs in with the device flow (the simulated owner approves), lists the mappings and, for each
PRIMARY car, reads basic data, telematics through a container of its own, every page of the charging history,
the tyre diagnosis, the charging settings and the image. Phase "stream" logs in and streams until a message
arrives, moving the simulator's clock so that the cars have news.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import sys
from importlib.metadata import version
from typing import Any

import aiohttp
from bmw_cardata import CarDataClient, DeviceCodeFlowClient
from bmw_cardata.exceptions import CarDataHTTPError
from bmw_cardata.streaming import StreamingClient

#: The keys the runner's container asks for (a subset of what evclient reads, compared value by value).
KEYS = [
    "vehicle.drivetrain.batteryManagement.header",
    "vehicle.drivetrain.electricEngine.kombiRemainingElectricRange",
    "vehicle.vehicle.travelledDistance",
    "vehicle.body.chargingPort.status",
    "vehicle.cabin.infotainment.navigation.currentLocation.latitude",
    "vehicle.cabin.door.lock.status",
]


async def advance(http: aiohttp.ClientSession, controls: str, seconds: float) -> None:
    async with http.post(f"{controls}/_sim/clock", json={"advance": seconds}) as answer:
        answer.raise_for_status()


async def main(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"version": version("bmw-cardata")}
    async with aiohttp.ClientSession() as http:
        auth = DeviceCodeFlowClient(config["client_id"], session=http, base_url=config["auth"])
        code = await auth.request_device_code()
        token = await asyncio.wait_for(auth.poll_for_token(code.device_code, interval=code.interval), 120)
        if config.get("phase") == "stream":
            out["stream"] = await streamed(http, config, token.gcid, token.id_token or "")
            return out
        client = CarDataClient(token.access_token, session=http, base_url=config["api"])
        mappings = await client.get_mappings()
        out["mappings"] = {m.vin: str(m.mapping_type.value if m.mapping_type else None) for m in mappings}
        from bmw_cardata.models.container import CreateContainerRequest

        container = await client.create_container(CreateContainerRequest.from_dict(
            {"name": "peer-bmw-cardata", "purpose": "a third-party client's reads", "technicalDescriptors": KEYS}))
        cars: dict[str, Any] = {}
        for vin, kind in out["mappings"].items():
            if kind != "PRIMARY":
                continue
            car: dict[str, Any] = {}
            basic = await client.get_basic_data(vin)
            car["basic"] = {"vin": basic.vin, "model_name": basic.model_name, "raw": basic.raw_data}
            telematics = await client.get_telematic_data(vin, container.container_id)
            car["telematics"] = {k: v.value for k, v in telematics.telematic_data.items()}
            sessions: list[dict[str, Any]] = []
            next_token: str | None = None
            while True:
                page = await client.get_charging_history(vin, from_=config["start"], to=config["end"],
                                                         next_token=next_token)
                sessions += [{"mileage": s.mileage, "units": str(s.mileage_units.value)} for s in page.data]
                next_token = page.next_token
                if not next_token:
                    break
            car["history"] = sessions
            try:
                tyres = await client.get_smart_maintenance_tyre_diagnosis(vin)
                car["tyres"] = sorted(tyres.raw_data.get("passengerCar") or {})
            except CarDataHTTPError as err:
                car["tyres"] = {"refused": err.status}
            try:
                settings = await client.get_location_based_charging_settings(vin)
                car["settings"] = [d.id for d in settings.data]
            except CarDataHTTPError as err:
                car["settings"] = {"refused": err.status}
            try:
                car["image"] = len(await client.get_vehicle_image(vin))
            except CarDataHTTPError as err:
                car["image"] = {"refused": err.status}
            cars[vin] = car
        out["cars"] = cars
    return out


async def streamed(http: aiohttp.ClientSession, config: dict[str, Any], gcid: str, id_token: str) -> dict[str, Any]:
    """The stream, over TLS with the simulator's CA: the clock moved twice (the first move sets what the cars
    "had"; a car streams what changed after that); the first message."""
    context = ssl.create_default_context(cafile=config["ca_file"])
    async with StreamingClient(gcid, id_token, host=config["stream_host"], port=int(config["stream_port"]),
                               tls_context=context) as stream:
        async def first() -> Any:
            async for message in stream.stream():
                return message
            return None

        waiting = asyncio.ensure_future(first())
        for _ in range(2):
            await asyncio.sleep(1.0)
            await advance(http, config["controls"], 120.0)
        message = await asyncio.wait_for(waiting, 30)
        return {"vin": message.vin, "data": {k: v.value for k, v in message.data.items()}}


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)
    print(json.dumps({"result": asyncio.run(main(json.loads(sys.argv[1])))}), flush=True)
