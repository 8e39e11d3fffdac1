"""The push path, side by side in one run: evclient's CarData stream against a bare aiomqtt subscriber.

``evclient simulator`` runs in its own process (its broker's work is not counted); this process holds one
subscriber at a time on the simulator's broker, over real loopback MQTT, for the same car:

* **raw**: aiomqtt subscribed to the owner's topic, doing nothing but ``json.loads`` of each message;
* **evclient**: the account's own stream, each value heard through ``account.subscribe``;
* **evclient + status**: the same, heard through ``account.subscribe_status`` (the car's status, changed fields).

Each hears 1,000 messages at 200 a second (latency from the simulator's send to the listener, and CPU), then
20,000 queued and drained (messages per CPU second: what one core could drain); each three times, medians kept. The last
line is one JSON object: ``evclient_p50_ms``, ``raw_p50_ms``, ``cpu_ratio`` (evclient's CPU per message at 200/s
over raw's), ``max_msgs_ratio`` (evclient's messages per CPU second over raw's), ``status_cpu_ratio`` (with a
status listener, CPU per drained message over raw's).

    python benchmarks/stream.py [--messages 1000] [--burst 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import aiomqtt
from yarl import URL

import evclient
from evclient.simulator.brands.bmw_cardata import DEMO_CLIENT_ID
from evclient.simulator.process import simulator_process
from evclient.simulator.server import servers_for

RATE = 200.0
ROUNDS = 3
#: How long the loop is held while a burst is queued, per 1,000 messages (the broker sends ~15,000 a second).
QUEUE_SECONDS_PER_1000 = 0.1


async def control(base: str, path: str, body: dict[str, Any]) -> Any:
    async with aiohttp.ClientSession() as http, http.post(base + path, json=body) as response:
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {await response.text()}")
        return await response.json()


class Heard:
    """What one subscriber heard: the send-to-listener delays, and when it has all it waits for."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.count = 0
        self.wanted = 0
        self.done: asyncio.Event = asyncio.Event()

    def expect(self, count: int) -> None:
        self.delays.clear()
        self.count = 0
        self.wanted = count
        self.done.clear()

    def message(self, entity_id: str) -> None:
        if not entity_id.startswith("bench-"):
            return
        self.delays.append(time.monotonic() - float(entity_id.rsplit("-", 1)[1]))
        self.count += 1
        if self.count >= self.wanted:
            self.done.set()


async def measure(base: str, vin: str, heard: Heard, count: int, rate: float) -> dict[str, float]:
    """Send ``count`` messages at ``rate`` and time what the subscriber spends hearing them. With ``rate`` 0
    they are queued first (this process's loop held while the broker sends), then drained: each subscriber
    then reads full buffers, so its CPU per message is its own work, not how often it woke up."""
    await asyncio.sleep(0.3)  # the subscription settled
    heard.expect(count)
    if rate:
        cpu, wall = time.process_time(), time.perf_counter()
        await control(base, "/_sim/bmw-cardata/publish", {"vin": vin, "count": count, "rate": rate})
    else:
        sending = asyncio.ensure_future(control(base, "/_sim/bmw-cardata/publish", {"vin": vin, "count": count}))
        await asyncio.sleep(0.05)  # the request is out
        time.sleep(QUEUE_SECONDS_PER_1000 * count / 1000)  # noqa: ASYNC251 - holding the loop is the point
        cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.wait_for(heard.done.wait(), timeout=120)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if not rate:
        await sending
    ordered = sorted(heard.delays)
    return {"p50_ms": 1000 * statistics.median(ordered), "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
            "cpu_us_per_msg": 1e6 * cpu / count, "msgs_per_cpu_s": count / cpu, "msgs_per_s": count / wall}


@contextlib.asynccontextmanager
async def raw_subscriber(account: evclient.Account, heard: Heard) -> AsyncIterator[None]:
    credentials = account.auth.stream_credentials(account.clock.wall())  # type: ignore[attr-defined]
    gcid, id_token, _ = credentials
    url = URL(account.servers["stream"])
    async with aiomqtt.Client(url.host or "", url.port or 80, username=gcid, password=id_token, keepalive=30,
                              transport="websockets", websocket_path=url.path or "/",
                              identifier="bench-raw") as client:
        await client.subscribe(f"{gcid}/+")

        async def consume() -> None:
            async for message in client.messages:
                payload = message.payload
                assert isinstance(payload, bytes)
                heard.message(json.loads(payload)["entityId"])

        task = asyncio.create_task(consume())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def entity(vehicle: evclient.Vehicle) -> str:
    raw = vehicle.endpoints["telematics"].raw
    return str(raw.get("entityId", "")) if isinstance(raw, dict) else ""


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


async def run_side(name: str, base: str, vin: str, heard: Heard, messages: int, burst: int,
                   rounds: int = ROUNDS) -> dict[str, Any]:
    # Each figure is the median of three runs: the simulator's process shares the machine, and one slow second
    # of it would otherwise decide a ratio.
    slow = _median([await measure(base, vin, heard, messages, RATE) for _ in range(rounds)])
    fast = _median([await measure(base, vin, heard, burst, 0) for _ in range(rounds)])
    print(f"{name:>18}: p50 {slow['p50_ms']:.2f} ms, p95 {slow['p95_ms']:.2f} ms, "
          f"{slow['cpu_us_per_msg']:.0f} µs CPU/msg at {RATE:.0f}/s; burst: {fast['msgs_per_cpu_s']:.0f} msgs "
          f"per CPU second ({fast['cpu_us_per_msg']:.0f} µs/msg), {fast['msgs_per_s']:.0f} msgs/s", flush=True)
    return {"slow": slow, "fast": fast}


async def main_async(messages: int, burst: int, rounds: int = ROUNDS) -> dict[str, Any]:
    with simulator_process() as base:
        servers = servers_for("bmw-cardata", base)
        try:
            account = await evclient.connect("bmw-cardata", servers=servers, client_id=DEMO_CLIENT_ID)
        except evclient.TwoFactorRequired as asked:
            challenge = asked.challenge
            assert isinstance(challenge, evclient.DeviceCodeChallenge)
            await control(base, "/_sim/bmw-cardata/approve", {"user_code": challenge.user_code})
            account = await challenge.wait()
        async with account:
            car = (await account.vehicles())[0]
            results: dict[str, Any] = {}
            raw = Heard()
            async with raw_subscriber(account, raw):
                results["raw"] = await run_side("raw aiomqtt", base, car.vin, raw, messages, burst, rounds)
            ours = Heard()
            connected = asyncio.Event()
            account.subscribe_stream(lambda state: connected.set() if state.connected else None)
            await account.start()
            await asyncio.wait_for(connected.wait(), timeout=30)
            listeners: list[Callable[[], None]] = [
                account.subscribe(lambda vehicle, names: ours.message(entity(vehicle)))]
            results["evclient"] = await run_side("evclient", base, car.vin, ours, messages, burst, rounds)
            listeners.pop()()
            account.subscribe_status(lambda vehicle, status, fields: ours.message(entity(vehicle)))
            results["status"] = await run_side("evclient + status", base, car.vin, ours, messages, burst, rounds)
            return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    results = asyncio.run(main_async(args.messages, args.burst, args.rounds))
    raw, ours, status = results["raw"], results["evclient"], results["status"]
    figures = {
        "evclient_p50_ms": round(ours["slow"]["p50_ms"], 3),
        "raw_p50_ms": round(raw["slow"]["p50_ms"], 3),
        "cpu_ratio": round(ours["slow"]["cpu_us_per_msg"] / raw["slow"]["cpu_us_per_msg"], 3),
        "max_msgs_ratio": round(ours["fast"]["msgs_per_cpu_s"] / raw["fast"]["msgs_per_cpu_s"], 3),
        "status_cpu_ratio": round(status["fast"]["cpu_us_per_msg"] / raw["fast"]["cpu_us_per_msg"], 3),
        "evclient_us_per_msg": round(ours["fast"]["cpu_us_per_msg"], 1),
        "raw_us_per_msg": round(raw["fast"]["cpu_us_per_msg"], 1),
        "status_us_per_msg": round(status["fast"]["cpu_us_per_msg"], 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
