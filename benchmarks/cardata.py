"""BMW CarData: a simulated week of three cars on one owner, with stream outages, in virtual time.

The cars charge and drive in the simulator, which streams only the keys that change; the broker goes down for
some minutes, some hours and one whole day. Reported: the most REST calls in any 24 hours (the cap is 50), how
long a car's change takes to reach the application while the stream is up (p50, p95), how stale the values get
while it is down against the best that 50 calls a day allow (each car read every 24 h × cars / 50), and how
many notifications told the application nothing new. The last line is one JSON object.

    python benchmarks/cardata.py [--days 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

import looptime
import paho.mqtt.client

import evclient
from evclient.simulator import Simulator
from evclient.simulator.brands.bmw_cardata import DEMO_CLIENT_ID, BmwCarDataSim
from evclient.simulator.quota import most_in_any_window

HOUR = 3600.0
DAY = 86400.0
#: (start after the beginning, length) of each outage of the stream host.
OUTAGES = ((0.5 * DAY, 5 * 60.0), (1.4 * DAY, 20 * 60.0), (2.2 * DAY, 3 * HOUR), (3.5 * DAY, DAY),
           (5.6 * DAY, 45 * 60.0))


async def week(days: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    paho.mqtt.client.time_func = loop.time  # the MQTT keep-alive on the same (virtual) clock as the broker
    sim = Simulator(brands=["bmw-cardata"])
    brand = sim.brands["bmw-cardata"]
    assert isinstance(brand, BmwCarDataSim)
    for car in sim.world.cars.values():
        car.extra["mapping"] = "PRIMARY"  # three cars on one owner
        car.plugged = True
    await sim.start()
    delays: list[float] = []
    duplicates = 0
    stale_samples: list[float] = []
    try:
        try:
            account = await evclient.connect("bmw-cardata", servers=sim.servers("bmw-cardata"),
                                             client_id=DEMO_CLIENT_ID)
        except evclient.TwoFactorRequired as asked:
            challenge = asked.challenge
            if not isinstance(challenge, evclient.DeviceCodeChallenge):
                raise
            account = await challenge.wait()  # the simulated owner approves after 3 s
        async with account:
            cars = await account.vehicles()
            last: dict[str, Any] = {}

            def heard(car: evclient.Vehicle, names: frozenset[str]) -> None:
                nonlocal duplicates
                if "telematics" not in names:
                    return  # another endpoint's news (the daily read, basic data): not a telematics notification
                endpoint = car.endpoints["telematics"]
                value = endpoint.value
                if value == last.get(car.vin):
                    duplicates += 1
                last[car.vin] = value
                if endpoint.source == "push" and endpoint.measured_at is not None:
                    # On the simulator's clock, which stamped the change: car change → the application hears it.
                    delays.append(max(0.0, sim.world.clock.wall() - endpoint.measured_at))

            account.subscribe(heard)
            await account.start()
            start = loop.time()

            async def outages() -> None:
                for at, length in OUTAGES:
                    if at + length > days * DAY:
                        break
                    await asyncio.sleep(max(0.0, start + at - loop.time()))
                    await brand.set_stream_down(True)
                    await asyncio.sleep(length)
                    await brand.set_stream_down(False)

            # How old is what the application knows? While the stream is connected a car's values are current
            # (a silent car on a connected stream has nothing new); once it drops, they age until a REST read.
            confirmed: dict[str, float] = {}

            def stream_changed(state: evclient.StreamState) -> None:
                if not state.connected:
                    for car in cars:
                        confirmed[car.vin] = max(confirmed.get(car.vin, 0.0), account.clock.wall())

            account.subscribe_stream(stream_changed)

            async def sample_staleness() -> None:
                while True:
                    await asyncio.sleep(300)
                    if not brand.stream_down:
                        continue
                    now = account.clock.wall()
                    for car in cars:
                        endpoint = car.endpoints["telematics"]
                        read = endpoint.fetched_at if endpoint.source in ("poll", "read") else None
                        since = max(confirmed.get(car.vin, now), read or 0.0)
                        stale_samples.append(now - since)

            tasks = [asyncio.ensure_future(outages()), asyncio.ensure_future(sample_staleness())]
            await asyncio.sleep(days * DAY)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await sim.close()
    rest = [e.t for e in sim.requests(brand="bmw-cardata") if e.path.startswith("/bmw-cardata/api")]
    # The best 50 calls a day allow: each car read every 24 h × cars / 50, so on average half that old.
    best = DAY * len(cars) / 50 / 2
    ratio = statistics.fmean(stale_samples) / best if stale_samples else 0.0
    ordered = sorted(delays)
    return {
        "days": days, "cars": len(cars), "rest_calls": len(rest),
        "rest_calls_max_24h": most_in_any_window(rest, DAY),
        "stream_messages": brand.published, "stream_delay_p50_s": round(_pct(ordered, 50), 3),
        "stream_delay_p95_s": round(_pct(ordered, 95), 3),
        "fallback_staleness_ratio": round(ratio, 3), "duplicate_notifications": duplicates,
    }


def _pct(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=float, default=7.0)
    args = parser.parse_args(argv)
    loop = looptime.new_event_loop(start=0.0, noop_cycles=4)
    loop._clock_resolution = 1e-6  # type: ignore[attr-defined]
    started = time.monotonic()
    try:
        figures = loop.run_until_complete(week(args.days))
    finally:
        loop.close()
    targets = {"rest_calls_max_24h": ("<=", 50), "stream_delay_p50_s": ("<=", 1.0),
               "stream_delay_p95_s": ("<=", 2.0), "fallback_staleness_ratio": ("<=", 1.1),
               "duplicate_notifications": ("<=", 0)}
    print(f"{args.days:g} virtual days, {figures['cars']} cars on one owner, stream outages of 5 min to a day "
          f"({time.monotonic() - started:.0f} s)")
    for name, (_, limit) in targets.items():
        met = figures[name] <= limit
        print(f"  {name:28} {figures[name]:>10}  target <= {limit}: {'met' if met else 'NOT met'}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
