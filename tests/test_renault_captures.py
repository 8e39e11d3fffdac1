"""Every real MyRenault server capture in ``../shared/reference-fixtures/renault-api`` parses with evclient's
models: no error, and no UNKNOWN where the capture holds a documented value. Skipped only when the folder
is absent (a clean CI checkout has no shared folder); the captures are read in place, never copied."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evclient import (
    AuthenticationError,
    InvalidCredentialsError,
    NotSupportedError,
    PrivacyModeError,
    QuotaExceeded,
    ResponseError,
    ServerError,
    TemporaryError,
)
from evclient.brands.renault import endpoints, gigya, models
from evclient.brands.renault.errors import decode_error
from evclient.transport import Response
from tests.helpers import unknown_enums

CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "reference-fixtures" / "renault-api"
pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason="the shared reference captures are not here")

PARSERS = {spec.name: spec.parse for spec in endpoints.ENDPOINTS}

#: Captures that are not API answers evclient reads, and why.
NOT_ANSWERS = {
    "SOURCE": "where the captures come from",
    "config_sample.txt": "the mobile app's remote configuration, not a Kamereon or Gigya answer",
    "kamereon/expected_specs.json": "the peer's expectations for the vehicle captures (used below)",
    "kamereon/person/notifications.1.json": "the app's push-notification inbox; no Kamereon endpoint of REFERENCE §2",
}

#: Error captures: the status the server sends them with, and the evclient error they must become.
ERRORS: dict[str, tuple[int, type[Exception]]] = {
    "kamereon/error/access_denied.json": (403, NotSupportedError),
    "kamereon/error/bad_gateway.html": (502, ServerError),
    "kamereon/error/charge_mode_inprogress.json": (409, TemporaryError),
    "kamereon/error/failed_forward.json": (502, ServerError),
    "kamereon/error/forbidden.json": (403, NotSupportedError),
    "kamereon/error/hvac-status.403.403011.json": (403, NotSupportedError),
    "kamereon/error/invalid_date.json": (400, ResponseError),
    "kamereon/error/invalid_upstream.json": (500, ServerError),
    "kamereon/error/not_supported.json": (501, NotSupportedError),
    "kamereon/error/privacy_on.json": (403, PrivacyModeError),
    "kamereon/error/quota_limit.json": (429, QuotaExceeded),
    "kamereon/error/resource_not_found.json": (404, NotSupportedError),
    "gigya/error/get_jwt.403005.json": (200, AuthenticationError),
    "gigya/error/get_jwt.403013.json": (200, AuthenticationError),
    "gigya/error/login.403042.json": (200, InvalidCredentialsError),
    "gigya/login_invalid.txt": (200, ServerError),
}


def _endpoint_of(name: str) -> str:
    """``battery-status.renault_5.json`` → battery-status; ``charges-megane.json`` → charges."""
    stem = name.split(".", 1)[0]
    return stem if stem in PARSERS else stem.split("-megane")[0].split("-zoe")[0]


def _parser_for(relative: str) -> Callable[[Any], Any]:
    folder, name = relative.rsplit("/", 1)
    if folder == "kamereon/vehicle_data":
        if name == "no_data.json":
            return models.charge_mode
        return PARSERS[_endpoint_of(name)]
    table: dict[str, Callable[[Any], Any]] = {
        "kamereon/vehicle_action": models.action_answer,
        "kamereon/vehicle_kcm_action": models.action_answer,
        "kamereon/vehicle_kcm_data": models.soc_levels if name.startswith("ev-soc") else models.ev_settings,
        "kamereon/vehicle_details": models.vehicle_details,
        "kamereon/vehicles": models.vehicles,
        "kamereon/vehicle_gateway": models.car_adapter,
        "kamereon/vehicle_contract": models.contracts,
        "kamereon/vehicle_info": models.alerts,
        "kamereon": models.person_accounts,
        "gigya": {"login.json": gigya.login_token, "get_account_info.json": gigya.parse_person_id,
                  "get_jwt.json": gigya.parse_jwt}.get(name, _no_parser),
    }
    return table.get(folder, _no_parser)


def _no_parser(body: Any) -> Any:
    raise AssertionError("no evclient model for this capture")


def _captures() -> list[str]:
    if not CAPTURES.is_dir():
        return []
    return sorted(str(p.relative_to(CAPTURES)) for p in CAPTURES.rglob("*") if p.is_file())


@pytest.mark.parametrize("relative", [c for c in _captures() if c not in NOT_ANSWERS and c not in ERRORS])
def test_every_answer_capture_parses_withoutunknown_enums(relative):
    body = json.loads((CAPTURES / relative).read_text(encoding="utf-8"))
    parsed = _parser_for(relative)(body)
    assert parsed is not None or relative.endswith("no_data.json")
    assert unknown_enums(parsed) == []


@pytest.mark.parametrize("relative", sorted(ERRORS))
def test_every_error_capture_becomes_its_evclient_error(relative):
    status, expected = ERRORS[relative]
    label = "jwt" if "get_jwt" in relative else "login" if "login" in relative else "battery-status"
    response = Response(status=status, headers={}, body=(CAPTURES / relative).read_bytes(), endpoint=label)
    error = decode_error(response, 0.0)
    assert type(error) is expected, error


def test_every_capture_is_accounted_for():
    captures = set(_captures())
    assert captures, "no captures found"
    assert set(NOT_ANSWERS) | set(ERRORS) <= captures


def test_vehicle_captures_agree_with_the_peers_expectations():
    expected = json.loads((CAPTURES / "kamereon/expected_specs.json").read_text(encoding="utf-8"))
    checked = 0
    for name, spec in expected.items():
        for folder in ("vehicle_details", "vehicles"):
            path = CAPTURES / "kamereon" / folder / name
            if not path.exists():
                continue
            body = json.loads(path.read_text(encoding="utf-8"))
            [details] = models.vehicles(body) if folder == "vehicles" else [models.vehicle_details(body)]
            assert details.model_code == spec["get_model_code"], name
            if "get_energy_code" in spec:
                assert details.energy == spec["get_energy_code"], name
            checked += 1
    assert checked >= 10


def test_documented_values_come_out_typed():
    battery = models.battery_status(json.loads((CAPTURES / "kamereon/vehicle_data/battery-status.1.json").read_text()))
    assert battery.battery_level is not None and battery.plug_state.name != "UNKNOWN"
    settings = models.ev_settings(json.loads((CAPTURES / "kamereon/vehicle_kcm_data/ev-settings.multi.active.json")
                                             .read_text()))
    assert [p.kind.value for p in settings.programs] == ["CHARGE", "PRECONDITIONING", "CHARGE_AND_PRECONDITIONING"]
    assert settings.programs[0].days == {"monday", "tuesday", "friday"}
    calendar = models.charge_calendar(json.loads((CAPTURES / "kamereon/vehicle_data/charge-schedule.single.json")
                                                 .read_text()))
    assert calendar["monday"][0].start == "23:00" and calendar["monday"][0].duration.total_seconds() == 480 * 60
