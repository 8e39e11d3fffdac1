"""CarData's stream as BMW serves it: MQTT over TLS 1.3 on TCP, under the simulator's own test CA, with BMW's
per-IP limit on connection attempts — evclient's production path (``mqtts``), not the WebSocket listener."""

from __future__ import annotations

import asyncio
import ssl

import paho.mqtt.client
import pytest

import evclient
from evclient.simulator import Simulator
from evclient.simulator.brands.bmw_cardata import CONNECT_ATTEMPTS_PER_MINUTE, DEMO_CLIENT_ID
from tests.test_cardata import IX, cardata

HOUR = 3600.0


@pytest.fixture(autouse=True)
async def _mqtt_on_loop_time(monkeypatch):
    monkeypatch.setattr(paho.mqtt.client, "time_func", asyncio.get_running_loop().time)


@pytest.fixture
async def tls_sim():
    sim = Simulator(tls=True)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.close()


async def login(sim: Simulator, context: ssl.SSLContext | None) -> evclient.Account:
    with pytest.raises(evclient.TwoFactorRequired) as asked:
        await evclient.connect("bmw-cardata", servers=sim.servers("bmw-cardata"), client_id=DEMO_CLIENT_ID,
                               ssl_context=context)
    return await asked.value.challenge.wait()


async def test_the_stream_runs_over_mqtt_on_tls_with_the_ca_the_application_gives(tls_sim):
    assert tls_sim.servers("bmw-cardata")["stream"].startswith("mqtts://127.0.0.1:")
    assert tls_sim.tls_material is not None
    account = await login(tls_sim, tls_sim.tls_material.client_context())
    async with account:
        await account.start()
        await asyncio.sleep(HOUR)
        state = account.stream_state
        assert state.connected and state.messages > 0
        ix = await account.vehicle(IX)
        assert ix.endpoints["telematics"].source == "push"
        assert cardata(tls_sim).expiry_closes == 0  # renewed over TLS before the id token ran out


async def test_a_broker_whose_ca_is_not_trusted_is_a_clear_typed_refusal(tls_sim):
    account = await login(tls_sim, None)  # the system's trust store: the simulator's CA is not in it
    async with account:
        await account.start()
        await asyncio.sleep(30)
        state = account.stream_state
        assert not state.connected and "certificate is not trusted" in (state.last_error or ""), state


async def test_the_broker_speaks_tls_1_3_only(tls_sim):
    assert tls_sim.tls_material is not None
    old = tls_sim.tls_material.client_context()
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    host, port = tls_sim.servers("bmw-cardata")["stream"].removeprefix("mqtts://").split(":")
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        await asyncio.open_connection(host, int(port), ssl=old)
    modern = tls_sim.tls_material.client_context()
    _, writer = await asyncio.open_connection(host, int(port), ssl=modern)
    assert writer.get_extra_info("ssl_object").version() == "TLSv1.3"
    writer.close()
    await writer.wait_closed()


async def test_connection_attempts_over_the_per_ip_limit_are_turned_away_and_evclient_stays_below_it(tls_sim):
    """BMW limits connection attempts per IP over a minute (no number published; the simulator's is a guess)."""
    assert tls_sim.tls_material is not None
    host, port = tls_sim.servers("bmw-cardata")["stream"].removeprefix("mqtts://").split(":")
    for _ in range(CONNECT_ATTEMPTS_PER_MINUTE + 2):
        _, writer = await asyncio.open_connection(host, int(port), ssl=tls_sim.tls_material.client_context())
        writer.close()
        await writer.wait_closed()
    assert cardata(tls_sim).ip_refusals == 2  # any account's: the limit is the host's
    await asyncio.sleep(61)
    account = await login(tls_sim, tls_sim.tls_material.client_context())
    async with account:
        await account.start()
        await asyncio.sleep(6 * HOUR)  # hourly renewals and the reconnections they bring
        assert account.stream_state.connected
    assert cardata(tls_sim).ip_refusals == 2  # evclient never ran into it


async def test_the_broker_grants_qos_0_only(tls_sim):
    """REFERENCE §3c: QoS 1 and 2 subscriptions are downgraded to 0."""
    import aiomqtt

    assert tls_sim.tls_material is not None
    account = await login(tls_sim, tls_sim.tls_material.client_context())
    async with account:
        tokens = account.tokens
    host, port = tls_sim.servers("bmw-cardata")["stream"].removeprefix("mqtts://").split(":")
    async with aiomqtt.Client(host, int(port), username=tokens["gcid"], password=tokens["id_token"],
                              tls_context=tls_sim.tls_material.client_context()) as client:
        granted = await client.subscribe(f"{tokens['gcid']}/+", qos=1)
    assert [getattr(code, "value", code) for code in (granted if isinstance(granted, list | tuple) else [granted])] \
        == [0]
