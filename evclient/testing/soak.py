"""The soak: weeks of polling and commands for one account per brand, with random faults, in virtual time.

Run inside a looptime loop (``benchmarks/reliability.py`` and ``tests/test_soak.py`` do). Budget violations are
counted from the simulator's own request log, never from the client's figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import tracemalloc
from typing import Any

import attrs

import evclient
import evclient.brands
from evclient.simulator import Simulator
from evclient.simulator.faults import Chaos

from .accounts import demo_login, demo_secrets, rehearsed_brands
from .budget import BudgetBook
from .leaks import leaked

DAY = 86400.0
HOUR = 3600.0



@attrs.define
class SoakReport:
    days: int
    requests: int = 0
    faults_injected: int = 0
    budget_violations: int = 0
    unhandled_exceptions: int = 0
    commands: int = 0
    commands_unresolved: int = 0
    command_outcomes: dict[str, int] = attrs.field(factory=dict)
    leaked_tasks: int = 0
    secret_leaks: int = 0
    stale_endpoints: int = 0  # polled endpoints not read in the last hours of the run: polling did not recover
    rss_growth_kb: float = 0.0
    traced_growth_kb: float = 0.0
    top_growth: list[str] = attrs.field(factory=list)  # where the traced memory grew most (file:line: size)


class _Records(logging.Handler):
    """Keeps every log line evclient writes (formatted, with exception text) to look for secrets in."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("evclient.simulator"):
            return  # the simulator is the server: its own log may name what it serves
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        self.lines.append(text)


def _rss_kb() -> float:
    """Resident memory, after handing the allocator's free pages back (the slack is not growth)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    return 0.0


async def _retrying(attempt: Any, what: str) -> Any:
    """Like an application would: a failed attempt is tried again a minute (or the asked pause) later."""
    for _ in range(60):
        try:
            return await attempt()
        except evclient.RateLimited as err:
            await asyncio.sleep((err.retry_after or 900.0) + 1)
        except evclient.EVClientError:
            await asyncio.sleep(60)
    raise RuntimeError(f"{what}: no success in 60 tries")


async def _connect(sim: Simulator, brand: str) -> evclient.Account:
    account: evclient.Account = await _retrying(lambda: demo_login(sim, brand), f"{brand} login")
    await _retrying(account.vehicles, f"{brand} listing")
    return account


async def soak(
    *, days: int = 30, rate: float = 0.05, seed: int = 7, command_every: float = 3 * HOUR, trace: bool = True
) -> SoakReport:
    """Run the soak and return its figures (every failure count should be 0).

    ``trace`` follows Python's allocations with tracemalloc (``traced_growth_kb``); its own tables live in
    the process too, so the RSS figure is truer without it.
    """
    report = SoakReport(days=days)
    records = _Records()
    logger = logging.getLogger("evclient")
    previous_level = logger.level
    logger.addHandler(records)
    logger.setLevel(logging.DEBUG)
    with contextlib.suppress(ImportError):
        import paho.mqtt.client as mqtt

        mqtt.time_func = asyncio.get_running_loop().time  # MQTT keep-alives on the (virtual) loop's clock
    sim = Simulator()
    await sim.start()
    sim.chaos = Chaos(rate, seed)
    rehearsals = rehearsed_brands()
    accounts = {brand: await _connect(sim, brand) for brand in rehearsals}
    secrets = {secret for brand in rehearsals for secret in demo_secrets(brand)}
    tasks: list[asyncio.Task[None]] = []
    try:
        for account in accounts.values():
            await account.start()

        async def commands(brand: str, account: evclient.Account) -> None:
            action = rehearsals[brand].action
            if action is None:
                return  # a read-only brand
            while True:
                await asyncio.sleep(command_every)
                cars = [car for car in account.cached_vehicles() if car.can(action)]
                if not cars:
                    continue
                car = cars[report.commands % len(cars)]
                report.commands += 1
                try:
                    result = await asyncio.wait_for(car.act(action), 2 * HOUR)
                    outcome = result.status
                except TimeoutError:
                    report.commands_unresolved += 1
                    outcome = "hung"
                except evclient.EVClientError as err:
                    outcome = type(err).__name__
                except Exception:
                    report.unhandled_exceptions += 1
                    report.commands_unresolved += 1
                    outcome = "unhandled"
                report.command_outcomes[outcome] = report.command_outcomes.get(outcome, 0) + 1

        tasks = [asyncio.create_task(commands(b, a)) for b, a in accounts.items()]
        book = BudgetBook()  # every window of every brand's budget, from the server's side
        gc.collect()
        if trace:
            tracemalloc.start()
        baseline_rss = baseline_traced = 0.0
        first: tracemalloc.Snapshot | None = None
        for day in range(days):
            await asyncio.sleep(DAY)
            for account in accounts.values():
                for token in _token_values(account.tokens):
                    secrets.add(token)
            report.secret_leaks += _leaks(records, secrets)
            # Count each account's requests in every window of its brand's budget from the simulator's log,
            # then empty the log so that a month of it does not pass for a leak (the book keeps what windows reach).
            for entry in sim.log:
                report.requests += 1
                if entry.fault == "quota":  # the simulator's own quota refused it: the client overspent
                    report.budget_violations += 1
            book.add(sim.log)
            sim.log.clear()
            report.budget_violations += len(book.violations())
            book.forget_before(sim.world.clock.wall())
            for car in sim.world.cars.values():
                car.extra.pop("actions", None)
            if day == 1:
                gc.collect()
                baseline_rss, baseline_traced = _rss_kb(), tracemalloc.get_traced_memory()[0] / 1024
                # A snapshot is megabytes of its own: only when asked where the memory goes.
                first = tracemalloc.take_snapshot() if trace and os.environ.get("EVCLIENT_SOAK_TOP") else None
        report.requests += len(sim.log)
        gc.collect()
        if days > 2:  # growth is counted from the end of the second day (warm caches, pools, tokens)
            report.rss_growth_kb = round(_rss_kb() - baseline_rss, 1)
        if trace:
            report.traced_growth_kb = round(tracemalloc.get_traced_memory()[0] / 1024 - baseline_traced, 1)
        if first is not None:
            report.top_growth = [str(stat) for stat in tracemalloc.take_snapshot().compare_to(first, "lineno")[:8]]
        if trace:
            tracemalloc.stop()
        now = sim.world.clock.wall()
        for account in accounts.values() if days else ():  # a run of no days has polled nothing yet
            for vehicle in account.cached_vehicles():
                for endpoint in vehicle.endpoints.values():
                    if endpoint.spec.pushed and account.stream_state.connected:
                        continue  # kept fresh by a connected stream: a quiet car has nothing new to say
                    # Six hours past its own period (an endpoint read once a day is stale after thirty).
                    allowed = (endpoint.spec.every or 0.0) + 6 * HOUR
                    if endpoint.spec.poll and endpoint.supported and (endpoint.fetched_at or 0) < now - allowed:
                        report.stale_endpoints += 1
        report.faults_injected = sim.chaos.injected
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        for account in accounts.values():
            await account.close()
        await sim.close()
        logger.removeHandler(records)
        logger.setLevel(previous_level)
    await asyncio.sleep(0)
    report.leaked_tasks = len([t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()])
    report.secret_leaks += _leaks(records, secrets)
    return report


def _leaks(records: _Records, secrets: set[str]) -> int:
    """Secrets found in the log lines written since the last look (which are then dropped)."""
    lines, records.lines = records.lines, []
    return sum(1 for line in lines if leaked(line, secrets))


def _token_values(tokens: Any) -> list[str]:
    if isinstance(tokens, dict):
        return [v for value in tokens.values() for v in _token_values(value)]
    return [tokens] if isinstance(tokens, str) and len(tokens) >= 16 else []
