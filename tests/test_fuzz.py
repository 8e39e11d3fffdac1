"""Bad input, fuzzed: every response model, every error decoder and every command's parameters.

Response bodies are the simulator's real answers (the fixtures' shapes) mutated by hypothesis — keys
dropped, values nulled, wrong types, huge numbers, unknown enum values, extra keys — plus wholly random
JSON. Reading them gives a model or a ``ResponseError``, nothing else. Command parameters give a prepared
command or an ``InvalidInputError``, and an invalid one spends no request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import evclient
from evclient import brands
from evclient.errors import EVClientError, InvalidInputError, ResponseError, reading
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME, Simulator
from evclient.transport import Response

CREDENTIALS = {"renault-ze": {}, "bmw": {"app_key": "demo-key", "app_secret": "demo-secret"},
               "renault": {"locale": "fr_FR"}}
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False), st.just(1e308), st.text(max_size=12),
    st.sampled_from(["UNKNOWN_VALUE", "", "2026-13-45T99:99:99Z", "NaN", "-1"]), st.just([]), st.just({}),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
RANDOM_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def _collect() -> dict[tuple[str, str], list[Any]]:
    """Every endpoint's raw answers from the simulator's default world, per (brand, endpoint)."""

    async def collect() -> dict[tuple[str, str], list[Any]]:
        seeds: dict[tuple[str, str], list[Any]] = {}
        async with Simulator() as sim:
            for brand, extra in CREDENTIALS.items():
                async with evclient.connect(brand, servers=sim.servers(brand), username=DEMO_USERNAME,
                                            password=DEMO_PASSWORD, **extra) as account:
                    for car in await account.vehicles():
                        for name, endpoint in car.endpoints.items():
                            if endpoint.spec.needs_parameters(car.info.context):
                                continue
                            try:
                                await car.refresh(name)
                            except EVClientError:
                                continue
                            seeds.setdefault((brand, name), []).append(endpoint.raw)
        return seeds

    return asyncio.run(collect())


SEEDS = _collect()
ENDPOINTS = sorted(SEEDS)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(body: Any, path: tuple[Any, ...], op: str, junk: Any) -> Any:
    body = json.loads(json.dumps(body))  # a private copy
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if op == "drop" and isinstance(parent, dict):
        del parent[last]
    elif op == "extra" and isinstance(parent, dict):
        parent["unexpectedKey"] = junk
    else:
        parent[last] = junk
    return body


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Any]) -> Any:
    body = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(body)
        if not paths:
            break
        body = _mutate(body, draw(st.sampled_from(paths)), draw(st.sampled_from(["drop", "junk", "extra"])),
                       draw(JUNK))
    return body


def _spec(brand: str, name: str) -> Any:
    return next(spec for spec in brands.get(brand).endpoints if spec.name == name)


@pytest.mark.parametrize(("brand", "name"), ENDPOINTS, ids=[f"{b}-{n}" for b, n in ENDPOINTS])
def test_a_mutated_or_random_answer_is_a_model_or_a_bad_response(brand, name):
    spec = _spec(brand, name)
    for seed in SEEDS[(brand, name)]:
        with reading(name):
            spec.parse(seed)  # the unmutated answers parse

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.one_of(mutated(SEEDS[(brand, name)]), RANDOM_JSON))
    def check(body: Any) -> None:
        try:
            with reading(name):
                spec.parse(body)
        except ResponseError:
            pass

    check()


@pytest.mark.parametrize("brand", sorted(CREDENTIALS))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(status=st.integers(min_value=100, max_value=599), body=st.one_of(
    RANDOM_JSON.map(lambda v: json.dumps(v).encode()), st.binary(max_size=40)),
    endpoint=st.sampled_from(["login", "jwt", "gigya accounts.login", "vehicles", "battery", "status",
                              "battery-status", "executeService", "serviceExecutionStatus", "precondition"]))
def test_any_answer_decodes_to_nothing_or_a_typed_error(brand, status, body, endpoint):
    decoder = brands.get(brand)()  # a declaration: no account needed to read an answer
    response = Response(status=status, headers={"retry-after": "12"}, body=body, endpoint=endpoint)
    error = decoder.decode_error(response, 1_700_000_000.0)
    assert error is None or isinstance(error, EVClientError)


PARAM_KEYS = ["temperature", "at", "mode", "schedules", "start", "schedule", "minimum", "target", "security_answer",
              "deploy", "optimized_charge", "charge_level", "latitude", "longitude", "name", "street", "action"]


def _vehicles() -> dict[str, list[Any]]:
    async def collect() -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        async with Simulator() as sim:
            for brand, extra in CREDENTIALS.items():
                async with evclient.connect(brand, servers=sim.servers(brand), username=DEMO_USERNAME,
                                            password=DEMO_PASSWORD, **extra) as account:
                    found[brand] = [car.info for car in await account.vehicles()]
        return found

    return asyncio.run(collect())


VEHICLES = _vehicles()
COMMANDS = [(b, spec.name) for b in sorted(CREDENTIALS) for spec in brands.get(b).commands]


@pytest.mark.parametrize(("brand", "name"), COMMANDS, ids=[f"{b}-{n}" for b, n in COMMANDS])
def test_command_parameters_are_prepared_or_refused_clearly(brand, name):
    session = brands.get(brand).open_session(**CREDENTIALS[brand], username="u", password="p")
    spec = next(s for s in session.brand.commands if s.name == name)

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(vehicle=st.sampled_from(VEHICLES[brand]),
           params=st.dictionaries(st.sampled_from(PARAM_KEYS), st.one_of(JUNK, RANDOM_JSON), max_size=3))
    def check(vehicle: Any, params: dict[str, Any]) -> None:
        with contextlib.suppress(InvalidInputError):
            spec.validate(vehicle, session.command_params(vehicle, spec, params))

    check()


async def test_invalid_parameters_spend_no_request(sim):
    bad = {"renault-ze": ("precondition-at", {"start": "25:99"}), "bmw": ("charging-control", {"mode": 7}),
           "renault": ("hvac-start", {"temperature": "warm"})}
    for brand, (name, params) in bad.items():
        async with evclient.connect(brand, servers=sim.servers(brand), username=DEMO_USERNAME,
                                    password=DEMO_PASSWORD, **CREDENTIALS[brand]) as account:
            car = (await account.vehicles())[0]
            spent = len(sim.requests(brand=brand))
            with pytest.raises(InvalidInputError):
                await car.command(name, **params)
            assert len(sim.requests(brand=brand)) == spent
