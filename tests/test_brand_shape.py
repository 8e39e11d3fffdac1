"""The brand plug-in's shape: a declaration that holds nothing, a session per account made from checked
settings, resources an endpoint needs resolved and renewed by the core, and refusals that say whether they last."""

from __future__ import annotations

from typing import Any

import pytest

from evclient import InvalidInputError, NotSupportedError, ResourceGone
from evclient.brand import Api, VehicleInfo
from evclient.endpoint import EndpointSpec
from evclient.errors import EVClientError
from evclient.settings import Setting
from evclient.transport import Request, Response
from tests import testbrand
from tests.testbrand import TestBrand, parse_reading
from tests.testcloud import PASSWORD, Fault


class KeyedSession(testbrand.TestSession):
    """A session with one resource, "key", fetched from the server (as CarData finds its container)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.key: str | None = None
        self.made = 0

    async def resource(self, api: Api, name: str) -> str:
        assert name == "key"
        if self.key is None:
            await api.request(Request(method="GET", server="api", path="/cars", endpoint="find-key"))
            self.made += 1
            self.key = f"k{self.made}"
        return self.key

    def forget(self, name: str) -> None:
        self.key = None


class KeyedBrand(TestBrand):
    """Not registered: ``connect()`` is given the class."""

    name = "keyed"
    session = KeyedSession
    endpoints = (
        *TestBrand.endpoints,
        EndpointSpec(name="keyed", path="/cars/{vin}/data/keyed", parse=parse_reading, poll=False,
                     needs={"key": "key"}),
    )

    def endpoint_supported(self, vehicle: VehicleInfo, spec: EndpointSpec[Any]) -> bool | None:
        return None if spec.name == "keyed" else super().endpoint_supported(vehicle, spec)

    def decode_error(self, response: Response, wall_now: float) -> EVClientError | None:
        if response.status == 410:
            return ResourceGone("keyed: the key is gone", endpoint=response.endpoint, status=410)
        if response.status == 409:
            return NotSupportedError("keyed: too many keys on this account for now", permanent=False)
        return super().decode_error(response, wall_now)


def connect(cloud: Any, brand: Any = KeyedBrand, **kwargs: Any) -> Any:
    import evclient

    kwargs.setdefault("password", PASSWORD)
    kwargs.setdefault("username", "solo")
    return evclient.connect(brand, servers=cloud.servers(), **kwargs)


async def test_a_brand_declaration_holds_nothing_of_the_accounts_that_use_it(cloud):
    async with connect(cloud) as first, connect(cloud) as second:
        for account in (first, second):
            car = (await account.vehicles())[0]
            await car.refresh("e1")
            await car.refresh("keyed")
            await car.command("flash")
        assert type(first.brand) is KeyedBrand
        assert first.session is not second.session  # what is the account's lives on its session
        assert first.session.key == second.session.key == "k1"
        brand = first.brand
        assert getattr(brand, "__dict__", {}) == {}
        with pytest.raises(AttributeError, match="belongs on its Session"):
            brand.key = "k9"


async def test_settings_are_checked_from_their_declarations_before_any_request(cloud):
    picky = type("PickyBrand", (TestBrand,), {"name": "picky", "settings": (
        *TestBrand.settings,
        Setting(name="region", help="where the account lives", choices=("eu", "us"), default="eu"),
        Setting(name="app_id", help="the app's id from the portal", always=True, check=lambda v: v.strip().lower()),
    )})
    refused = {
        "picky does not take colour (it takes username, password, region, app_id)": {"colour": "red", "app_id": "a"},
        "region must be one of eu, us, got 'mars'": {"region": "mars", "app_id": "a"},
        "picky needs app_id: the app's id from the portal": {},
        "username must be a non-empty string": {"app_id": "a", "username": ""},
    }
    for message, given in refused.items():
        with pytest.raises(InvalidInputError) as info:
            async with connect(cloud, picky, **given):
                pass
        assert str(info.value) == message
    assert cloud.count() == 0
    async with connect(cloud, picky, app_id="  MyApp ") as account:
        assert account.session.settings.text("app_id") == "myapp"  # what the check made of it is kept
        assert account.session.settings.text("region") == "eu"
        assert "correct horse" not in repr(account.session.settings)


async def test_a_needed_resource_is_found_at_the_reads_priority_and_renewed_once_when_gone(cloud):
    async with connect(cloud) as account:
        car = (await account.vehicles())[0]
        assert (await car.refresh("keyed")).query == {"key": "k1"}
        assert (await car.refresh("keyed")).query == {"key": "k1"}  # kept, not fetched again
        assert cloud.count("list") == 2  # the listing and one search for the key
        cloud.fail("data", Fault(status=410, body={"error": "gone"}))
        assert (await car.refresh("keyed")).query == {"key": "k2"}  # forgotten, found again, read again
        assert account.session.made == 2
        cloud.fail("data", Fault(status=410), Fault(status=410))
        with pytest.raises(ResourceGone):  # once only: a server that keeps losing it is not chased forever
            await car.refresh("keyed")
        assert account.session.made == 3
        assert [e.route for e in cloud.log][-3:] == ["data", "list", "data"]


async def test_a_refusal_that_passes_keeps_the_endpoint_and_one_that_lasts_drops_it(cloud):
    async with connect(cloud) as account:
        car = (await account.vehicles())[0]
        cloud.fail("data", Fault(status=409, body={"error": "too many"}))
        with pytest.raises(NotSupportedError) as info:
            await car.refresh("e2")
        assert info.value.permanent is False
        assert car.endpoints["e2"].supported is not False
        assert (await car.refresh("e2")).name == "e2"
        cloud.fail("data", Fault(status=501, body={"error": "not supported"}))
        with pytest.raises(NotSupportedError) as info:
            await car.refresh("e3")
        assert info.value.permanent is True
        assert car.endpoints["e3"].supported is False


def test_a_setting_check_speaks_in_the_users_words() -> None:
    def client_id(value: str) -> str:
        if len(value) < 4:
            raise InvalidInputError("app_id is the portal's id, at least 4 characters")
        return value

    checked = type("CheckedBrand", (TestBrand,), {"name": "checked", "settings": (
        *TestBrand.settings, Setting(name="app_id", help="x", check=client_id))})
    with pytest.raises(InvalidInputError, match="at least 4"):
        checked.open_session(username="solo", app_id="abc")
    session = checked.open_session(username="solo", app_id="abcd", password="pw")
    assert isinstance(session, testbrand.TestSession)
    assert session.settings.text("app_id") == "abcd"
    assert set(session.settings) == {"username", "password", "app_id"}
    assert repr(session.settings) == "Settings(username='solo', password=**, app_id='abcd')"


def test_a_brands_secret_wire_names_are_hidden_from_the_moment_it_is_declared() -> None:
    from evclient.redact import REDACTED, redact, redact_url, secret_keys

    assert "keysecret" not in secret_keys()
    assert "pin_code" not in secret_keys()
    type("SecretiveBrand", (TestBrand,), {"name": "secretive", "secret_keys": frozenset({"keySecret"}), "settings": (
        *TestBrand.settings, Setting(name="pin_code", help="the car's PIN", secret=True))})
    assert redact({"KeySecret": "s3cr3t", "kept": "plain", "pin_code": "1234"}) == {
        "KeySecret": REDACTED, "kept": "plain", "pin_code": REDACTED}
    assert "s3cr3t" not in redact_url("http://127.0.0.1/api/x?keysecret=s3cr3t&page=2")
    assert "page=2" in redact_url("http://127.0.0.1/api/x?keysecret=s3cr3t&page=2")


def test_the_core_names_no_brands_wire_secrets() -> None:
    import importlib
    from pathlib import Path

    from evclient import brands

    source = Path(importlib.import_module("evclient.redact").__file__ or "").read_text().lower()
    declared = [key for name in brands.names() for key in brands.get(name).secret_keys]
    assert len(declared) > 10
    for key in declared:
        assert f'"{key.lower()}"' not in source, key
