"""Command benchmark: how many status reads evclient spends on BMW remote services, and how late it sees them.

A fleet of simulated i3s (one account each, every car with its own typical latency drawn by the
simulator around the 20-second fleet median) runs remote services one after another, minutes apart,
against the BMW simulator over loopback HTTP, in virtual time. The simulator's own records say when each
command reached its terminal status; its request log says when evclient read it. The baseline is what
past clients did: a status read every 3.5 s from submission until the terminal status, counted on the
same commands. Prints tables, then one JSON object as the last line.

    python benchmarks/commands.py [--commands 200] [--cars 20] [--seed 1] [--policy adaptive|growing|fixed]

``--policy growing`` runs the plain growing schedule instead (first read at 10 s, then 8 s growing 1.2x to
15 s) and ``--policy fixed`` the 3.5-second cycle itself, through evclient's scheduler.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import statistics
import sys
import time
from typing import Any

import attrs
import looptime

import evclient
from evclient.brands.bmw import Bmw
from evclient.simulator import Simulator
from evclient.simulator.brands.bmw import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_SECURITY_ANSWER, reached_at
from evclient.simulator.fixtures import cars as fixture_cars
from evclient.simulator.world import SimAccount

FIXED_CYCLE = 3.5
SERVICES = {"door-lock": "DOOR_LOCK", "door-unlock": "DOOR_UNLOCK", "light-flash": "LIGHT_FLASH",
            "vehicle-finder": "VEHICLE_FINDER", "climate-now": "CLIMATE_NOW"}
PASSWORD = "bench-password"  # the simulated fleet's own accounts
POLICIES: dict[str, evclient.DelayPolicy | None] = {
    "adaptive": None,  # the brand's own
    "growing": evclient.GrowingDelays((10.0, 8.0, 9.6, 11.5, 13.8, 15.0)),
    "fixed": evclient.GrowingDelays((FIXED_CYCLE,)),
}


def brand_with(policy: evclient.DelayPolicy | None) -> type[Bmw]:
    if policy is None:
        return Bmw
    specs = tuple(attrs.evolve(spec, delays=policy) for spec in Bmw.commands)

    class Patched(Bmw):
        commands = specs

    return Patched


@attrs.define
class Run:
    """One command as the simulator saw it."""

    car: int
    index: int  # the car's n-th command (0: nothing learnt yet)
    name: str
    submitted: float
    reached: float
    terminal: str
    seen: float = math.nan
    polls: int = 0

    @property
    def latency(self) -> float:
        return self.reached - self.submitted

    @property
    def fixed_polls(self) -> int:
        return max(1, math.ceil(self.latency / FIXED_CYCLE - 1e-9))

    @property
    def delay(self) -> float:
        return self.seen - self.reached


def build(cars: int) -> tuple[Simulator, list[tuple[str, str]]]:
    sim = Simulator(brands=["bmw"], default_world=False)
    bmw = sim.brands["bmw"]
    template = next(c for c in fixture_cars("bmw") if c["vin"].endswith("2"))
    owners = []
    for n in range(cars):
        username = f"owner{n:03d}@evclient.dev"
        sim.world.add_account(SimAccount(brand="bmw", username=username, password=PASSWORD, extra={
            "app_key": DEMO_APP_KEY, "app_secret": DEMO_APP_SECRET, "security_answer": DEMO_SECURITY_ANSWER}))
        vin = f"WBY1Z61020V4{n:05d}"
        sim.world.add_car(bmw.load_car({**template, "vin": vin, "owner": username}))
        owners.append((username, vin))
    return sim, owners


async def drive(
    sim: Simulator, brand: type[Bmw], n: int, username: str, vin: str, count: int, rng: random.Random,
) -> list[Run]:
    runs: list[Run] = []
    car_state = sim.world.car(vin)
    assert car_state is not None
    async with evclient.connect(
        brand, servers=sim.servers("bmw"), username=username, password=PASSWORD, app_key=DEMO_APP_KEY,
        app_secret=DEMO_APP_SECRET, security_answer=DEMO_SECURITY_ANSWER,
    ) as account:
        car = await account.vehicle(vin)
        for index in range(count):
            await asyncio.sleep(rng.uniform(600, 3600))  # owners send a command now and then
            name = rng.choice(list(SERVICES))
            submitted = len(sim.log)
            with contextlib.suppress(evclient.CommandFailed, evclient.CommandTimedOut):
                await car.command(name)
            terminal = reached_at(car_state, SERVICES[name])
            assert terminal is not None
            entries = [e for e in sim.log[submitted:] if e.account == username]
            submit = next(e for e in entries if e.route == "bmw.executeService")
            reads = [e for e in entries if e.route == "bmw.serviceExecutionStatus"]
            run = Run(n, index, name, submit.t, terminal[1], terminal[0], polls=len(reads))
            seen = [e.t for e in reads if e.t >= run.reached and e.status == 200]
            run.seen = seen[0] if seen else math.nan
            runs.append(run)
    return runs


async def bench(commands: int, cars: int, seed: int, brand: type[Bmw]) -> tuple[list[Run], Simulator]:
    sim, owners = build(cars)
    await sim.start()
    try:
        per_car = [commands // cars + (1 if n < commands % cars else 0) for n in range(cars)]
        rngs = [random.Random(seed * 1000 + n) for n in range(cars)]
        batches = await asyncio.gather(*(
            drive(sim, brand, n, username, vin, per_car[n], rngs[n]) for n, (username, vin) in enumerate(owners)))
    finally:
        await sim.close()
    return [run for batch in batches for run in batch], sim


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else math.nan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--cars", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policy", choices=list(POLICIES), default="adaptive")
    args = parser.parse_args()
    loop = looptime.new_event_loop(start=0.0)
    started = time.perf_counter()
    try:
        brand = brand_with(POLICIES[args.policy])
        runs, sim = loop.run_until_complete(bench(args.commands, args.cars, args.seed, brand))
    finally:
        loop.close()
    wall = time.perf_counter() - started

    unseen = [r for r in runs if math.isnan(r.seen)]
    if unseen:
        print(f"{len(unseen)} commands never had their terminal status read", file=sys.stderr)
        return 1
    polls = sum(r.polls for r in runs)
    fixed = sum(r.fixed_polls for r in runs)
    delays = [r.delay for r in runs]
    print(f"{len(runs)} BMW remote services on {args.cars} cars (seed {args.seed}, {args.policy} status reads), "
          f"{loop.time() / 3600:.1f} h of virtual time in {wall:.1f} s")
    print()
    print(f"{'commands':<24}{'n':>5}{'latency med':>13}{'reads evclient':>16}{'reads fixed':>13}"
          f"{'ratio':>7}{'late med':>10}{'late p95':>10}")

    def row(label: str, group: list[Run]) -> None:
        if not group:
            return
        ours, theirs = sum(r.polls for r in group), sum(r.fixed_polls for r in group)
        late = [r.delay for r in group]
        print(f"{label:<24}{len(group):>5}{statistics.median(r.latency for r in group):>12.1f}s"
              f"{ours / len(group):>16.2f}{theirs / len(group):>13.2f}{ours / theirs:>7.2f}"
              f"{statistics.median(late):>9.1f}s{quantile(late, 0.95):>9.1f}s")

    row("all", runs)
    for terminal in ("EXECUTED", "NOT_EXECUTED", "TIMED_OUT"):
        row(f"  {terminal}", [r for r in runs if r.terminal == terminal])
    row("  car's 1st-3rd command", [r for r in runs if r.index < 3])
    row("  car's later commands", [r for r in runs if r.index >= 3])
    most = max(sim.max_in_window(3600.0, account=username) for username in {e.account for e in sim.log} if username)
    print()
    print(f"most requests one account made in any hour: {most} (cap 60); quota refusals: "
          f"{sum(1 for e in sim.log if e.fault == 'quota')}")
    summary: dict[str, Any] = {
        "commands": len(runs),
        "polls_evclient": polls,
        "polls_fixed": fixed,
        "poll_ratio": round(polls / fixed, 3),
        "detect_delay_median_s": round(statistics.median(delays), 2),
        "detect_delay_p95_s": round(quantile(delays, 0.95), 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
