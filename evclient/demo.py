"""``evclient demo``: one simulated hour of evclient at work, in well under a minute.

The demo runs client and simulator on one event loop whose clock runs ``speed`` times faster than
real time (its selector waits are shortened to match), so the scheduler, the poller, token lifetimes
and the cars' physics all see the same accelerated hour.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import selectors
import sys
import time
from typing import Any

from . import brands
from .account import Account
from .auth import DeviceCodeChallenge
from .command import StatusChange
from .connect import connect
from .display import summary, table
from .errors import EVClientError, TwoFactorRequired
from .redact import mask_vin
from .simulator import DEMO_USERNAME, Simulator
from .status import VehicleStatus
from .transport import Timeouts

SIMULATED_HOUR = 3600.0


class _ScaledSelector(selectors.DefaultSelector):
    def __init__(self, speed: float) -> None:
        super().__init__()
        self._speed = speed

    def select(self, timeout: float | None = None) -> Any:
        return super().select(None if timeout is None else timeout / self._speed)


class FastForwardLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` runs ``speed`` times faster than the monotonic clock."""

    def __init__(self, speed: float) -> None:
        super().__init__(_ScaledSelector(speed))
        self._speed = speed
        self._origin = time.monotonic()

    def time(self) -> float:
        return self._origin + (time.monotonic() - self._origin) * self._speed


def _mqtt_keepalive_on(loop: asyncio.AbstractEventLoop) -> None:
    """paho keeps MQTT keep-alives on the monotonic clock; on a fast-forward loop the broker would see a silent
    client. The demo owns its loop, so it puts paho on the loop's clock (when the stream's extra is there)."""
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        return
    mqtt.time_func = loop.time


def _out(text: str = "") -> None:
    print(text, flush=True)


#: The status fields whose change the demo shows as it happens (the battery: each whole percent).
SHOWN = frozenset({"charge_state", "locked", "climate_on"})


def _status_line(status: VehicleStatus) -> str:
    """A car's news in one line, from its brand-agnostic status (whatever the brand and however it came)."""
    parts = []
    if status.battery_percent is not None:
        parts.append(f"battery {status.battery_percent:g} %")
    if status.charge_state is not None:
        parts.append(status.charge_state.value)
    if status.range_km is not None:
        parts.append(f"range {status.range_km:g} km")
    if status.locked is not None:
        parts.append("locked" if status.locked else "unlocked")
    if status.climate_on is not None:
        parts.append(f"climate {'on' if status.climate_on else 'off'}")
    source = status.sources.get("battery_percent")
    return ", ".join(parts) + (f" ({source})" if source else "")


def _most_against_quota(sim: Simulator, brand: str) -> int:
    """The most requests one account sent in any hour that the brand's quota counts (MyRenault's Gigya
    calls are not: they have a budget of their own)."""
    accounts = {e.account for e in sim.requests(brand=brand) if e.account is not None}
    return max((sim.max_in_window(3600.0, brand=brand, account=a) for a in accounts), default=0)


def _spacing(times: list[float]) -> tuple[float, float, float]:
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return (min(gaps), sum(gaps) / len(gaps), max(gaps)) if gaps else (0.0, 0.0, 0.0)


async def _demo(speed: float) -> int:
    started = time.monotonic()
    sim = Simulator()
    await sim.start()
    accounts: dict[str, Account] = {}
    try:
        _out(f"evclient demo: the simulator serves {', '.join(sim.brands)} on {sim.url}; "
             f"time runs {speed:g}x faster than real time")
        for name in brands.names():
            if name not in sim.brands:
                continue
            # Timeouts are in loop seconds: scale them so a real-time hiccup is not a "timeout".
            timeouts = Timeouts(30.0 * speed, 60.0 * speed)
            credentials: dict[str, Any] = sim.brands[name].demo_credentials()
            try:
                accounts[name] = await connect(name, servers=sim.servers(name), timeouts=timeouts, **credentials)
            except TwoFactorRequired as asked:
                challenge = asked.challenge
                if not isinstance(challenge, DeviceCodeChallenge):
                    raise
                # A device login: the simulated owner approves on the brand's page a few seconds later.
                _out(f"{name}: open {challenge.verification_uri} and enter {challenge.user_code} … (the simulated "
                     "owner approves)")
                accounts[name] = await challenge.wait()

        for name, account in accounts.items():
            _out(f"\n== {name}: {DEMO_USERNAME}")
            for n, car in enumerate(await account.vehicles()):
                _out(f"{mask_vin(car.vin)}  model {car.model or '-'}  commands: {', '.join(car.commands)}")
                rows = []
                for endpoint, state in car.endpoints.items():
                    if state.supported is False:
                        continue
                    # On-demand endpoints are shown on the first car only (and not those that need a date
                    # range): each read spends budget the hour of polling below would rather have.
                    if not state.spec.poll and (n or state.spec.needs_parameters(car.info.context)):
                        continue
                    try:
                        rows.append(["  " + endpoint, summary(await car.refresh(endpoint), 90)])
                    except EVClientError as err:
                        rows.append(["  " + endpoint, f"error: {err}"])
                table(rows)

        _out("\n== background polling for one simulated hour (a command is sent 10 minutes in)")
        loop = asyncio.get_running_loop()
        t0 = loop.time()

        percents: dict[str, int] = {}

        def heard(brand: str, vehicle: Any, status: VehicleStatus, moved: frozenset[str]) -> None:
            percent = int(status.battery_percent) if status.battery_percent is not None else -1
            if moved & SHOWN or percents.get(vehicle.vin, percent) != percent:
                _out(f"  +{(loop.time() - t0) / 60:5.1f} min  {brand} {mask_vin(vehicle.vin)} {_status_line(status)}")
            percents[vehicle.vin] = percent

        for name, account in accounts.items():
            account.subscribe_status(functools.partial(heard, name))
            await account.start()
        wall0 = sim.world.clock.wall()
        await asyncio.sleep(600.0)
        for name, account in accounts.items():
            action = sim.brands[name].rehearsal.action
            if action is None:
                continue  # a read-only brand
            command = action.name
            car = await account.vehicle(sim.brands[name].rehearsal.vin)
            _out(f"  {name}: {command} on {mask_vin(car.vin)}")

            def walk(change: StatusChange, brand: str = name) -> None:
                _out(f"  +{(loop.time() - t0) / 60:5.1f} min  {brand} command status: {change.status}")

            try:
                result = await car.act(action, progress=walk)
                _out(f"  {name}: {command} done ({result.status}) after {result.elapsed:.0f} s "
                     f"and {result.polls} status reads")
            except EVClientError as err:
                _out(f"  {name}: {command} did not succeed: {err}")
        await asyncio.sleep(max(0.0, t0 + SIMULATED_HOUR - loop.time()))
        streams = {name: account.stream_state for name, account in accounts.items() if account.stream_state.supported}
        for account in accounts.values():
            await account.stop()

        _out("\n== what the servers saw (from the simulator's request log)")
        rows = [["BRAND", "IN THE HOUR", "PER 10 MINUTES", "GAP min/mean/max", "MOST IN ANY HOUR", "QUOTA"]]
        for name in accounts:
            times = sorted(e.t for e in sim.requests(brand=name) if e.t >= wall0)
            buckets = [sum(1 for t in times if wall0 + i * 600 <= t < wall0 + (i + 1) * 600) for i in range(6)]
            low, mean, high = _spacing(times)
            rows.append([name, str(len(times)), " ".join(f"{b:2d}" for b in buckets),
                         f"{low:.0f} / {mean:.0f} / {high:.0f} s", str(_most_against_quota(sim, name)),
                         f"{sim.quotas[name].limit} per {sim.quotas[name].seconds / 3600:g} h"])
        table(rows)
        _out("(one poll per tick of the hour's share of the budget; every other request - the status reads just "
             "before the hour, the command and its status reads - goes out at once and takes the place of the next "
             "tick; a brand that streams spends REST calls only at start-up and after an outage)")
        for name, stream in streams.items():
            _out(f"{name} stream at the end of the hour: connected {stream.connected}, {stream.messages} messages, "
                 f"{stream.reconnects} reconnections (for fresh id tokens)")

        _out("\n== budget (evclient's own count)")
        rows = [["BRAND", "WINDOW", "USED", "LIMIT", "POLLING MAY USE", "REFUSED BY SERVER"]]
        for name, account in accounts.items():
            refused = sum(1 for e in sim.requests(brand=name) if e.fault == "quota")
            for window in account.budget.windows:
                rows.append([name, window.name, str(window.used), str(window.limit), str(window.poll_limit),
                             str(refused)])
        table(rows)
        _out(f"\ndemo finished in {time.monotonic() - started:.1f} s real time")
        return 0
    finally:
        for account in accounts.values():
            await account.close()
        await sim.close()


def run_demo(speed: float = 200.0) -> int:
    """Run the demo on a fast-forward loop; returns the exit code."""
    if speed <= 0:
        print("evclient demo: --speed must be positive", file=sys.stderr)
        return 2
    loop = FastForwardLoop(speed)
    _mqtt_keepalive_on(loop)
    try:
        return loop.run_until_complete(_demo(speed))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
