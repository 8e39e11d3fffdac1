"""evclient fingerprint: every endpoint once, anonymised, laid out like fixtures/<brand>/ and loadable back."""

from __future__ import annotations

import json
import re

import pytest

import evclient
from evclient import cli
from evclient.fingerprint import fake_vin, fingerprint
from tests.test_diagnostics import CREDENTIALS, secrets_of


@pytest.mark.parametrize("brand", ["renault", "renault-ze", "bmw"])
async def test_fingerprint_writes_anonymised_fixtures_that_parse_back(sim, brand, tmp_path):
    async with evclient.connect(brand, servers=sim.servers(brand), **CREDENTIALS[brand]) as account:
        written = await fingerprint(account, tmp_path)
        cars = await account.vehicles()
        hidden = secrets_of(sim, brand, account)
        specs = {(re.sub(r"[^A-Za-z0-9_.-]+", "_", car.model or "car"), name):
                 account.brand.endpoint_for(car.info, endpoint.spec)
                 for car in cars for name, endpoint in car.endpoints.items()}
    assert written and all(p.is_relative_to(tmp_path / brand) for p in written)
    text = "".join(p.read_text() for p in written)
    assert {s for s in hidden if s in text} == set()
    if brand != "renault-ze":  # ZE bodies do not repeat the VIN
        assert fake_vin(1) in text  # the same made-up VIN stands in for the first car everywhere
    # Loaded back as fixtures: each file parses with its endpoint's own parser for that model.
    listings = [p for p in written if p.parent.name == "_listing"]
    assert len(listings) == len(cars)
    listed = json.loads(listings[0].read_text())
    assert listed["vin"] == fake_vin(1) and listed["model"] == cars[0].model and listed["commands"]
    if brand == "bmw":  # the capability flags that decide which remote services the car has
        assert listed["capabilities"] and "doorLock" in listed["capabilities"]
    for path in written:
        endpoint = path.parent.name
        if endpoint == "_listing":
            continue
        model = path.stem.rsplit("-", 1)[0]
        spec = specs[(model, endpoint)]
        spec.parse(json.loads(path.read_text()))
    endpoints = {p.parent.name for p in written}
    expected = {"renault": {"battery-status", "cockpit", "location"}, "renault-ze": {"battery"},
                "bmw": {"status", "charging-profile"}}[brand]
    assert expected <= endpoints


async def test_fingerprint_from_the_cli(sim, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path / "state"))
    args = cli.build_parser().parse_args(["--simulator", sim.url, "--brand", "renault", "fingerprint", "--out",
                                          str(tmp_path / "fp")])
    assert await cli.run_account_command(args) == 0
    assert "anonymised answers" in capsys.readouterr().out
    assert list((tmp_path / "fp" / "renault" / "battery-status").glob("X102VE-*.json"))
