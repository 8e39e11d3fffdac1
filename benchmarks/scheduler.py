"""Scheduler benchmark: a virtual day of background polling for many accounts, with random commands.

Drives evclient's own Scheduler, PollPlan and Poller (the code every Account runs) on a virtual-time
event loop, with requests that take no time, so what is measured is the cost of the decisions
themselves, event loop included. Prints a table, then one JSON object as the last line.

    python benchmarks/scheduler.py [--accounts 1000] [--cars 2] [--endpoints 7] [--hours 24]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import resource
import selectors
import sys
import time
from collections import deque

from evclient.pollplan import Poller, PollPlan
from evclient.scheduler import Priority, Scheduler, Window

WINDOW = Window(limit=60, seconds=3600.0, reserve=6)


class _VirtualSelector(selectors.DefaultSelector):
    """Never waits: a select that would block instead moves the virtual clock to the next timer."""

    now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout:
            self.now += timeout
        return super().select(0)


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._virtual = _VirtualSelector()
        super().__init__(self._virtual)
        self._clock_resolution = 1e-6

    def time(self) -> float:
        return self._virtual.now


class AccountSim:
    """One account: its scheduler, its poll plan over cars × endpoints, and a few commands a day."""

    __slots__ = ("area", "count", "last", "observed_from", "plan", "poller", "recent", "scheduler", "worst")

    def __init__(self, cars: int, endpoints: int) -> None:
        self.scheduler = Scheduler((WINDOW,))
        self.plan: PollPlan[tuple[int, int]] = PollPlan(WINDOW.seconds / WINDOW.poll_limit)
        self.poller = Poller(self.plan, self.poll)
        # The last hour's admissions only, and the figures kept as they go: a day of every account's times
        # would grow the heap the benchmark runs in, and it would measure its own bookkeeping.
        self.recent: deque[float] = deque()
        self.count = 0
        self.worst = 0
        self.last: dict[tuple[int, int], float] = {}
        self.area = 0.0  # ∫ age dt over every target, for the mean staleness
        self.observed_from: dict[tuple[int, int], float] = {}
        for car in range(cars):
            for endpoint in range(endpoints):
                self.plan.add((car, endpoint), 0.0)

    def admitted(self, now: float) -> None:
        """Count one admission (they come in time order) and the most in any hour so far."""
        recent = self.recent
        recent.append(now)
        while recent[0] + WINDOW.seconds <= now:
            recent.popleft()
        self.count += 1
        self.worst = max(self.worst, len(recent))

    async def poll(self, key: tuple[int, int]) -> float | None:
        slot = await self.scheduler.acquire(Priority.POLL, "api")
        now = slot.admitted_at
        slot.release()
        self.admitted(now)
        previous = self.last.get(key)
        if previous is None:
            self.observed_from[key] = now
        else:
            self.area += (now - previous) ** 2 / 2
        self.last[key] = now
        return now

    async def commands(self, rng: random.Random, end: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(rng.uniform(2, 6) * 3600)
            if loop.time() >= end:
                return
            slot = await self.scheduler.acquire(Priority.COMMAND, "api")
            slot.release()
            self.admitted(slot.admitted_at)
            for delay in (10.0, 8.0, 12.0):  # a few status polls
                await asyncio.sleep(delay)
                slot = await self.scheduler.acquire(Priority.COMMAND_STATUS, "api")
                slot.release()
                self.admitted(slot.admitted_at)


async def simulate(
    accounts: int, cars: int, endpoints: int, hours: float, seed: int, freeze: bool = False
) -> list[AccountSim]:
    rng = random.Random(seed)
    end = hours * 3600.0
    sims = [AccountSim(cars, endpoints) for _ in range(accounts)]
    if freeze:
        # What a fleet service does once its accounts are up: move the start-up heap out of the
        # collector's way, so full collections walk what changed rather than every account's objects.
        gc.collect()
        gc.freeze()
    loop = asyncio.get_running_loop()
    command_tasks = [loop.create_task(s.commands(random.Random(rng.random()), end)) for s in sims]
    for sim in sims:
        sim.poller.start()
    await asyncio.sleep(end)
    for sim in sims:
        await sim.poller.stop()
    for task in command_tasks:
        task.cancel()
    await asyncio.gather(*command_tasks, return_exceptions=True)
    return sims


def main(argv: list[str] | None = None) -> dict[str, float | int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--cars", type=int, default=2)
    parser.add_argument("--endpoints", type=int, default=7)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() once the accounts are built")
    args = parser.parse_args(argv)

    loop = VirtualLoop()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    sims = loop.run_until_complete(simulate(args.accounts, args.cars, args.endpoints, args.hours, args.seed,
                                                    args.gc_freeze))
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    end = loop.time()
    loop.close()

    requests = sum(s.count for s in sims)
    worst = max(s.worst for s in sims)
    targets = args.cars * args.endpoints
    period = targets * WINDOW.seconds / WINDOW.poll_limit
    area = observed = 0.0
    for sim in sims:
        area += sim.area
        for key, last in sim.last.items():
            area += (end - last) ** 2 / 2  # the tail since the last poll
            observed += end - sim.observed_from[key]
    staleness_ratio = (area / observed) / (period / 2)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result: dict[str, float | int] = {
        "accounts": args.accounts,
        "vehicles": args.accounts * args.cars,
        "requests": requests,
        "cpu_s": round(cpu_s, 2),
        "us_per_decision": round(cpu_s / requests * 1e6, 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "max_in_any_window": worst,
        "limit": WINDOW.limit,
        "mean_staleness_ratio": round(staleness_ratio, 4),
    }
    print(f"evclient scheduler benchmark — {args.hours:g} virtual hours, {wall_s:.1f} s wall")
    print(f"{'figure':<24}{'value':>14}  target")
    targets_text = {
        "us_per_decision": "<= 25",
        "max_in_any_window": f"<= {WINDOW.limit}",
        "mean_staleness_ratio": "<= 1.05",
    }
    for key, value in result.items():
        print(f"{key:<24}{value!s:>14}  {targets_text.get(key, '')}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
