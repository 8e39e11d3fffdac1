"""A day of MyRenault background polling in virtual time: within 60 Kamereon requests an hour, every
supported endpoint of every car refreshed at the same rhythm (N × 60 / (60 − reserve) minutes), and an
unknown model's missing endpoints dropped after their first answer."""

from __future__ import annotations

import asyncio
import itertools
import statistics
from collections import defaultdict

import pytest

import evclient
from evclient import Budget
from evclient.simulator.world import Car

OWNER = "demo@evclient.dev"
DAY = 86400.0


def connect(sim, **kwargs):
    return evclient.connect("renault", servers=sim.servers("renault"), username=OWNER, password="demo-password",
                            **kwargs)


def kamereon_log(sim, since):
    return [e for e in sim.requests(brand="renault") if "/kamereon/" in e.path and e.t >= since]


def polls_by_target(entries):
    """(vin, endpoint) → the times it was read."""
    times = defaultdict(list)
    for e in entries:
        vins = [part for part in e.path.split("/") if len(part) == 17]
        if vins:  # the account and vehicle listings name no car
            times[(vins[0], e.route.split(".", 1)[1])].append(e.t)
    return times


def busiest_hour(times):
    times = sorted(times)
    return max((sum(1 for u in times[i:] if u < t + 3600) for i, t in enumerate(times)), default=0)


@pytest.mark.parametrize("reserve", [None, 0])
async def test_a_day_of_polling_the_default_account(sim, reserve):
    budget = Budget(reserve=reserve) if reserve is not None else None
    async with connect(sim, budget=budget) as account:
        cars = await account.vehicles()
        supported = [(c.vin, n) for c in cars for n, e in c.endpoints.items() if e.spec.poll and e.supported]
        n = len(supported)
        assert n == 18  # Zoe 5, Mégane 5, Spring 4, Captur 4 (the model table)
        start = sim.world.clock.wall()
        await account.start()
        await asyncio.sleep(DAY)
        await account.stop()
    entries = kamereon_log(sim, start)
    assert all(e.status != 429 for e in entries)
    assert busiest_hour([e.t for e in entries]) <= 60
    minutes = n * 60 / (60 - (6 if reserve is None else reserve))  # 20 min with the reserve, 18 without
    by_target = polls_by_target(entries)
    assert set(by_target) == set(supported)  # nothing the model table rules out was ever asked for
    for target, times in by_target.items():
        gaps = [b - a for a, b in itertools.pairwise(times) if a >= start + 3600]
        assert statistics.median(gaps) == pytest.approx(minutes * 60, rel=0.03), target
        assert max(gaps) <= minutes * 60 * 1.1, target
        assert len(times) == pytest.approx(DAY / (minutes * 60), abs=2), target


async def test_an_unknown_models_missing_endpoints_leave_the_plan_and_the_rest_speed_up(sim):
    for vin in list(sim.world.cars):
        if sim.world.cars[vin].brand == "renault":
            del sim.world.cars[vin]
    sim.world.add_car(Car(brand="renault", vin="VF1XX000X60000007", owner=OWNER, model="ZZ99VE", plugged=True,
                          extra={"unsupported": {"lock-status": "err.func.wired.notFound",
                                                 "res-state": "err.func.403",
                                                 "pressure": "err.func.wired.forbidden",
                                                 "charge-mode": "err.tech.501"}}))
    async with connect(sim) as account:
        [car] = await account.vehicles()
        assert all(e.supported is None for e in car.endpoints.values())  # the table does not know this model
        start = sim.world.clock.wall()
        await account.start()
        await asyncio.sleep(4 * 3600)
        await account.stop()
        assert {n for n, e in car.endpoints.items() if e.supported is False} == {
            "lock-status", "res-state", "pressure", "charge-mode"}
    by_target = polls_by_target(kamereon_log(sim, start))
    for gone in ("lock-status", "res-state", "pressure", "charge-mode"):
        assert len(by_target[(car.vin, gone)]) == 1  # asked once, never again
    # Nine polled endpoints at first, five after: each of the five now every 5 × 60 / 54 minutes.
    late = [b - a for a, b in itertools.pairwise(by_target[(car.vin, "cockpit")]) if a >= start + 3600]
    assert statistics.median(late) == pytest.approx(5 * 60 / 54 * 60, rel=0.03)


async def test_the_quota_answer_pauses_polling_15_minutes_and_keeps_the_last_values_marked_stale(sim):
    zoe = "VF1AG000X64000001"
    async with connect(sim) as account:
        car = await account.vehicle(zoe)
        before = await car.refresh("battery-status")
        # Kamereon's quota answer, without Retry-After: evclient waits its own 15 minutes.
        sim.fault("renault.battery-status", kind="status", status=429, times=1, body={
            "type": "FUNCTIONAL", "errors": [{"errorCode": "err.func.wired.overloaded",
                                              "errorMessage": "You have reached your quota limit"}]})
        refused_at = sim.world.clock.wall()
        with pytest.raises(evclient.QuotaExceeded) as caught:
            await car.refresh("battery-status")
        assert caught.value.retry_after == 900
        endpoint = car.endpoints["battery-status"]
        assert endpoint.value == before and endpoint.stale
        assert account.budget.paused_for == pytest.approx(900, abs=1)
        await account.start()
        await asyncio.sleep(900 + 21 * 60)  # the pause, then one whole round of the 18 polled endpoints
        await account.stop()
        later = [e.t for e in kamereon_log(sim, refused_at + 1)]
        assert later and min(later) >= refused_at + 900  # nothing went out during the pause
        assert not endpoint.stale and endpoint.fetched_at > refused_at + 900  # read again since
