"""Diagnostics: useful for a bug report, with nothing of the simulator world's people, cars or places in it."""

from __future__ import annotations

import contextlib
import json

import pytest

import evclient

CREDENTIALS = {
    "renault": {"username": "demo@evclient.dev", "password": "demo-password"},
    "renault-ze": {"username": "demo@evclient.dev", "password": "demo-password"},
    "bmw": {"username": "demo@evclient.dev", "password": "demo-password", "app_key": "demo-key",
            "app_secret": "demo-secret"},
}


def secrets_of(sim, brand, account):
    """Every string of the world that must not appear: VINs, e-mails, registrations, positions, tokens."""
    found = {"demo@evclient.dev", "demo-password", "demo-secret"}
    for car in sim.world.cars.values():
        if car.brand != brand:
            continue
        found |= {car.vin, json.dumps(car.latitude), json.dumps(car.longitude)}
        details = car.extra.get("details", {})
        if "registration" in details:
            found.add(details["registration"])
    for (owner_brand, _), person in sim.world.accounts.items():
        if owner_brand == brand:
            found |= {v for v in person.extra.values() if isinstance(v, str)}  # person and account ids

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from walk(v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v)
        elif isinstance(value, str) and len(value) >= 8:
            yield value

    # ZE's tokens also carry the login answer's car list and service scopes: not secrets (the VINs are above).
    found |= set(walk({k: v for k, v in account.tokens.items() if k not in ("brand", "scopes", "vehicles")}))
    return found


async def read_everything(account):
    for car in await account.vehicles():
        for name, endpoint in car.endpoints.items():
            if endpoint.supported is False or endpoint.spec.needs_parameters(car.info.context):
                continue
            with contextlib.suppress(evclient.EVClientError):  # its error belongs in the report too
                await car.refresh(name)


@pytest.mark.parametrize("brand", ["renault", "renault-ze", "bmw"])
async def test_diagnostics_keep_what_helps_and_hide_what_identifies(sim, brand):
    if brand == "renault":  # an endpoint the Zoe's model table leaves open, refused: its error is kept
        sim.world.car("VF1AG000X64000001").extra["unsupported"] = {"alerts": "err.func.wired.not-found"}
    async with evclient.connect(brand, servers=sim.servers(brand), **CREDENTIALS[brand]) as account:
        await read_everything(account)
        report = await account.diagnostics()
        text = json.dumps(report)  # JSON-serialisable as it is
        leaked = {s for s in secrets_of(sim, brand, account) if s in text}
        assert leaked == set()
        windows = {w.name for w in account.budget.windows}
        first_model = account.cached_vehicles()[0].model
    assert report["brand"] == brand and report["tokens"]
    car = report["vehicles"][0]
    assert car["car"].startswith("*") and car["endpoints"]
    read = [e for e in car["endpoints"].values() if e["raw"] is not None]
    assert read and all(e["age_s"] is not None and e["supported"] for e in read)
    assert any(e["last_error"] for c in report["vehicles"] for e in c["endpoints"].values()) or brand != "renault"
    assert report["budget"]["windows"][0]["used"] > 0
    # What a bug report needs is not over-redacted: window names, model codes, where each field came from.
    assert {w["name"] for w in report["budget"]["windows"]} == windows
    assert car["model"] == first_model
    sources = {f: e for c in report["vehicles"] for f, e in (c["status"].get("sources") or {}).items()}
    assert sources and set(sources.values()) <= set(car["endpoints"])
    if brand == "renault":
        assert "position" in sources
        assert "X102VE" in text  # a model code inside a body (details' model.code) is no secret


def test_scrub_hides_personal_keys_and_emails():
    from evclient.diagnostics import scrub
    from evclient.redact import REDACTED

    cleaned = scrub({"vin": "VF1AG000X64000001", "note": "mail me at owner@example.com",
                     "street": "1 rue de Rivoli", "gpsLatitude": 48.85, "nested": [{"accountId": "a-1"}]})
    assert "owner@example.com" not in json.dumps(cleaned) and cleaned["street"] == REDACTED
    assert cleaned["gpsLatitude"] == REDACTED and cleaned["nested"][0]["accountId"] != "a-1"
