"""evclient's BMW fixtures and the real 2018 captures (``../shared/reference-fixtures``) parse into the models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evclient.brands.bmw import Bmw
from evclient.brands.bmw.errors import decode_error
from evclient.brands.bmw.models import ExecutionStatus, ServiceExecution, StatusReport
from evclient.errors import (
    AuthenticationError,
    CommandFailed,
    InvalidCredentialsError,
    NotSupportedError,
    QuotaExceeded,
    ResponseError,
    ServerError,
    reading,
)
from evclient.simulator.fixtures import fixtures_dir
from evclient.transport import Response
from tests.helpers import unknown_enums

OWN = fixtures_dir() / "bmw"
SPECS = {spec.name: spec for spec in Bmw.endpoints}
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-fixtures" / "bimmer_connected-0.7.22"
# The captures' file names → evclient's endpoints.
REFERENCE_ENDPOINTS = {"status": "status", "all_trips": "all-trips", "charging_profile": "charging-profile",
                       "last_destinations": "destinations", "last_trip": "last-trip", "range_maps": "range-map"}


OWN_BODIES = sorted(p for p in OWN.glob("*/*.json") if p.parent.name in SPECS)


@pytest.mark.parametrize("path", OWN_BODIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_own_fixtures_parse(path):
    value = SPECS[path.parent.name].parse(json.loads(path.read_text()))
    assert unknown_enums(value) == []


@pytest.mark.parametrize("path", sorted((OWN / "execution").glob("*.json")), ids=lambda p: p.stem)
def test_execution_statuses_parse(path):
    execution = ServiceExecution.from_json(json.loads(path.read_text()))
    assert execution.status is not ExecutionStatus.UNKNOWN


def test_the_vehicle_listing_comes_bare_or_wrapped():
    bare = json.loads((OWN / "vehicles" / "seed.json").read_text())
    wrapped = json.loads((OWN / "vehicles" / "wrapped.json").read_text())
    assert wrapped["vehicles"] == bare


@pytest.mark.parametrize(
    ("name", "status", "endpoint", "error"),
    [
        ("401-invalid-client.json", 401, "login", InvalidCredentialsError),
        ("401-token.json", 401, "status", AuthenticationError),
        ("403-not-supported.json", 403, "executeService HORN_BLOW", NotSupportedError),
        ("429-too-many.json", 429, "status", QuotaExceeded),
        ("500-secret-knowledge.json", 500, "executeService DOOR_UNLOCK", CommandFailed),
        ("503-maintenance.json", 503, "status", ServerError),
    ],
)
def test_error_bodies_map_to_typed_errors(name, status, endpoint, error):
    response = Response(status, {}, (OWN / "errors" / name).read_bytes(), endpoint)
    assert type(decode_error(response, 0.0)) is error


@pytest.mark.parametrize(("status", "error"), [(405, NotSupportedError), (408, ServerError),
                                               (423, AuthenticationError), (418, ResponseError)])
def test_status_codes_past_clients_mapped(status, error):
    assert type(decode_error(Response(status, {}, b"", "status"), 0.0)) is error


# -- the real captures ----------------------------------------------------------------------------------

needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/reference-fixtures is not here")
CAPTURES = sorted(REFERENCE.glob("*/*.json")) if REFERENCE.is_dir() else []


@needs_reference
@pytest.mark.parametrize("path", [p for p in CAPTURES if p.stem.split("_position")[0] in REFERENCE_ENDPOINTS
                                  or p.stem.startswith("status")], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_real_capture_parses_withoutunknown_enums(path):
    endpoint = "status" if path.stem.startswith("status") else REFERENCE_ENDPOINTS[path.stem]
    value = SPECS[endpoint].parse(json.loads(path.read_text()))
    assert unknown_enums(value) == []
    if isinstance(value, StatusReport):
        assert value.vin and value.update_time is not None


@needs_reference
def test_the_real_vehicle_listing_and_token():
    listing = json.loads((REFERENCE / "vehicles.json").read_text())
    assert len(listing["vehicles"]) >= 2 and all("vin" in v for v in listing["vehicles"])
    token = json.loads((REFERENCE / "auth" / "auth_token.json").read_text())
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0
    refused = Response(401, {}, (REFERENCE / "auth" / "auth_error_wrong_password.json").read_bytes(), "login")
    assert isinstance(decode_error(refused, 0.0), InvalidCredentialsError)
    broken = Response(500, {}, (REFERENCE / "auth" / "auth_error_internal_error.txt").read_bytes(), "login")
    assert isinstance(decode_error(broken, 0.0), ServerError)


@needs_reference
@pytest.mark.parametrize("path", sorted((REFERENCE / "remote_services").glob("*.json")) if CAPTURES else [],
                         ids=lambda p: p.stem)
def test_real_remote_service_answers(path):
    body = json.loads(path.read_text())
    if "status" not in body["executionStatus"]:
        # legacy_flash_unknown: a status answer without a status is a bad response, not a crash.
        with pytest.raises(ResponseError), reading("serviceExecutionStatus"):
            ServiceExecution.from_json(body)
        return
    assert ServiceExecution.from_json(body).status is not ExecutionStatus.UNKNOWN
