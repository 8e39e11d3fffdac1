"""Streams: pushed and polled values through one way in, and polls only when due — a day in virtual time
against the test cloud's WebSocket over real loopback, counted from the cloud's own request log."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

import pytest

import evclient
from evclient.streams import BACKOFF_MAX
from tests.testbrand import PUSHED

HOUR = 3600.0
VIN = "VF1SLXXXX00000001"
#: The solo car's seven endpoints with the 54 polls an hour the budget leaves: a poll every 66.7 s.
TICK = 3600.0 / 54


def reads(cloud, names, since: float = -1.0, until: float = float("inf")) -> int:
    """REST reads of these endpoints the cloud logged in (since, until] (the cloud's loop seconds)."""
    return sum(1 for e in cloud.log if e.route == "data" and e.path.rsplit("/", 1)[1] in names
               and since < e.t <= until)


@contextlib.asynccontextmanager
async def pushing(cloud, every: float = 600.0):
    """The cloud pushes e1 and e2 every ``every`` seconds while the block runs."""
    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            for name in PUSHED:
                await cloud.push(VIN, name)

    task = asyncio.ensure_future(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until_connected(account, limit: float = 2 * BACKOFF_MAX) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not account.stream_state.connected:
        assert loop.time() < end, account.stream_state
        await asyncio.sleep(1)


async def test_a_day_with_the_stream_up_down_flapping_and_silent(cloud):
    clock = cloud.clock
    seen: list[tuple[float, str, str | None]] = []
    async with cloud.connect("solo", stream=True, stream_silence=1800.0) as account:
        account.subscribe(lambda car, names: seen.extend(
            (clock.now(), n, car.endpoints[n].source) for n in names))
        car = (await account.vehicles())[0]
        await account.start()
        await until_connected(account)
        async with pushing(cloud):
            # Six hours up: the pushed endpoints cost no REST call; the five others share the budget.
            start = clock.now()
            await asyncio.sleep(6 * HOUR)
            up = clock.now()
            assert reads(cloud, PUSHED, since=start + 60, until=up) == 0
            others = reads(cloud, ("e3", "e4", "e5", "e6", "e7"), since=start, until=up)
            assert others >= 0.95 * 6 * 54  # every tick still used, by the endpoints the stream does not keep
            assert car.endpoints["e1"].source == "push"
            assert cloud.clock.wall() - car.endpoints["e1"].fetched_at <= 600 + 1

            # An hour down: e1 and e2 rejoin the plan at the budget's rate, and leave it again after.
            cloud.stream_up = False
            await cloud.drop_streams()
            await asyncio.sleep(HOUR)
            down = clock.now()
            assert not account.stream_state.connected
            during = reads(cloud, ("e1",), since=up, until=down)
            assert 5 <= during <= 10  # every 7 × 66.7 s ≈ 7.8 min
            cloud.stream_up = True
            await until_connected(account)
            back = clock.now()
            await asyncio.sleep(2 * HOUR)
            assert reads(cloud, PUSHED, since=back + 60, until=clock.now()) == 0, [
                (e.t - back, e.path) for e in cloud.log if e.t > back - 100 and e.route in ("data", "stream")]

            # Flapping for two hours: up five minutes, down five minutes. The back-off keeps the connection
            # attempts few; the values never get older than a poll period and a push interval.
            connects = cloud.stream_connects
            flap_start = clock.now()
            for _ in range(12):
                await asyncio.sleep(300)
                cloud.stream_up = not cloud.stream_up
                if not cloud.stream_up:
                    await cloud.drop_streams()
            cloud.stream_up = True
            assert cloud.stream_connects - connects <= 12

        # Silent: connected, but nothing pushed for longer than the brand allows (30 min) — polled again.
        await until_connected(account)
        quiet_from = clock.now()
        await asyncio.sleep(3 * HOUR)
        assert account.stream_state.connected
        silent_reads = reads(cloud, ("e1",), since=quiet_from + 1800 + TICK * 8, until=clock.now())
        assert silent_reads >= 10
        # It speaks again: the pushed endpoints leave the plan.
        await cloud.push(VIN, "e1")
        spoke = clock.now()
        await asyncio.sleep(600)
        assert reads(cloud, PUSHED, since=spoke + TICK, until=clock.now()) == 0
        flap_end = clock.now()
    assert cloud.max_in_window(HOUR) <= 60
    e1_times = [t for t, n, _ in seen if n == "e1" and flap_start <= t <= flap_end]
    gaps = [b - a for a, b in itertools.pairwise(e1_times)]
    # News of e1 even while flapping or silent: at worst the allowed silence after a reconnect's back-off.
    assert len(e1_times) > 20 and max(gaps) <= 1800 + 1.2 * BACKOFF_MAX + 4 * TICK


async def test_a_kick_by_another_connection_is_not_fought(cloud):
    async with cloud.connect("solo", stream=True) as account:
        await account.start()
        await until_connected(account)
        before = cloud.stream_connects
        await cloud.drop_streams(code=4000, message="another connection")
        await asyncio.sleep(10)
        state = account.stream_state
        assert not state.connected and "kicked" in (state.last_error or "")
        assert state.next_attempt_at is not None and state.next_attempt_at - cloud.clock.wall() > 1700
        await asyncio.sleep(1700)
        assert cloud.stream_connects == before  # not once in the half hour the brand asked for
        await asyncio.sleep(200)
        assert cloud.stream_connects == before + 1 and account.stream_state.connected
        assert account.stream_state.reconnects == 1


async def test_pushed_and_polled_values_share_one_way_in(cloud):
    heard: list[tuple[str, int]] = []
    cloud.changing = False
    async with cloud.connect("solo", stream=True) as account:
        account.subscribe(lambda car, names: heard.extend((n, car.endpoints[n].value.value) for n in names
                                                          if car.endpoints[n].value is not None))
        car = (await account.vehicles())[0]
        await account.start()
        await until_connected(account)
        cloud.values[(VIN, "e1")] = 5
        await cloud.push(VIN, "e1", 5)
        await asyncio.sleep(1)
        assert heard.count(("e1", 5)) == 1
        await car.refresh("e1")  # the same value by REST: no second notification
        assert heard.count(("e1", 5)) == 1
        assert car.endpoints["e1"].source == "read"
        # A value the car measured later wins, whatever arrives after it.
        await cloud.push(VIN, "e1", 9, measured=cloud.clock.wall() + 600)
        await asyncio.sleep(1)
        assert car.endpoints["e1"].value.value == 9
        await car.refresh("e1")  # the server's REST answer still says 5, measured now: older
        assert car.endpoints["e1"].value.value == 9 and car.endpoints["e1"].source == "push"
        # A malformed message does not stop the stream.
        for _, ws in cloud.sockets:
            await ws.send_str('{"vin": 1}')
            await ws.send_str("not json")
        await cloud.push(VIN, "e2", 3)
        await asyncio.sleep(1)
        assert car.endpoints["e2"].value is not None and car.endpoints["e2"].value.value == 3
        report = await account.diagnostics()
        assert report["stream"]["connected"] and report["stream"]["messages"] >= 3


async def test_a_stream_that_needs_a_missing_extra_polls_and_says_so_once(cloud, caplog):
    caplog.set_level(logging.WARNING, logger="evclient")
    async with cloud.connect("solo", stream=True, stream_requires="evclient_no_such_module") as account:
        await account.start()
        await asyncio.sleep(HOUR)
        await account.stop()
        await account.start()
        await asyncio.sleep(600)
        assert not account.stream_state.available and not account.stream_state.connected
        assert cloud.stream_connects == 0
        assert reads(cloud, PUSHED) >= 10  # polled like any endpoint
    said = [r for r in caplog.records if "not installed" in r.getMessage()]
    assert len(said) == 1 and "evclient_no_such_module" in said[0].getMessage()


async def test_the_application_hears_rotated_tokens_at_once(cloud):
    cloud.token_lifetime = 2000.0
    saved: list[dict] = []
    async with cloud.connect("solo", stream=True) as account:
        account.subscribe_tokens(saved.append)
        await account.start()
        await until_connected(account)
        await asyncio.sleep(2 * HOUR)  # the token is renewed (by polls, and by the stream's reconnects)
    assert saved and cloud.count("refresh") >= 2
    assert saved[-1]["token"] != saved[0]["token"]
    assert all(s["brand"] == "test" for s in saved)


async def test_stream_state_listeners_and_stop(cloud):
    states: list[evclient.streams.StreamState] = []
    async with cloud.connect("solo", stream=True) as account:
        account.subscribe_stream(states.append)
        await account.start()
        await until_connected(account)
        await account.stop()
        assert not account.stream_state.running and not account.stream_state.connected
        await asyncio.sleep(5)
        assert cloud.sockets == []  # the connection is closed, not left behind
    assert any(s.connected for s in states) and not states[-1].connected


@pytest.mark.parametrize("stream", [False, True])
async def test_a_tick_with_nothing_due_spends_nothing(cloud, stream):
    """Values that are fresh from any source are not polled: reading everything just before start() means
    the first polls come a period later, not at once."""
    async with cloud.connect("solo", stream=stream) as account:
        car = (await account.vehicles())[0]
        for name in car.endpoints:
            if name != "history":
                await car.refresh(name)
        before = cloud.count("data")
        await account.start()
        await asyncio.sleep(5 * TICK)
        assert cloud.count("data") == before


async def test_per_key_times_merge_so_no_older_key_overwrites_a_newer_one(cloud):
    """A brand whose values carry a time per key (CarData's telematics) merges them: each key keeps the newest."""
    import types

    from evclient.api import VehicleInfo
    from evclient.endpoint import Endpoint, EndpointSpec
    from evclient.events import EventBus
    from evclient.listeners import subscribe_values
    from evclient.status import VehicleStatus, whole
    from evclient.vehicle import Source, Vehicle

    def merge(old: dict, new: dict) -> dict:
        merged = dict(old)
        for key, (value, at) in new.items():
            if key not in merged or merged[key][1] <= at:
                merged[key] = (value, at)
        return merged

    spec = EndpointSpec(name="telematics", path="/t", parse=dict, merge=merge)
    endpoint: Endpoint = Endpoint(spec)
    heard: list[frozenset[str]] = []
    bus = EventBus()
    subscribe_values(bus, lambda car, names: heard.append(names))
    brand = types.SimpleNamespace(status_parts=lambda: whole(lambda endpoints: VehicleStatus()), endpoints=(spec,))
    car = Vehicle(VehicleInfo(vin="VF1SLXXXX00000001"), {"telematics": endpoint}, brand=brand, events=bus,
                  reader=None, commands=None)  # type: ignore[arg-type]
    car.store("telematics", {"soc": (50, 100.0), "lat": (1.0, 100.0)}, source=Source.PUSH, received_at=100.0)
    car.store("telematics", {"soc": (48, 90.0)}, source=Source.POLL, received_at=110.0)  # older: kept out
    car.store("telematics", {"lat": (2.0, 120.0)}, source=Source.PUSH, received_at=120.0)  # newer: merged in
    assert endpoint.value == {"soc": (50, 100.0), "lat": (2.0, 120.0)}
    assert len(heard) == 2  # the poll that changed nothing told nobody


# -- reconnecting is the runner's: the brand's stream only connects -------------------------------------------


def stream_times(cloud) -> list[float]:
    return [e.t for e in cloud.log if e.route == "stream"]


async def test_the_runner_replaces_a_connection_when_its_credentials_run_out_without_an_outage(cloud):
    async with cloud.connect("solo", stream=True) as account:
        account.session.lifetime = 900.0  # the stream says when its token runs out; the runner acts on it
        await account.start()
        await until_connected(account)
        first = stream_times(cloud)[-1]
        polled = reads(cloud, PUSHED)
        outages = []
        account.subscribe_stream(lambda state: outages.append(state) if not state.connected else None)
        await asyncio.sleep(3 * 900 + 30)
        opened = [t - first for t in stream_times(cloud) if t >= first]
        assert [round(t) for t in opened] == [0, 901, 1802, 2703]  # at each end, a new one a second later
        state = account.stream_state
        assert state.connected and state.reconnects == 3 and state.short_drops == 0
        assert all("renewing the stream's credentials" in (s.last_error or "") for s in outages)
        assert reads(cloud, PUSHED) == polled  # a planned renewal is no outage: nothing polled meanwhile


async def test_refused_credentials_are_renewed_once_then_waited_out_longer_and_longer(cloud):
    async with cloud.connect("solo", stream=True) as account:
        cloud.stream_refuses = True
        renewals = cloud.count("refresh") + cloud.count("login")
        await account.start()
        await asyncio.sleep(4 * HOUR)
        tried = stream_times(cloud)
        gaps = [round(b - a) for a, b in itertools.pairwise(tried)]
        assert gaps[:5] == [5, 60, 900, 1800, 3600], gaps  # 5 s (renewed), 1 min, then 15 min doubling
        assert cloud.count("refresh") + cloud.count("login") == renewals + 1  # one renewal for the whole run
        state = account.stream_state
        assert not state.connected and "refused the token" in (state.last_error or "")
        assert reads(cloud, PUSHED) > 0  # a refusal is an outage: the pushed endpoints were polled meanwhile
        cloud.stream_refuses = False
        await asyncio.sleep(6 * 3600 + 60)
        assert account.stream_state.connected  # the longest wait is six hours; it came back within it
        assert cloud.count("refresh") + cloud.count("login") <= renewals + 2


async def test_drops_soon_after_opening_are_counted_and_said_as_the_brand_explains_them(cloud):
    hint = "the cloud does this when another app connects"
    async with cloud.connect("solo", stream=True, stream_spec={"short": 120.0, "short_drops_hint": hint}) as account:
        await account.start()
        await until_connected(account)
        for _ in range(2):
            await asyncio.sleep(10)
            await cloud.drop_streams()
            await asyncio.sleep(1)
            await until_connected(account)
        errors = account.stream_state.last_error or ""
        assert account.stream_state.short_drops == 2
        assert "closed the connection 2 times in a row within 2 minutes" in errors and hint in errors
        await asyncio.sleep(300)  # a connection that lasts: the next drop starts the count again
        await cloud.drop_streams()
        await asyncio.sleep(1)
        assert account.stream_state.short_drops == 0 and hint not in (account.stream_state.last_error or "")


async def test_pushed_endpoints_are_read_once_after_the_first_connection_and_after_a_long_outage(cloud):
    async with cloud.connect("solo", stream=True, stream_spec={"read_after_outage": 600.0}) as account:
        car = (await account.vehicles())[0]
        await car.refresh("e1")  # fresh: the reads after connecting leave it alone
        await account.start()
        await until_connected(account)
        await asyncio.sleep(5)
        assert reads(cloud, {"e1"}) == 1 and reads(cloud, {"e2"}) == 1
        await cloud.drop_streams()  # a short outage: back within seconds, nothing read again
        await asyncio.sleep(1)
        await until_connected(account)
        await asyncio.sleep(5)
        assert reads(cloud, PUSHED) == 2
        await account.stop()  # a long one, with nothing polled meanwhile (the application stopped the account)
        since = cloud.clock.now()
        await asyncio.sleep(1200)
        assert reads(cloud, PUSHED, since) == 0
        await account.start()
        await until_connected(account)
        await asyncio.sleep(5)
        assert reads(cloud, {"e1"}, since) == 1 and reads(cloud, {"e2"}, since) == 1
