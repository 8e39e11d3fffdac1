"""BMW CarData against the simulator over loopback, with the simulator's real MQTT broker, in virtual time."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json

import paho.mqtt.client
import pytest

import evclient
from evclient import AuthenticationError, InvalidCredentialsError, InvalidInputError, NotSupportedError
from evclient.brands.bmw_cardata import keys
from evclient.brands.bmw_cardata.errors import DeviceLoginDenied
from evclient.brands.bmw_cardata.models import Page, TelematicValue
from evclient.simulator.brands.bmw_cardata import DEMO_CLIENT_ID, DEMO_GCID, BmwCarDataSim
from evclient.simulator.quota import SlidingQuota, most_in_any_window
from evclient.status import ChargeState, PlugState

IX = "WBY31AW0X0FP00001"
MINI = "WMW21DJ0X0T000002"
SHARED = "WBA11AA0X0C000003"
HOUR = 3600.0
DAY = 86400.0


@pytest.fixture(autouse=True)
async def _mqtt_on_loop_time(monkeypatch):
    """paho keeps its keep-alive on time.monotonic; the broker on the loop's clock. In virtual time both must
    read the same clock, or a virtual hour of silence looks like a dead connection to one of them."""
    monkeypatch.setattr(paho.mqtt.client, "time_func", asyncio.get_running_loop().time)  # also read from threads


def cardata(sim) -> BmwCarDataSim:
    brand = sim.brands["bmw-cardata"]
    assert isinstance(brand, BmwCarDataSim)
    return brand


def connect(sim, **kwargs):
    return evclient.connect("bmw-cardata", servers=sim.servers("bmw-cardata"), client_id=DEMO_CLIENT_ID, **kwargs)


async def login(sim, **kwargs) -> evclient.Account:
    """The device login, approved by the simulated owner after 3 s."""
    with pytest.raises(evclient.TwoFactorRequired) as asked:
        await connect(sim, **kwargs)
    challenge = asked.value.challenge
    assert isinstance(challenge, evclient.DeviceCodeChallenge)
    return await challenge.wait()


def routes(sim, name: str | None = None) -> list[str]:
    found = [e.route.split(".", 1)[1] for e in sim.requests(brand="bmw-cardata")]
    return [r for r in found if name is None or r == name]


def container_reads(sim, account, which: str) -> list:
    """The telematics reads through one of evclient's containers (``container_id`` or ``daily_container_id``)."""
    wanted = account.tokens[which]
    return [e for e in sim.requests(brand="bmw-cardata", route="bmw-cardata.telematics")
            if e.query.get("containerId") == wanted]


def rest_calls(sim) -> list:
    return [e for e in sim.requests(brand="bmw-cardata") if e.path.startswith("/bmw-cardata/api")]


# -- login -------------------------------------------------------------------------------------------------


async def test_the_device_login_polls_at_the_interval_and_keeps_every_token(sim):
    loop = asyncio.get_running_loop()
    with pytest.raises(evclient.TwoFactorRequired) as asked:
        await connect(sim)
    challenge = asked.value.challenge
    assert isinstance(challenge, evclient.DeviceCodeChallenge)
    assert challenge.verification_uri.endswith("/oneid/link") and len(challenge.user_code) == 8
    assert challenge.user_code in (challenge.verification_uri_complete or "")
    assert challenge.expires_at - sim.world.clock.wall() == pytest.approx(300, abs=2)
    started = loop.time()
    account = await challenge.wait()
    async with account:
        polls = [e.t for e in sim.requests(brand="bmw-cardata", route="bmw-cardata.token")]
        assert len(polls) == 1 and loop.time() - started >= 5  # approved at 3 s, looked at after the 5 s interval
        tokens = account.tokens
        assert {"access_token", "refresh_token", "id_token", "gcid", "expires_at", "refresh_expires_at",
                "id_expires_at"} <= set(tokens)
        assert tokens["gcid"] == DEMO_GCID and tokens["client_id"] == DEMO_CLIENT_ID
        assert "code" not in repr(challenge).lower() or challenge.user_code in repr(challenge)
    # Resumed from the tokens: no device login, no request before one is needed.
    sim.log.clear()
    async with connect(sim, tokens=tokens) as again:
        assert routes(sim) == []
        assert [c.vin for c in await again.vehicles()] == [IX, MINI]


async def test_slow_down_adds_five_seconds_and_a_refusal_is_never_retried(sim):
    cardata(sim).world.account("bmw-cardata", DEMO_CLIENT_ID).extra["approve_after"] = 60.0
    sim.fault("bmw-cardata.token", status=400, body={"error": "slow_down"}, times=1)
    account = await login(sim)
    await account.close()
    polls = [e.t for e in sim.requests(brand="bmw-cardata", route="bmw-cardata.token")]
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert gaps and all(g >= 9.9 for g in gaps)  # 5 s, and 5 more after slow_down
    # The key-management 500 uses the device code up: one poll, a clear error, no second poll.
    sim.log.clear()
    sim.fault("bmw-cardata.token", status=500, times=1, body={"fault": {"faultstring": "Invalid access token",
                                                                         "detail": {"errorcode": "keymanagement.service"
                                                                                    ".invalid_access_token"}}})
    with pytest.raises(evclient.TwoFactorRequired) as asked:
        await connect(sim)
    with pytest.raises(evclient.TwoFactorExpired, match="start the login again"):
        await asked.value.challenge.wait()
    await asked.value.challenge.close()
    assert len(routes(sim, "token")) == 1


async def test_a_declined_or_expired_login_and_an_unknown_client_id(sim):
    world_account = sim.world.account("bmw-cardata", DEMO_CLIENT_ID)
    world_account.extra["approve_after"] = None
    with pytest.raises(evclient.TwoFactorRequired) as asked:
        await connect(sim)
    cardata(sim).approve(asked.value.challenge.user_code, "deny")
    with pytest.raises(DeviceLoginDenied):
        await asked.value.challenge.wait()
    await asked.value.challenge.close()
    with pytest.raises(evclient.TwoFactorRequired) as asked:
        await connect(sim)
    with pytest.raises(evclient.TwoFactorExpired):
        await asked.value.challenge.wait()  # nobody approves within the code's 5 minutes
    await asked.value.challenge.close()
    with pytest.raises(InvalidCredentialsError, match="client id"):
        await evclient.connect("bmw-cardata", servers=sim.servers("bmw-cardata"),
                               client_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidInputError):
        await evclient.connect("bmw-cardata", servers=sim.servers("bmw-cardata"))


async def test_rotated_refresh_tokens_reach_the_application_at_once_and_a_lapsed_login_says_so(sim):
    account = await login(sim)
    saved: list[dict] = []
    account.subscribe_tokens(saved.append)
    car = await account.vehicle(IX)
    original = account.tokens["refresh_token"]
    await asyncio.sleep(3000)  # the access token is renewed 10 minutes before it expires
    await car.refresh("telematics")
    assert saved[0]["container_id"]  # the container made at the listing, kept with the tokens at once
    assert len([t for t in saved if t["refresh_token"] != original]) == 1  # the rotation heard at once
    rotated = saved[-1]["refresh_token"]
    assert rotated != original and rotated == account.tokens["refresh_token"]
    assert sim.world.token("bmw-cardata", rotated, "refresh")[1] == "ok"  # the new one is live
    await account.close()
    # …and a login whose refresh token BMW no longer knows (14 days on) asks for the device login again.
    sim.world.revoke("bmw-cardata", DEMO_CLIENT_ID, refresh=True)
    stale = {**saved[-1], "expires_at": 0}
    with pytest.raises(AuthenticationError, match="device login"):
        await connect(sim, tokens=stale)


# -- REST ---------------------------------------------------------------------------------------------------


async def test_listing_the_container_and_every_endpoint(sim):
    account = await login(sim)
    async with account:
        cars = await account.vehicles()
        assert [c.vin for c in cars] == [IX, MINI]
        assert account.session.secondary_vins == (SHARED,)
        assert routes(sim)[-3:] == ["mappings", "containers", "create-container"]
        ix = cars[0]
        values = await ix.refresh("telematics")
        assert values[keys.SOC] == TelematicValue(58.0, "percent", values[keys.SOC].timestamp)
        assert values[keys.PLUG].value == "CONNECTED" and values["vehicle.body.hood.isOpen"].value is False
        assert isinstance(values[keys.ODOMETER].value, int)
        status = ix.status
        assert status.battery_percent == 58.0 and status.charge_state is ChargeState.CHARGING
        assert status.plug_state is PlugState.PLUGGED and status.charge_power_kw == 11.0
        assert status.position is not None and status.position.heading == 270
        assert status.locked is True and status.tyre_pressures_kpa["rear_left"] == 270
        mini = cars[1]
        await mini.refresh("telematics")
        assert mini.status.openings["window_front_left"] is True and mini.status.locked is False
        basic = await ix.refresh("basic-data")
        # The live shape (no vin: the path's; countryCode; the body type in words; a +0000 date) is read.
        assert "vin" not in basic.raw and basic.vin == IX and basic.battery_kwh == 71.0
        assert basic.country_code == "DE" and basic.body_type == "Sports Activity Vehicle"
        assert basic.construction_date is not None and basic.construction_date.year == 2022
        first = await ix.refresh("charging-history", start=_ago(30), end=_ago(0))
        assert isinstance(first, Page) and len(first.items) == 10 and first.next_token
        assert first.items[0].raw["mileageUnits"] == "KM" and first.items[0].mileage_km == 21034 - 40 * 0
        # A car that counts miles (a British one): its mileage is converted, never read as kilometres.
        sim.world.car(IX).extra["miles"] = True  # type: ignore[union-attr]
        in_miles = await ix.refresh("charging-history", start=_ago(30), end=_ago(0))
        assert in_miles.items[0].raw["mileageUnits"] == "MI"
        assert in_miles.items[0].mileage_km == pytest.approx(21034, abs=2)
        sim.world.car(IX).extra["miles"] = False  # type: ignore[union-attr]
        second = await ix.refresh("charging-history", start=_ago(30), end=_ago(0), next_token=first.next_token)
        assert second.next_token is None and len(second.items) >= 1
        sent = len(rest_calls(sim))
        with pytest.raises(InvalidInputError, match="45 days"):
            await ix.refresh("charging-history", start=_ago(60), end=_ago(0))
        assert len(rest_calls(sim)) == sent  # refused before any request
        tyres = await ix.refresh("tyre-diagnosis")
        assert tyres.mounted and "frontLeft" in tyres.mounted
        # The live skeleton: both sets, every field labelled, zeros where BMW knows nothing (REFERENCE §3c).
        assert tyres.unmounted is not None and tyres.unmounted["label"] == "Unmounted"
        assert tyres.unmounted["rearRight"]["tyreWear"] == {"dueMileage": 0, "label": "Service due in"}
        settings = await ix.refresh("charging-settings")
        assert settings.items[0]["chargingMode"] == "IMMEDIATE"
        image = await ix.refresh("image")
        assert image.startswith(b"\x89PNG")
        with pytest.raises(NotSupportedError):
            await mini.refresh("image")
        with pytest.raises(NotSupportedError):
            await mini.refresh("charging-settings")
        tokens = account.tokens
    # A restart finds the container it made (kept with the tokens): no listing of containers, no new one.
    sim.log.clear()
    async with connect(sim, tokens=tokens) as again:
        await (await again.vehicle(IX)).refresh("telematics")
    assert routes(sim) == ["mappings", "telematics"]
    assert len([c for c in cardata(sim).containers[DEMO_CLIENT_ID] if c["state"] == "ACTIVE"]) == 1


async def test_old_evclient_containers_are_deleted_and_the_ten_container_limit_is_explained(sim):
    brand = cardata(sim)
    brand.containers[DEMO_CLIENT_ID] = [
        {"containerId": f"old{n:010d}", "name": "evclient-0ld" if n == 0 else f"someone-else-{n}", "purpose": "x",
         "state": "ACTIVE", "created": "2026-01-01T00:00:00.000Z", "technicalDescriptors": [keys.SOC]}
        for n in range(10)
    ]
    account = await login(sim)
    async with account:
        await account.vehicles()  # the old evclient container makes room for the new one
        states = {c["name"]: c["state"] for c in brand.containers[DEMO_CLIENT_ID]}
        assert states["evclient-0ld"] == "DELETED" and states[keys.CONTAINER_NAME] == "ACTIVE"
    brand.containers[DEMO_CLIENT_ID] = [
        {"containerId": f"full{n:09d}", "name": f"someone-else-{n}", "purpose": "x", "state": "ACTIVE",
         "created": "2026-01-01T00:00:00.000Z", "technicalDescriptors": [keys.SOC]} for n in range(10)]
    async with connect(sim, tokens={**account.tokens, "container_id": None}) as again:
        with pytest.raises(NotSupportedError, match="10 data containers"):
            await again.vehicles()


async def test_fifty_calls_a_day_and_the_quota_answer_pauses_the_rest_api_only(sim):
    account = await login(sim)
    async with account:
        car = await account.vehicle(IX)
        brand_rest = next(w for w in account.budget.windows if w.name == "rest")
        while next(w for w in account.budget.windows if w.name == "rest").used < brand_rest.limit:
            await car.refresh("basic-data")
        with evclient.within(0), pytest.raises(evclient.BudgetExhausted):
            await car.refresh("basic-data")
        assert sim.max_in_window(DAY, brand="bmw-cardata", route="bmw-cardata.basic-data") <= 50
    # The server's own answer (CU-429 as HTTP 403) is the quota: the REST API pauses until midnight UTC,
    # while the login server still renews tokens.
    sim.quotas["bmw-cardata"] = SlidingQuota(50, DAY)  # another day
    sim.fault("bmw-cardata.telematics", "quota", times=1)
    async with connect(sim, tokens=account.tokens, vehicles=account.vehicle_listing()) as again:
        car = await again.vehicle(IX)
        with pytest.raises(evclient.QuotaExceeded, match="50 calls"):
            await car.refresh("telematics")
        now = dt.datetime.fromtimestamp(again.clock.wall(), dt.UTC)
        midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        assert again.budget.pauses["api"] == pytest.approx((midnight - now).total_seconds(), abs=2)
        assert set(again.budget.pauses) == {"api"}
        await asyncio.sleep(HOUR)
        await again.login()  # the token is renewed on the login server though the API is paused
        assert routes(sim)[-1] == "token"


# -- the stream -------------------------------------------------------------------------------------------


async def test_an_idle_stream_stays_up_for_a_day_and_no_telematics_are_polled_while_it_is(sim):
    account = await login(sim)
    async with account:
        heard: list[tuple[str, str | None]] = []
        account.subscribe(lambda car, names: heard.append((car.vin, car.endpoints["telematics"].source)))
        await account.start()
        await asyncio.sleep(60)
        assert account.stream_state.connected
        start_reads = len(container_reads(sim, account, "container_id"))
        assert start_reads == 2  # one REST read per car at start-up
        await asyncio.sleep(DAY)
        state = account.stream_state
        assert state.connected and state.messages > 0
        # A connected stream needs no polling of what it sends; the keys it never sends are read once a day a car.
        assert len(container_reads(sim, account, "container_id")) == start_reads
        daily = container_reads(sim, account, "daily_container_id")
        assert sorted(e.path.split("/")[-2] for e in daily) == sorted([IX, MINI])
        ix_now = await account.vehicle(IX)
        assert ix_now.status.locked is True and ix_now.status.sources["locked"] == "daily"
        assert cardata(sim).expiry_closes == 0  # reconnected with a fresh id token before the broker closed it
        assert state.reconnects >= 20  # about once an hour, for the id token
        assert ("WBY31AW0X0FP00001", "push") in heard
        ix = await account.vehicle(IX)
        assert ix.status.battery_percent is not None and ix.status.battery_percent > 58.0
        assert sim.max_in_window(DAY, brand="bmw-cardata", route=None) <= 50 + 24 * 3 + 60
        assert most_in_any_window([e.t for e in rest_calls(sim)], DAY) <= 50  # BMW's 50, the daily reads included


async def test_without_a_configured_stream_polling_takes_over_within_the_budget(sim):
    sim.world.account("bmw-cardata", DEMO_CLIENT_ID).extra["stream"] = False  # SUBACK 0x80
    account = await login(sim)
    async with account:
        await account.start()
        await asyncio.sleep(60)
        assert "no stream set up" in (account.stream_state.last_error or "")
        await asyncio.sleep(DAY / 2)
        polled = routes(sim, "telematics")
        # The two cars share a poll every 1728 s (50 a day), the first at once when the stream turns out missing.
        assert polled and polled[0] == "telematics"
        assert 10 <= len(polled) <= 26
        assert most_in_any_window([e.t for e in rest_calls(sim)], DAY) <= 50


async def test_a_second_connection_is_reported_as_what_the_broker_did_and_backed_off_like_any_drop(sim):
    """MQTT 3.1.1 (what evclient speaks) gives no reason for a close: two short drops are not claimed as another
    app taking the stream, and are backed off like any drop (growing waits), not with a 30-minute pause."""
    import aiomqtt

    account = await login(sim)
    states: list[evclient.StreamState] = []
    waits: list[float] = []

    def heard(state: evclient.StreamState) -> None:
        states.append(state)
        wait = None if state.next_attempt_at is None else state.next_attempt_at - account.clock.wall()
        if wait is not None and wait > 0.5 and not state.connected:  # the announcement, not the attempt itself
            waits.append(wait)

    async with account:
        account.subscribe_stream(heard)
        await account.start()
        await asyncio.sleep(60)
        assert account.stream_state.connected
        id_token = account.tokens["id_token"]
        url = sim.servers("bmw-cardata")["stream"]
        host, port = url.split("//")[1].split("/")[0].split(":")

        async def other_app() -> None:
            async with aiomqtt.Client(host, int(port), username=DEMO_GCID, password=id_token,
                                      transport="websockets", websocket_path="/bmw-cardata/stream") as client:
                await asyncio.sleep(3 * HOUR)
                del client

        others = [asyncio.ensure_future(other_app())]
        await asyncio.sleep(30)
        others.append(asyncio.ensure_future(other_app()))  # the other app comes straight back, as apps do
        await asyncio.sleep(120)
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
    ended = [s for s in states if s.last_error and not s.connected and s.next_attempt_at is not None]
    assert ended and not any(s.taken_over for s in states)
    told = [s for s in ended if s.short_drops >= 2]
    assert told, [s.last_error for s in ended]
    assert "closed the connection 2 times in a row" in (told[0].last_error or "")
    assert "BMW does this when another app connects with this account" in (told[0].last_error or "")
    assert all("another app uses" not in (s.last_error or "") for s in states)
    # Backed off like any drop: seconds, growing, never half an hour.
    assert len(waits) >= 2 and all(1 <= w < 60 for w in waits) and waits[1] > waits[0], waits


async def test_bad_messages_never_stop_the_stream(sim):
    account = await login(sim)
    async with account:
        await account.start()
        await asyncio.sleep(60)
        brand = cardata(sim)
        for payload in (b"not json", b'{"vin": "x"}', b"{" + b"x" * 300_000 + b"}", b'{"vin": 1, "data": []}'):
            await brand.publish_raw(DEMO_GCID, IX, payload)
        partial = (b'{"vin": "WBY31AW0X0FP00001", "data": {"vehicle.cabin.infotainment.navigation.currentLocation'
                   b'.latitude": {"timestamp": "2099-01-01T00:00:00Z", "value": 50.5, "unit": "degrees"}}}')
        await brand.publish_raw(DEMO_GCID, IX, partial)
        await asyncio.sleep(5)
        assert account.stream_state.connected
        ix = await account.vehicle(IX)
        assert ix.status.position is not None and ix.status.position.latitude == 50.5
        assert ix.status.position.longitude == 11.5755  # the other half of the position is kept


def _ago(days: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()


# -- the command line ---------------------------------------------------------------------------------------


async def run_cli(sim, *argv: str) -> int:
    from evclient import cli

    full = ["--simulator", sim.url, *argv]
    return await cli.run_account_command(cli.build_parser(full).parse_args(full))


def saved_gcid(folder) -> str:
    import json
    from pathlib import Path

    [state] = sorted(Path(folder).glob("bmw-cardata-*.json"))
    return str(json.loads(state.read_text())["tokens"]["gcid"])


async def test_cli_login_then_watch_streamed_changes(sim, capsys, tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path))
    assert await run_cli(sim, "--brand", "bmw-cardata", "login") == 0
    out = capsys.readouterr().out
    assert "/oneid/link" in out and "enter the code" in out and "Logged in." in out
    assert saved_gcid(tmp_path) == DEMO_GCID
    sim.log.clear()
    assert await run_cli(sim, "--brand", "bmw-cardata", "--json", "watch", "--for", "600") == 0
    assert "device-code" not in routes(sim)  # the saved tokens were enough
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"stream": {"connected": True, "error": None, "next_attempt_at": None}} in printed
    lines = [line for line in printed if "vin" in line]
    assert lines and {"vin", "field", "value", "measured_at", "source"} <= set(lines[0])
    assert any(line["source"] == "push" and line["field"] == "battery_percent" for line in lines)
    # A brand without a stream: the changes its polls bring.
    assert await run_cli(sim, "--brand", "renault-ze", "watch", "--for", "900") == 0
    assert "polled within the budget" in capsys.readouterr().out


async def test_cli_watch_asks_before_taking_a_real_accounts_stream(monkeypatch):
    from evclient import cli

    monkeypatch.setattr(cli.login, "interactive", lambda: False)
    argv = ["--brand", "bmw-cardata", "--client-id", DEMO_CLIENT_ID, "--no-state", "watch"]
    with pytest.raises(InvalidInputError, match="--take-stream"):
        await cli.run_account_command(cli.build_parser(argv).parse_args(argv))


@pytest.mark.parametrize("how", ["deleted", "unknown"])
async def test_a_deleted_or_unknown_container_is_made_again_once_and_the_read_goes_on(sim, how):
    """BMW answers a telematics read through a deleted or unknown container with 403 CU-105 (REFERENCE §3c)."""
    account = await login(sim)
    async with account:
        ix = await account.vehicle(IX)
        await ix.refresh("telematics")
        mine = cardata(sim).containers[DEMO_CLIENT_ID]
        if how == "deleted":
            for container in mine:
                container["state"] = "DELETED"  # deleted in the portal (it lingers 29 days)
        else:
            mine.clear()
        sim.log.clear()
        values = await ix.refresh("telematics")
        assert values and ix.status.battery_percent is not None
        assert routes(sim) == ["telematics", "containers", "create-container", "telematics"]
        assert sim.requests(brand="bmw-cardata")[0].status == 403
        # A container that keeps vanishing is made again once per read, never in a loop.
        cardata(sim).containers[DEMO_CLIENT_ID].clear()
        sim.fault("bmw-cardata.create-container", status=201, body={"containerId": "ffffffffffff1"}, times=None)
        sim.log.clear()
        with pytest.raises(evclient.ResponseError):
            await ix.refresh("telematics")
        assert routes(sim).count("create-container") == 1


async def test_the_stream_carries_the_primary_cars_changes_only_and_a_secondary_car_is_named_not_read(sim, capsys,
                                                                                                    tmp_path,
                                                                                                    monkeypatch):
    """REFERENCE §3c: only PRIMARY cars stream; every message, the first too, carries only the keys that changed."""
    account = await login(sim)
    async with account:
        await account.start()
        await asyncio.sleep(2 * HOUR)
        messages = list(cardata(sim).recent)
        assert messages and all(m["vin"] in (IX, MINI) for m in messages)  # never the SECONDARY car
        assert max(len(m["data"]) for m in messages) < 10  # changes, never a snapshot of every key
        # Whatever a stream says of a car the account leaves out is not stored.
        await cardata(sim).publish_raw(DEMO_GCID, SHARED, json.dumps(
            {"vin": SHARED, "data": {keys.SOC: {"value": 1, "unit": "%", "timestamp": _ago(0)}}}).encode())
        await asyncio.sleep(2)
        assert SHARED not in [car.vin for car in account.cached_vehicles()]
        assert account.left_out() == {SHARED: account.left_out()[SHARED]}
        report = await account.diagnostics()
        assert report["left_out"][0]["car"].endswith(SHARED[-4:]) and "SECONDARY" in report["left_out"][0]["why"]
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path))
    assert await run_cli(sim, "--brand", "bmw-cardata", "login") == 0
    capsys.readouterr()
    assert await run_cli(sim, "--brand", "bmw-cardata", "vehicles") == 0
    assert f"{SHARED}: left out, mapped to this owner as a SECONDARY user" in capsys.readouterr().out


async def test_the_stream_follows_the_simulated_clock_at_any_speed(sim):
    account = await login(sim)
    async with account:
        await account.start()
        await asyncio.sleep(60)
        sim.world.clock.set_speed(0)  # held still: the cars change nothing, nothing is published
        await asyncio.sleep(60)  # (what changed before the freeze may still go out)
        published = cardata(sim).published
        await asyncio.sleep(600)
        assert cardata(sim).published == published
        sim.world.clock.advance(1800)  # moved by hand: what changed meanwhile goes out at once
        await asyncio.sleep(1)
        assert cardata(sim).published > published
        sim.world.clock.set_speed(1)


@pytest.mark.parametrize("speed", [0.0, 60.0])
async def test_the_device_login_works_at_any_speed_of_the_simulated_world(sim, speed):
    """The device flow is paced by the event loop's clock, as the clients poll: at speed 0 the approval still
    comes and polls at the interval are not slowed down; at 60 the code does not expire between two polls."""
    sim.world.clock.set_speed(speed)
    account = await login(sim)
    async with account:
        assert account.tokens["refresh_token"]
    token_polls = [e for e in sim.requests(brand="bmw-cardata") if e.route == "bmw-cardata.token"]
    assert [e.status for e in token_polls] == [200]  # approved after 3 s, looked at after the 5 s interval


@pytest.mark.parametrize("window", ["sliding", "fixed"])
async def test_a_polled_day_never_meets_cu_429_whether_bmws_day_rolls_or_ends_at_midnight(sim, window, capsys,
                                                                                         tmp_path, monkeypatch):
    """REFERENCE §3c: the reset is disputed (rolling 24 h or 00:00 UTC). The simulator's fixed window is the UTC
    day; evclient's 50 in any 24 h holds under both. The budget shows the calls left and the next free time."""
    sim.quotas["bmw-cardata"] = SlidingQuota(50, DAY, window=window)
    cardata(sim).refuse_stream(DEMO_CLIENT_ID)  # the stream down: REST does all the work
    account = await login(sim)
    async with account:
        await account.start()
        await asyncio.sleep(DAY + 2 * HOUR)
        calls = rest_calls(sim)
        assert not [e for e in calls if e.status in (403, 429)]
        by_day: dict[int, int] = {}
        for e in calls:
            by_day[int(e.t // DAY)] = by_day.get(int(e.t // DAY), 0) + 1
        assert max(by_day.values()) <= 50 and most_in_any_window([e.t for e in calls], DAY) <= 50
        rest = next(w for w in account.budget.windows if w.name == "rest")
        assert rest.left == 50 - rest.used and rest.next_free_s is not None
        report = await account.diagnostics()
        shown = next(w for w in report["budget"]["windows"] if w["name"] == "rest")
        assert shown["left"] == rest.left and shown["next_free_at"].startswith("20")
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path))
    assert await run_cli(sim, "--brand", "bmw-cardata", "login") == 0
    capsys.readouterr()
    assert await run_cli(sim, "--brand", "bmw-cardata", "budget") == 0
    out = capsys.readouterr().out
    assert "LEFT" in out and "NEXT FREES" in out


def test_basic_data_in_the_swaggers_shape_is_read_too():
    from evclient.brands.bmw_cardata.models import BasicData

    swagger = BasicData.from_json({"vin": IX, "countryCodeISO": "DE", "bodyType": "SAV",
                                   "constructionDate": "2023-05-01T00:00:00Z", "hvsMaxEnergyAbsolute": "71.0"},
                                  vin="WBA00000000000000")
    assert swagger.vin == IX and swagger.country_code == "DE" and swagger.battery_kwh == 71.0
    assert swagger.construction_date is not None and swagger.construction_date.year == 2023
    with pytest.raises(KeyError):
        BasicData.from_json({"countryCode": "DE"})  # no VIN in the answer and none from the path
