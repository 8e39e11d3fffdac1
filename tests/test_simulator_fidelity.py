"""The simulator against the real captures, by rule — never against evclient's own models.

For every route with captures (``shared/reference-fixtures``), the rules are drawn from the captures
themselves: the union of their fields with each field's JSON types, and the fields every capture has.
A walk over every default car in each state the world can put it in (as it is, plugged in and charging,
climate on) checks each simulator body: no field the captures never show (bar the few listed in
EXTRA with their source), no type they never show, none of the always-present fields missing (bar the
state rules in STATE). Refusals are checked against the captured error bodies. Then the simulator's
own model table (``_renault_models``) is compared with evclient's client table.
docs/simulator.md lists the rules with their sources.
"""

from __future__ import annotations

import base64
import glob
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from evclient.brands.renault.support import MODELS as CLIENT_MODELS
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME
from evclient.simulator.brands import _renault_models as sim_models
from evclient.simulator.brands.renault import KAMEREON_KEY
from evclient.simulator.quota import SlidingQuota

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference-fixtures"
KAMEREON = SHARED / "renault-api" / "kamereon"
BIMMER = SHARED / "bimmer_connected-0.7.22"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="the captures are beside the checkout (shared/)")


def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "null"
    return "object" if isinstance(value, dict) else "array"


def leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every field path of a body with its JSON type (list items under ``[]``)."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list) and value:
        for item in value:
            yield from leaves(item, prefix + "[]")
    else:
        yield prefix, kind(value)


class Rules:
    """What the captures of one route show: each field's types, and the fields all of them have."""

    def __init__(self, bodies: list[Any]) -> None:
        assert bodies, "no capture"
        self.types: dict[str, set[str]] = {}
        seen: list[set[str]] = []
        for body in bodies:
            paths = set()
            for path, what in leaves(body):
                self.types.setdefault(path, set()).add(what)
                paths.add(path)
            seen.append(paths)
        # A list's items vary (a schedule has the days it has): only fields outside lists are required.
        self.always = {p for p in set.intersection(*seen) if "[]" not in p}

    def check(self, body: Any, extra: set[str] = frozenset(), optional: set[str] = frozenset()) -> list[str]:
        problems = []
        paths = {}
        for path, what in leaves(body):
            paths[path] = what
            if path in extra:
                continue
            known = self.types.get(path)
            if known is None:
                # A list or object the captures show filled may come empty, and the other way round.
                if not any(k.startswith(path + ".") or k.startswith(path + "[]") for k in self.types):
                    problems.append(f"{path}: a field no capture shows")
            elif what not in known and "null" not in known and what not in ("object", "array", "null"):
                problems.append(f"{path}: {what}, the captures show {sorted(known)}")
        for path in self.always - set(paths) - optional:
            if not any(p.startswith(path) for p in paths):
                problems.append(f"{path}: every capture has it")
        return problems


def captured(pattern: str, extract: Any = lambda body: body) -> Rules:
    bodies = []
    for name in sorted(glob.glob(str(pattern))):
        bodies.append(extract(json.loads(Path(name).read_text(encoding="utf-8"))))
    return Rules(bodies)


def attributes(body: Any) -> Any:
    return body["data"]["attributes"] if "data" in body else body


# -- Renault ------------------------------------------------------------------------------------------------

#: Route → its captures.
RENAULT_CAPTURES = {
    "battery-status": "vehicle_data/battery-status.*.json", "cockpit": "vehicle_data/cockpit.*.json",
    "hvac-status": "vehicle_data/hvac-status.*.json", "location": "vehicle_data/location.*.json",
    "lock-status": "vehicle_data/lock-status.*.json", "res-state": "vehicle_data/res-state.*.json",
    "pressure": "vehicle_data/pressure.json", "charge-mode": "vehicle_data/charge-mode.json",
    "charging-settings": "vehicle_data/charging-settings.*.json", "hvac-settings": "vehicle_data/hvac-settings.json",
    "soc-levels": "vehicle_kcm_data/ev-soc-levels.json", "ev-settings": "vehicle_kcm_data/ev-settings.*.json",
}
#: Fields the captures do not show, each with its source.
RENAULT_EXTRA = {
    # renault-api's KamereonVehicleHvacStatusData: the start set by a timed hvac-start.
    "hvac-status": {"nextHvacStartDate"},
}
#: Fields every capture shows that a state leaves out (the captures differ by state or model).
RENAULT_STATE = {
    # hvac-status.zoe / .zoe_50 have no lastUpdateTime; only some models send the temperatures.
    "hvac-status": {"lastUpdateTime"},
    # charging-settings captures of a scheduled car; a car in "always" mode may list no schedules.
    "charging-settings": {"schedules[].id", "schedules[].activated"},
    "hvac-settings": {"schedules[].id", "schedules[].activated"},
}


async def renault_get(http: aiohttp.ClientSession, sim: Any, path: str) -> tuple[int, Any]:
    token = sim.world.issue_jwt("renault", DEMO_USERNAME, 900, {"data": {"personId": "person-1"}})
    async with http.get(sim.servers("renault")["kamereon"] + path, params={"country": "FR"},
                        headers={"apikey": KAMEREON_KEY, "x-gigya-id_token": token}) as response:
        return response.status, await response.json()


def renault_states(sim: Any) -> Iterator[str]:
    """Put every default car through the states the world can be in, one after the other."""
    yield "as loaded"
    for car in sim.world.cars_of("renault", DEMO_USERNAME):
        car.plugged = True
        sim.world.start_charging(car)
    yield "plugged in and charging"
    for car in sim.world.cars_of("renault", DEMO_USERNAME):
        sim.world.start_hvac(car)
    yield "climate on"


async def test_every_renault_answer_follows_the_captures(sim):
    sim.quotas["renault"] = SlidingQuota(100_000)  # the walk reads far more than an hour's quota
    rules = {route: captured(KAMEREON / pattern, attributes) for route, pattern in RENAULT_CAPTURES.items()}
    errors = captured(KAMEREON / "error" / "*.json")
    listing = captured(KAMEREON / "vehicles" / "*.json", lambda b: b["vehicleLinks"][0])
    person = captured(KAMEREON / "person.json")
    problems: list[str] = []
    checked = refusals = 0
    async with aiohttp.ClientSession() as http:
        status, body = await renault_get(http, sim, "/commerce/v1/persons/person-1")
        problems += [f"person: {p}" for p in person.check(body, optional=person.always)]
        status, body = await renault_get(http, sim, "/commerce/v1/accounts/account-1/vehicles")
        for link in body["vehicleLinks"]:
            problems += [f"vehicles {link['vin']}: {p}" for p in listing.check(
                link, optional={p for p in listing.always if not p.startswith(("vin", "brand", "status", "linkType"))
                                and p not in {"vehicleDetails.vin", "vehicleDetails.brand.label",
                                              "vehicleDetails.model.code", "vehicleDetails.energy.code"}})]
        # The other accounts of the person answer, with no cars (Home Assistant lists every account's).
        status, body = await renault_get(http, sim, "/commerce/v1/accounts/sfdc-account-1/vehicles")
        assert status == 200 and body["vehicleLinks"] == []
        for state in renault_states(sim):
            for car in sim.world.cars_of("renault", DEMO_USERNAME):
                for route, rule in rules.items():
                    kcm = route in ("soc-levels", "ev-settings")
                    version = "2" if route == "battery-status" else "1"
                    path = (f"/commerce/v1/accounts/account-1/kamereon/kcm/v1/vehicles/{car.vin}/ev/{route}"
                            if kcm else
                            f"/commerce/v1/accounts/account-1/kamereon/kca/car-adapter/v{version}/cars/{car.vin}/"
                            + route)
                    if kcm and route == "soc-levels":
                        path = path.replace("/ev/soc-levels", "/ev/soc-levels")
                    status, body = await renault_get(http, sim, path.replace("/ev/ev-settings", "/ev/settings"))
                    where = f"{route} {car.model} ({state})"
                    if status >= 400:
                        problems += [f"{where} refusal: {p}" for p in errors.check(body, optional=errors.always)]
                        code = body["errors"][0]["errorCode"]
                        assert code in sim_models.ERRORS, where
                        assert status == sim_models.ERRORS[code][0], where
                        refusals += 1
                        continue
                    problems += [f"{where}: {p}" for p in rule.check(
                        attributes(body), RENAULT_EXTRA.get(route, set()), RENAULT_STATE.get(route, set()))]
                    checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 60 and refusals >= 40, (checked, refusals)


async def test_renault_state_rules(sim):
    """The fields the captures show only in some states: charging figures only while charging (kca)."""
    async with aiohttp.ClientSession() as http:
        zoe = sim.world.car("VF1AG000X64000001")
        zoe.plugged, zoe.charging = False, False
        path = f"/commerce/v1/accounts/account-1/kamereon/kca/car-adapter/v2/cars/{zoe.vin}/battery-status"
        _, idle = await renault_get(http, sim, path)
        assert not {"chargingRemainingTime", "chargingInstantaneousPower", "batteryTemperature"} \
            & set(attributes(idle))  # battery-status.1
        zoe.plugged = True
        sim.world.start_charging(zoe)
        _, charging = await renault_get(http, sim, path)
        assert {"chargingRemainingTime", "chargingInstantaneousPower", "batteryTemperature"} \
            <= set(attributes(charging))  # battery-status.2
        # The plug-in Captur is electrified, under its maker's name (vehicles/captur_ii.2).
        _, listing = await renault_get(http, sim, "/commerce/v1/accounts/account-1/vehicles")
        details = {link["vin"]: link["vehicleDetails"] for link in listing["vehicleLinks"]}
        assert details["VF1RJB00X67000004"]["engineEnergyType"] == "PHEV"
        assert details["VF1RJB00X67000004"]["energy"]["code"] == "ESS"
        assert details["UU1DBG00X66000003"]["brand"] == {"label": "DACIA"}


# -- the two model tables -----------------------------------------------------------------------------------

#: evclient's action variants → the simulator route each one posts to.
CHARGE_ROUTES = {"v1": "charging-start", "kcm": "charge-start", "pause-resume": "pause-resume",
                 "settings": "ev-settings"}


def test_evclients_model_table_agrees_with_the_simulators():
    """Where the simulator's table (from the captures and the peer's notes) documents a cell, evclient's
    client table must say the same: no endpoint evclient polls that the model refuses, none it skips that
    the model serves, and each action variant evclient picks is one the model takes."""
    disagreements = []
    for code, row in sim_models.MODELS.items():
        mine = CLIENT_MODELS.get(code)
        if mine is None:
            disagreements.append(f"{code}: the simulator documents it, evclient's table does not")
            continue
        for endpoint, has in mine.endpoints.items():
            refused = endpoint in row.refuses
            if has and refused:
                disagreements.append(f"{code} {endpoint}: evclient polls it, the car refuses ({row.refuses[endpoint]})")
        for endpoint in row.refuses:
            if not endpoint.startswith("action:") and mine.endpoints.get(endpoint) is None:
                disagreements.append(f"{code} {endpoint}: refused, evclient's table does not say so")
        for label, variant in (("charge_start", mine.charge_start), ("charge_stop", mine.charge_stop)):
            if variant is not None and "action:" + CHARGE_ROUTES[variant] in row.refuses:
                disagreements.append(f"{code} {label}: evclient uses {variant}, the car refuses it")
        if mine.horn_lights and "action:horn-lights" in row.refuses:
            disagreements.append(f"{code}: evclient offers horn/lights, the car refuses them")
        if mine.charge_mode and "action:charge-mode" in row.refuses:
            disagreements.append(f"{code}: evclient offers the charge mode, the car refuses it")
        if mine.hvac_stop is not None and mine.hvac_stop != row.hvac_stop_word:
            disagreements.append(f"{code}: evclient stops climate with {mine.hvac_stop!r}, the car heeds "
                                 f"{row.hvac_stop_word!r}")
        if mine.power_in_watts != row.power_in_watts:
            disagreements.append(f"{code}: charging power units differ")
    assert not disagreements, "\n".join(disagreements)


def test_every_simulated_model_names_its_source():
    for code, row in sim_models.MODELS.items():
        assert "peer" in row.source or "captures" in row.source, code
        for refusal in row.refuses.values():
            assert refusal in sim_models.ERRORS, (code, refusal)


# -- legacy BMW ---------------------------------------------------------------------------------------------

#: Fields every status capture shows that a car leaves out: the rear window is INVALID, not absent; the
#: pure-electric i3 has no fuel range (I01_NOREX), and only some bodies have a sunroof or vehicleCountry.
BMW_STATE = {"remainingRangeFuel", "remainingRangeFuelMls"}


async def bmw_token(http: aiohttp.ClientSession, sim: Any) -> str:
    basic = base64.b64encode(b"demo-key:demo-secret").decode()
    async with http.post(sim.servers("bmw")["api"] + "/gcdm/oauth/token", headers={"Authorization": "Basic " + basic},
                         data={"grant_type": "password", "username": DEMO_USERNAME, "password": DEMO_PASSWORD,
                               "scope": "authenticate_user vehicle_data remote_services"}) as response:
        body = await response.json()
    assert not captured(BIMMER / "auth" / "auth_token.json").check(body)
    return str(body["access_token"])


async def test_every_bmw_answer_follows_the_captures(sim):
    status_rules = captured(BIMMER / "*" / "status*.json", lambda b: b["vehicleStatus"])
    listing = Rules(json.loads((BIMMER / "vehicles.json").read_text(encoding="utf-8"))["vehicles"])
    per_route = {
        "chargingprofile": captured(BIMMER / "*" / "charging_profile.json"),
        "statistics/lastTrip": captured(BIMMER / "*" / "last_trip.json"),
        "statistics/allTrips": captured(BIMMER / "*" / "all_trips.json"),
    }
    execution = captured(BIMMER / "remote_services" / "legacy_flash_*.json")
    problems: list[str] = []
    async with aiohttp.ClientSession() as http:
        token = await bmw_token(http, sim)
        headers = {"Authorization": "Bearer " + token}
        base = sim.servers("bmw")["api"] + "/webapi/v1/user/vehicles"
        async with http.get(base, headers=headers) as response:
            body = await response.json()
        assert isinstance(body, dict) and set(body) == {"vehicles"}  # vehicles.json wraps the list
        async with http.get(base + "/", headers=headers) as response:
            seed = await response.json()
        # The seed's path (with its trailing slash) answers the seed's bare list, with no choice set.
        assert isinstance(seed, list) and [c["vin"] for c in seed] == [c["vin"] for c in body["vehicles"]]
        for car in body["vehicles"]:
            problems += [f"vehicles {car['vin']}: {p}" for p in listing.check(car, optional=listing.always - {"vin"})]
        for state in ("as loaded", "charging"):
            for car in sim.world.cars_of("bmw", DEMO_USERNAME):
                if state == "charging":
                    car.plugged = True
                    sim.world.start_charging(car)
                async with http.get(f"{base}/{car.vin}/status", headers=headers) as response:
                    status = (await response.json())["vehicleStatus"]
                problems += [f"status {car.vin} ({state}): {p}"
                             for p in status_rules.check(status, optional=BMW_STATE if "fuel_litres" not in car.extra
                                                         else set())]
                assert ("chargingTimeRemaining" in status) is (status["chargingStatus"] == "CHARGING")
                for route, rule in per_route.items():
                    async with http.get(f"{base}/{car.vin}/{route}", headers=headers) as response:
                        if response.status == 200:
                            problems += [f"{route} {car.vin}: {p}" for p in rule.check(await response.json())]
        car = sim.world.cars_of("bmw", DEMO_USERNAME)[0]
        async with http.post(f"{base}/{car.vin}/executeService", headers=headers,
                             data={"serviceType": "LIGHT_FLASH", "count": "2"}) as response:
            problems += [f"executeService: {p}" for p in execution.check(await response.json(),
                                                                         optional=execution.always)]
        async with http.get(f"{base}/{car.vin}/serviceExecutionStatus", headers=headers,
                            params={"serviceType": "LIGHT_FLASH"}) as response:
            problems += [f"serviceExecutionStatus: {p}" for p in execution.check(
                await response.json(), optional=execution.always)]
    assert not problems, "\n".join(problems)
