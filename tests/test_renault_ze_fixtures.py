"""Every ZE Services body in ``fixtures/renault_ze`` parses, and the simulator answers in the same shapes."""

from __future__ import annotations

import datetime as dt
import json

import aiohttp
import pytest

from evclient.auth import jwt_expiry
from evclient.brands.renault_ze import RenaultZE
from evclient.brands.renault_ze.errors import decode_error
from evclient.brands.renault_ze.models import ChargingPoint
from evclient.errors import (
    AuthenticationError,
    InvalidCredentialsError,
    NotSupportedError,
    QuotaExceeded,
    ResponseError,
    ServerError,
)
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME
from evclient.simulator.fixtures import fixtures_dir
from evclient.transport import Response
from tests.conftest import ZOE

ROOT = fixtures_dir() / "renault_ze"
SPECS = {spec.name: spec for spec in RenaultZE.endpoints}
BODIES = sorted(p for p in ROOT.glob("*/*.json") if p.parent.name in SPECS)


def test_every_endpoint_has_fixtures():
    assert {p.parent.name for p in BODIES} == set(SPECS)


@pytest.mark.parametrize("path", BODIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_fixture_parses_into_its_model(path):
    body = json.loads(path.read_text())
    value = SPECS[path.parent.name].parse(body)
    if path.stem in {"none", "empty"}:
        assert not value or getattr(value, "days", "x") is None
    else:
        assert value == SPECS[path.parent.name].parse(json.loads(path.read_text()))  # compares by value


def test_units_are_normalised():
    battery = SPECS["battery"].parse(json.loads((ROOT / "battery" / "charging.json").read_text()))
    assert battery.remaining_time == dt.timedelta(minutes=175)
    assert battery.last_update == dt.datetime(2016, 10, 14, 16, 22, 9, tzinfo=dt.UTC)
    history = SPECS["charge-history"].parse(json.loads((ROOT / "charge-history" / "seed.json").read_text()))
    assert history[2].remaining_time == dt.timedelta(minutes=175)  # 10 500 000 ms


def test_an_unknown_enum_value_is_unknown_not_a_crash():
    battery = SPECS["battery"].parse(json.loads((ROOT / "battery" / "new-charging-point.json").read_text()))
    assert battery.charging_point is ChargingPoint.UNKNOWN
    assert battery.raw["charging_point"] == "SUPERFAST"


def test_the_login_token_expiry_is_read_from_the_jwt():
    body = json.loads((ROOT / "login" / "seed.json").read_text())
    assert jwt_expiry(body["token"]) == 1527649751
    assert jwt_expiry(json.loads((ROOT / "token-refresh" / "seed.json").read_text())["token"]) == 1527685751


@pytest.mark.parametrize(
    ("name", "status", "endpoint", "error"),
    [
        ("401-bad-credentials.json", 401, "login", InvalidCredentialsError),
        ("401-token-expired.json", 401, "battery", AuthenticationError),
        ("403-forbidden.json", 403, "precondition", NotSupportedError),
        ("429-too-many-requests.json", 429, "battery", QuotaExceeded),
        ("400-invalid-parameter.json", 400, "charge-history", ResponseError),
        ("502-proxy.html", 502, "battery", ServerError),
    ],
)
def test_error_bodies_map_to_typed_errors(name, status, endpoint, error):
    headers = {"retry-after": "120"} if status == 429 else {}
    response = Response(status, headers, (ROOT / "errors" / name).read_bytes(), endpoint)
    decoded = decode_error(response, 0.0)
    assert type(decoded) is error
    if status == 429:
        assert decoded.retry_after == 120


def test_no_record_yet_is_a_value_not_an_error():
    body = (ROOT / "precondition-last" / "none.json").read_bytes()
    assert decode_error(Response(404, {}, body, "precondition-last"), 0.0) is None
    assert SPECS["precondition-last"].parse(json.loads(body)) is None
    assert isinstance(decode_error(Response(404, {}, body, "battery"), 0.0), ResponseError)


async def test_the_simulator_answers_in_the_fixtures_shapes(sim):
    api = sim.servers("renault-ze")["api"]
    async with aiohttp.ClientSession() as http:
        async with http.post(api + "/user/login", json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD}) as r:
            login = await r.json()
        assert _shape(login) == _shape(json.loads((ROOT / "login" / "seed.json").read_text()))
        headers = {"Authorization": f"Bearer {login['token']}"}
        for name, path in [("battery", "/battery"), ("precondition-last", "/air-conditioning/last"),
                           ("notification-settings", "/settings/notification"),
                           ("charge-schedule", "/charge/scheduler/onboard")]:
            async with http.get(f"{api}/vehicle/{ZOE}{path}", headers=headers) as r:
                body = await r.json()
            shapes = [_shape(json.loads(p.read_text())) for p in (ROOT / name).glob("*.json")]
            assert _shape(body) in shapes, name


def _shape(value):
    """Keys and value types, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__
