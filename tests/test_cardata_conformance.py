"""The CarData simulator against BMW's own files, read in place: every REST answer validates against the
response schemas of BMW's swagger (with the documented exceptions), and every telematic key it serves or streams
is in BMW's catalogue (or on the allow-list with its source), with the catalogue's type and unit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest

from evclient.brands.bmw_cardata import keys
from evclient.simulator.brands.bmw_cardata import UNITS, telematics_of
from tests.test_cardata import IX, login

FILES = Path(__file__).resolve().parents[2] / "shared" / "reference-fixtures" / "bmw-cardata"
pytestmark = pytest.mark.skipif(not FILES.is_dir(), reason="BMW's reference files are not here")

#: Where real clients observed something other than the swagger, accepted on purpose (REFERENCE §3b):
EXCEPTIONS = {
    "mappings": "the swagger shows one VehicleMappingDto; the server sends a list of them (evcc, kvanbiesen)",
    "telematics": "TelematicDataEntryDto fields may each be null (value, unit, timestamp) for keys without data",
    "mileage units": "chargingHistory's mileageUnits is a bare KM or MI on the live API, not the swagger's "
                     "MileageUnits.KM (REFERENCE §3c: bmw-cardata 0.1.0a3's model refuses the enum name)",
}


def schema(name: str) -> dict[str, Any]:
    swagger = json.loads((FILES / "swagger-customer-api-v1.json").read_text())
    return {"$ref": f"#/components/schemas/{name}", "components": swagger["components"]}


def validate(body: Any, name: str, *, nullable: bool = False) -> None:
    target = schema(name)
    if nullable:  # the documented exception: null where the swagger says string
        entry = target["components"]["schemas"]["TelematicDataEntryDto"]
        entry = {**entry, "properties": {k: {**v, "type": [v.get("type", "string"), "null"]}
                                         for k, v in entry["properties"].items()}}
        target["components"] = {**target["components"], "schemas": {**target["components"]["schemas"],
                                                                     "TelematicDataEntryDto": entry}}
    session = target["components"]["schemas"].get("ChargingSessionDto")
    if session is not None and "mileageUnits" in session.get("properties", {}):  # the live API's bare unit
        properties = {**session["properties"], "mileageUnits": {"type": "string", "enum": ["KM", "MI"]}}
        target["components"]["schemas"] = {**target["components"]["schemas"],
                                           "ChargingSessionDto": {**session, "properties": properties}}
    jsonschema.Draft202012Validator(target).validate(body)


async def test_every_rest_answer_validates_against_bmws_swagger(sim):
    account = await login(sim)
    async with account:
        await account.vehicles()
        token = account.auth.headers("api")
        container = account.tokens["container_id"]
    base = sim.servers("bmw-cardata")["api"]
    headers = {**token, "Accept": "application/json"}
    async with aiohttp.ClientSession() as http:
        async def get(path: str, **params: str) -> tuple[int, Any]:
            async with http.get(base + path, headers=headers, params=params) as answer:
                return answer.status, await answer.json(content_type=None)

        status, mappings = await get("/customers/vehicles/mappings")
        assert status == 200 and isinstance(mappings, list)
        for item in mappings:
            validate(item, "VehicleMappingDto")
        status, listed = await get("/customers/containers")
        validate(listed, "ContainerListDto")
        status, details = await get(f"/customers/containers/{container}")
        validate(details, "ContainerDetailsDto")
        status, telematics = await get(f"/customers/vehicles/{IX}/telematicData", containerId=container)
        validate(telematics, "ExVeTelematicDataResponseDto", nullable=True)
        for entry in telematics["telematicData"].values():
            validate(entry, "TelematicDataEntryDto", nullable=True)
            assert entry["value"] is None or isinstance(entry["value"], str)  # every REST value is a string
        for path, name, params in (
            (f"/customers/vehicles/{IX}/basicData", "VehicleDto", {}),
            (f"/customers/vehicles/{IX}/chargingHistory", "ChargingHistoryResponseDto",
             {"from": "2026-11-01T00:00:00.000Z", "to": "2026-12-01T00:00:00.000Z"}),
            (f"/customers/vehicles/{IX}/smartMaintenanceTyreDiagnosis", "SmartMaintenanceTyreDiagnosisDto", {}),
            (f"/customers/vehicles/{IX}/locationBasedChargingSettings", "LocationBasedChargingSettingsDto", {}),
        ):
            status, body = await get(path, **params)
            assert status == 200, (path, body)
            validate(body, name)
            if name == "ChargingHistoryResponseDto":
                for session in body["data"]:
                    validate(session, "ChargingSessionDto")
        # Errors have BMW's shape, and CU-429 comes as HTTP 403.
        status, error = await get("/customers/vehicles/WBA11AA0X0C000003/basicData")
        assert status == 403 and error["exveErrorId"] == "CU-104"
        validate(error, "CustomerErrorResponse")
    quota = sim.brands["bmw-cardata"].quota_response(0)
    assert quota.status == 403 and json.loads(quota.body)["exveErrorId"] == "CU-429"  # type: ignore[arg-type]
    assert set(EXCEPTIONS) == {"mappings", "telematics", "mileage units"}


async def test_every_telematic_key_is_in_bmws_catalogue_with_its_type_and_unit(sim) -> None:
    catalogue = json.loads((FILES / "telematic-data-catalogue.json").read_text())["items"]
    car = sim.world.car(IX)
    assert car is not None
    served = telematics_of(car)
    for key in {*served, *keys.DESCRIPTORS, keys.SOC_NEW_CLASS}:
        if key in keys.ALLOWED_BEYOND_CATALOGUE:
            assert keys.ALLOWED_BEYOND_CATALOGUE[key]  # with its source
            continue
        assert key in catalogue, key
        entry = catalogue[key]
        if key in served:
            kind = entry.get("datatype")
            value = served[key]
            if kind == "boolean":
                assert isinstance(value, bool), key
            elif kind in ("float", "double"):
                assert isinstance(value, int | float) and not isinstance(value, bool), key
            elif kind and kind.startswith(("uint", "int")):
                assert isinstance(value, int) and not isinstance(value, bool), key
            elif kind == "string":
                assert isinstance(value, str), key
        unit = entry.get("unit")
        if key in UNITS and unit not in (None, "", "None", "null"):
            assert UNITS[key].lower() == str(unit).lower(), (key, UNITS[key], unit)


REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "REFERENCE.md"


def never_streaming_keys_of_the_reference() -> set[str]:
    """REFERENCE §3c's list of the keys that never stream, with its ``prefix.{a, b}`` groups spelt out."""
    import re

    text = REFERENCE.read_text(encoding="utf-8")
    section = text[text.index("keys never stream"):text.index("Note what this means")]
    section = re.sub(r"\*\*|\s+", lambda m: "" if m.group(0) == "**" else " ", section)
    found: set[str] = set()
    pattern = r"(vehicle\.[\w.]+?)\.\{([^}]*)\}|(vehicle\.[\w.]+\w)((?:\s*/\s*\.?\w+)*)"
    for prefix, group, single, siblings in re.findall(pattern, section):
        if group:
            found |= {f"{prefix}.{part.strip()}" for part in group.split(",")}
            continue
        found.add(single)
        # "a.b.latitude / .longitude" and "a.lastBreakdownCallTime / lastManualCallTime": the last part replaced
        for sibling in re.findall(r"/\s*\.?(\w+)", siblings):
            found.add(single.rsplit(".", 1)[0] + "." + sibling)
    return found


@pytest.mark.skipif(not REFERENCE.is_file(), reason="REFERENCE.md is not here")
async def test_the_keys_that_never_stream_are_the_references_and_never_stream_here(sim):
    from evclient.simulator.brands.bmw_cardata import NEVER_STREAM

    listed = never_streaming_keys_of_the_reference()
    assert len(listed) == 49 and listed == NEVER_STREAM
    account = await login(sim)
    async with account:
        await account.start()
        import asyncio

        await asyncio.sleep(3 * 3600)
        sent = {key for message in sim.brands["bmw-cardata"].recent for key in message["data"]}  # type: ignore[attr-defined]
    assert sent and not sent & NEVER_STREAM
    assert set(keys.DAILY_DESCRIPTORS) <= NEVER_STREAM  # what evclient reads once a day is what never streams


@pytest.mark.skipif(not REFERENCE.is_file(), reason="REFERENCE.md is not here")
async def test_basic_data_and_charging_history_are_shaped_as_reference_3c_says(sim):
    """The live API's shapes (REFERENCE §3c), read from the reference itself: a drift of the simulator fails here."""
    import re

    text = REFERENCE.read_text(encoding="utf-8")
    bullet = text[text.index("**basicData** does"):text.index("- **chargingHistory**")]
    absent_part, present_part = bullet.split("It returns", 1)
    absent = set(re.findall(r"`(\w+)`", absent_part))
    present = set(re.findall(r"`(\w+)`", present_part)) - {"countryCodeISO"}
    assert {"vin", "isTelematicsCapable"} <= absent and {"countryCode", "seriesDevt"} <= present
    account = await login(sim)
    async with account:
        await account.vehicles()
        headers = {**account.auth.headers("api"), "Accept": "application/json"}
    base = sim.servers("bmw-cardata")["api"]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/customers/vehicles/{IX}/basicData", headers=headers) as answer:
            basic = await answer.json()
        async with http.get(f"{base}/customers/vehicles/{IX}/chargingHistory", headers=headers,
                            params={"from": "2026-11-20T00:00:00.000Z", "to": "2026-12-04T00:00:00.000Z"}) as answer:
            history = await answer.json()
    assert not absent & set(basic) and "countryCodeISO" not in basic
    assert present <= set(basic), present - set(basic)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00\.000\+0000", basic["constructionDate"])
    assert " " in basic["bodyType"]  # in words
    assert {s["mileageUnits"] for s in history["data"]} <= {"KM", "MI"}
