"""Fifty concurrent refresh() and command() calls on one MyRenault account: single-flight, one command per
channel at a time, the budget (from the simulator's log) and priorities all hold."""

from __future__ import annotations

import asyncio
import itertools

import evclient
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME

ZOE = "VF1AG000X64000001"


def connect(sim):
    return evclient.connect("renault", servers=sim.servers("renault"), username=DEMO_USERNAME,
                            password=DEMO_PASSWORD)


def kamereon(sim, since: float = 0.0):
    return [e for e in sim.requests(brand="renault") if "/gigya/" not in e.path and e.t >= since]


async def test_fifty_concurrent_calls(sim):
    loop = asyncio.get_running_loop()
    async with connect(sim) as account:
        cars = await account.vehicles()
        zoe = await account.vehicle(ZOE)
        polled = [(car, name) for car in cars for name, ep in car.endpoints.items()
                  if ep.spec.poll and ep.supported is not False][:20]
        spans: list[tuple[float, float, str]] = []

        async def timed_command(name: str, **params) -> evclient.CommandResult:
            handle = await zoe.start_command(name, **params)
            submitted = loop.time()
            result = await handle
            spans.append((submitted, loop.time(), name))
            return result

        started = loop.time()
        calls = [zoe.refresh("battery-status") for _ in range(20)]  # one request for all twenty
        calls += [car.refresh(name) for car, name in polled]
        calls += [timed_command("hvac-start", temperature=20 + i) for i in range(5)]
        calls += [timed_command("hvac-stop") for _ in range(5)]
        results = await asyncio.gather(*calls, return_exceptions=True)

        assert not [r for r in results if isinstance(r, BaseException)]
        reads = kamereon(sim, sim.world.clock.wall() - (loop.time() - started) - 1e-3)
        battery_reads = [e for e in reads if e.route == "renault.battery-status" and ZOE in e.path]
        # The twenty identical refreshes shared one request (plus any confirmation reads of the commands).
        assert len([e for e in battery_reads if e.t <= reads[0].t + 1]) == 1
        # The A/C commands share one channel: each one's wait ended before the next was sent.
        spans.sort()
        assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
        assert sim.max_in_window(3600, brand="renault") <= 60 + 30  # Kamereon's 60 and Gigya's 30
        kamereon_times = sorted(e.t for e in kamereon(sim))
        assert max(sum(1 for t in kamereon_times if s <= t < s + 3600) for s in kamereon_times) <= 60


async def test_a_command_overtakes_refreshes_waiting_for_the_budget(sim):
    """On-demand reads stop at the polls' share; the reserve lets a command through at once, although it
    was asked for after five refreshes that are still waiting."""
    loop = asyncio.get_running_loop()
    async with connect(sim) as account:
        cars = await account.vehicles()
        zoe = await account.vehicle(ZOE)
        targets = [(car, name) for car in cars for name, ep in car.endpoints.items()
                   if ep.spec.poll and ep.supported is not False]
        window = next(w for w in account.budget.windows if w.name == "kamereon")
        i = 0
        while next(w for w in account.budget.windows if w.name == "kamereon").used < window.poll_limit:
            car, name = targets[i % len(targets)]
            await car.refresh(name)
            i += 1
        full_at = loop.time()
        waiting = [asyncio.ensure_future(car.refresh(name)) for car, name in targets[:5]]
        await asyncio.sleep(1)
        command = asyncio.ensure_future(zoe.command("hvac-start", temperature=21))
        await command
        assert loop.time() - full_at < 600  # the command did not wait for the window to move
        assert not any(w.done() for w in waiting)
        await asyncio.gather(*waiting)
        assert loop.time() - full_at >= 3000  # the reads waited for the window to move
        full_wall = sim.world.clock.wall() - (loop.time() - full_at)
        [action] = [e for e in kamereon(sim) if e.route == "renault.action.hvac-start"]
        assert action.t < full_wall + 600  # sent at once, though asked for after the waiting reads
