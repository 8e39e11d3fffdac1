"""The simulator on its own: quota, faults, controls, physics, token rules. Spoken to with plain aiohttp."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

import evclient
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME, Fault, SimClock, Simulator
from evclient.simulator.quota import SlidingQuota
from tests.conftest import ZOE

HOUR = 3600.0


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def login(sim, http) -> dict[str, str]:
    async with http.post(sim.servers("renault-ze")["api"] + "/user/login",
                         json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD}) as resp:
        assert resp.status == 200
        body = await resp.json()
    return {"Authorization": f"Bearer {body['token']}", "refresh": body["refresh_token"], "token": body["token"]}


def battery_url(sim) -> str:
    return f"{sim.servers('renault-ze')['api']}/vehicle/{ZOE}/battery"


async def test_the_quota_is_an_exact_sliding_window_answered_with_429_and_retry_after(sim, http):
    auth = await login(sim, http)
    headers = {"Authorization": auth["Authorization"]}
    for _ in range(59):
        async with http.get(battery_url(sim), headers=headers) as resp:
            assert resp.status == 200
        await asyncio.sleep(10)
    async with http.get(battery_url(sim), headers=headers) as resp:
        assert resp.status == 429
        assert (await resp.json())["code"] == "TOO_MANY_REQUESTS"
        wait = int(resp.headers["Retry-After"])
    # The login was the first of the 60; it leaves the window first.
    assert 3600 - 600 - 5 <= wait <= 3600 - 590 + 1
    await asyncio.sleep(wait)
    async with http.get(battery_url(sim), headers=headers) as resp:
        assert resp.status == 200


def test_the_quota_choices_a_fixed_window_and_uncounted_refusals():
    fixed = SlidingQuota(limit=2, seconds=100, window="fixed")
    assert fixed.hit("a", 90) is None and fixed.hit("a", 95) is None
    assert fixed.hit("a", 99) == 1  # refused until the next period starts at 100
    assert fixed.hit("a", 100) is None and fixed.used("a", 100) == 1  # a new period: the burst at its edge passes
    lenient = SlidingQuota(limit=2, seconds=100, counts_refused=False)
    assert lenient.hit("a", 0) is None and lenient.hit("a", 10) is None
    assert lenient.hit("a", 20) == 80  # free once the request at 0 ages out
    assert lenient.hit("a", 100) is None  # the refusal at 20 did not count: the request at 0 aged out
    with pytest.raises(ValueError, match="sliding, fixed"):
        SlidingQuota(window="calendar")


@pytest.mark.parametrize("choice", [{"window": "sliding"}, {"window": "fixed"}, {"counts_refused": False}])
async def test_evclient_never_meets_the_quota_under_any_choice(sim, choice):
    """A polling day of the demo MyRenault account under each documented quota choice: no refusal, ever
    (the sliding window that counts refusals is the strictest; it is the default)."""
    sim.quotas["renault"] = SlidingQuota(60, 3600.0, **choice)
    async with evclient.connect("renault", servers=sim.servers("renault"), username=DEMO_USERNAME,
                                password=DEMO_PASSWORD) as account:
        await account.vehicles()
        await account.start()
        await asyncio.sleep(6 * 3600)
    statuses = [e.status for e in sim.requests(brand="renault")]
    assert len(statuses) > 300 and 429 not in statuses
    assert sim.max_in_window(3600, brand="renault") <= 60 + 30  # Kamereon's 60 and Gigya's own 30


def test_the_sliding_quota_counts_refused_requests_too():
    quota = SlidingQuota(limit=2, seconds=100)
    assert quota.hit("a", 0) is None
    assert quota.hit("a", 10) is None
    assert quota.hit("a", 20) == 90  # refused; it frees up when the request at 10 ages out
    assert quota.hit("a", 95) == 25  # still refused: the refusal at 20 counted
    assert quota.hit("b", 95) is None  # per account
    assert quota.hit("a", 130) is None


async def test_faults_from_json_apply_per_route_and_account_and_run_out(sim, http):
    auth = await login(sim, http)
    headers = {"Authorization": auth["Authorization"]}
    async with http.post(f"{sim.url}/_sim/faults", json=[
        {"route": "renault-ze.battery", "kind": "status", "status": 503, "times": 2},
        {"route": "renault-ze.*", "account": "someone@else", "kind": "drop", "times": None},
    ]) as resp:
        assert resp.status == 200
        assert len((await resp.json())["faults"]) == 2
    statuses = []
    for _ in range(3):
        async with http.get(battery_url(sim), headers=headers) as resp:
            statuses.append(resp.status)
    assert statuses == [503, 503, 200]
    async with http.get(f"{sim.url}/_sim/faults") as resp:
        assert [f["account"] for f in (await resp.json())["faults"]] == ["someone@else"]
    async with http.delete(f"{sim.url}/_sim/faults") as resp:
        assert (await resp.json()) == {"faults": []}


@pytest.mark.parametrize("bad", [{"kind": "explode"}, {"colour": "red"}, {"status": "500"}, {"delay": -1}, [1]])
async def test_a_bad_fault_description_is_refused(sim, http, bad):
    async with http.post(f"{sim.url}/_sim/faults", json=bad) as resp:
        assert resp.status == 400
        assert "error" in await resp.json()
    assert len(sim.faults) == 0


async def test_html_malformed_and_truncated_answers(sim, http):
    auth = await login(sim, http)
    headers = {"Authorization": auth["Authorization"]}
    sim.faults.add(Fault.from_json({"route": "renault-ze.battery", "kind": "html"}))
    sim.faults.add(Fault.from_json({"route": "renault-ze.battery", "kind": "malformed"}))
    sim.faults.add(Fault.from_json({"route": "renault-ze.battery", "kind": "truncated"}))
    async with http.get(battery_url(sim), headers=headers) as resp:
        assert resp.status == 502 and resp.content_type == "text/html"
    async with http.get(battery_url(sim), headers=headers) as resp:
        with pytest.raises(ValueError):
            await resp.json()
    async with http.get(battery_url(sim), headers=headers) as resp:
        text = await resp.text()
        assert text.startswith('{"charging"') and not text.endswith("}")
    assert [e.fault for e in sim.log[1:]] == ["html", "malformed", "truncated"]


async def test_the_request_log_cars_outbox_and_clock_controls(sim, http):
    auth = await login(sim, http)
    async with http.get(f"{sim.url}/_sim/requests", params={"brand": "renault-ze"}) as resp:
        [entry] = (await resp.json())["requests"]
    assert entry["account"] == DEMO_USERNAME and entry["method"] == "POST" and entry["status"] == 200
    assert entry["path"] == "/renault-ze/api/user/login"

    async with http.get(f"{sim.url}/_sim/cars", params={"brand": "renault-ze"}) as resp:
        [car] = (await resp.json())["cars"]
    assert car["vin"] == ZOE and car["battery_level"] == 62 and car["plugged"] and not car["charging"]

    async with http.post(f"{sim.url}/_sim/commands", json={"command": "charge-now", "latency": 0}) as resp:
        assert resp.status == 200
    async with http.post(f"{sim.servers('renault-ze')['api']}/vehicle/{ZOE}/charge",
                         headers={"Authorization": auth["Authorization"]}) as resp:
        assert resp.status == 204
    async with http.post(f"{sim.url}/_sim/clock", json={"advance": 1800}) as resp:
        assert resp.status == 200
    async with http.get(f"{sim.url}/_sim/cars", params={"brand": "renault-ze"}) as resp:
        [car] = (await resp.json())["cars"]
    assert car["charging"] and 74 <= car["battery_level"] <= 76
    async with http.post(f"{sim.url}/_sim/clock", json={"advance": 3 * HOUR}) as resp:
        assert resp.status == 200
    async with http.get(f"{sim.url}/_sim/outbox") as resp:
        messages = (await resp.json())["messages"]
    assert [m["subject"] for m in messages] == ["Charge ended"]  # charge_start is NONE in the default world
    assert messages[0]["channel"] == "SMS" and messages[0]["to"] == DEMO_USERNAME
    async with http.post(f"{sim.url}/_sim/clock", json={"backwards": 1}) as resp:
        assert resp.status == 400


async def test_an_expired_or_unknown_token_is_refused_and_the_refresh_needs_both_tokens(sim, http):
    sim.brands["renault-ze"].token_lifetime = 60.0
    auth = await login(sim, http)
    await asyncio.sleep(61)
    async with http.get(battery_url(sim), headers={"Authorization": auth["Authorization"]}) as resp:
        assert resp.status == 401 and (await resp.json())["code"] == "TOKEN_EXPIRED"
    async with http.get(battery_url(sim), headers={"Authorization": "Bearer nonsense"}) as resp:
        assert resp.status == 401 and (await resp.json())["code"] == "INVALID_TOKEN"
    refresh_url = sim.servers("renault-ze")["api"] + "/user/token/refresh"
    async with http.post(refresh_url, json={"token": auth["token"], "refresh_token": auth["refresh"]}) as resp:
        assert resp.status == 401  # the expired token must also be the bearer
    async with http.post(refresh_url, headers={"Authorization": auth["Authorization"]},
                         json={"token": auth["token"], "refresh_token": "guess"}) as resp:
        assert resp.status == 401
    async with http.post(refresh_url, headers={"Authorization": auth["Authorization"]},
                         json={"token": auth["token"], "refresh_token": auth["refresh"]}) as resp:
        assert resp.status == 200
        token = (await resp.json())["token"]
    async with http.get(battery_url(sim), headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 200


async def test_another_accounts_car_is_forbidden(sim, http):
    from evclient.simulator import SimAccount

    sim.world.add_account(SimAccount(brand="renault-ze", username="other@evclient.dev", password="other-pass"))
    async with http.post(sim.servers("renault-ze")["api"] + "/user/login",
                         json={"username": "other@evclient.dev", "password": "other-pass"}) as resp:
        body = await resp.json()
    assert body["user"]["associated_vehicles"] == []
    async with http.get(battery_url(sim), headers={"Authorization": f"Bearer {body['token']}"}) as resp:
        assert resp.status == 403


async def test_charging_stops_when_full_and_preconditioning_after_five_minutes(sim):
    car = sim.zoe
    sim.world.start_charging(car)
    await asyncio.sleep(HOUR)
    assert 88 <= sim.zoe.battery_level <= 90
    await asyncio.sleep(HOUR)
    assert sim.zoe.battery_level == 100 and not sim.zoe.charging
    sim.world.start_hvac(sim.zoe, 300)
    await asyncio.sleep(299)
    assert sim.zoe.hvac_on
    await asyncio.sleep(2)
    assert not sim.zoe.hvac_on


async def test_a_frozen_clock_moves_only_when_advanced():
    clock = SimClock(speed=0, epoch=1_000_000.0)
    assert clock.wall() == 1_000_000.0
    await asyncio.sleep(100)
    assert clock.wall() == 1_000_000.0
    clock.advance(60)
    assert clock.wall() == 1_000_060.0
    clock.set_speed(2)
    await asyncio.sleep(10)
    assert clock.wall() == pytest.approx(1_000_080.0)


async def test_standalone_simulators_are_independent():
    async with Simulator() as one, Simulator() as two:
        one.brands["renault-ze"].token_lifetime = 5.0
        assert two.brands["renault-ze"].token_lifetime == 36000.0
        one.world.cars[ZOE].battery_level = 10.0
        assert two.world.cars[ZOE].battery_level == 62.0
        assert one.url != two.url
