"""The account's event bus, and the push path's shortcuts held to the long way round: the status built in parts
against the whole build, the fast parse of a stream entry against the general one."""

from __future__ import annotations

import itertools
import logging
import random
import types

import attrs

import evclient
from evclient.api import VehicleInfo
from evclient.brands.bmw_cardata import keys
from evclient.brands.bmw_cardata.models import TelematicValue, _fast, merge_telematics
from evclient.brands.bmw_cardata.status import PARTS, vehicle_status
from evclient.endpoint import Endpoint, EndpointSpec
from evclient.events import EventBus, StreamChanged, TokensRenewed, ValueStored
from evclient.status import StatusBuilder, changed_fields


def test_a_listener_hears_its_type_only_and_its_unsubscriber_stops_it():
    bus = EventBus()
    heard: list[object] = []
    off = bus.on(TokensRenewed, heard.append)
    bus.emit(TokensRenewed())
    bus.emit(object())  # nobody listens: nothing happens
    off()
    off()  # twice is harmless
    bus.emit(TokensRenewed())
    assert heard == [TokensRenewed()]


def test_a_failing_listener_is_logged_and_the_others_still_hear(caplog):
    bus = EventBus()
    heard: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("boom")

    bus.on(TokensRenewed, broken)
    bus.on(TokensRenewed, heard.append)
    with caplog.at_level(logging.ERROR, logger="evclient"):
        bus.emit(TokensRenewed())  # never raised into the part that emitted it
    assert heard == [TokensRenewed()]
    assert "TokensRenewed listener failed" in caplog.text


async def test_no_part_holds_the_account_and_every_change_comes_back_as_an_event(cloud):
    """Calls run downward: the stream runner, the cars and brand code's door know their parts, never the
    account; what happened reaches the poll plan and the listeners through the bus."""
    account = await cloud.connect(stream=True)
    async with account:
        cars = await account.vehicles()
        parts = [account.stream, account.api(evclient.Priority.REFRESH), *cars, account.polls, account.reader]
        for part in parts:
            held = [getattr(part, slot, None) for slot in getattr(part, "__slots__", ())] + list(
                getattr(part, "__dict__", {}).values())
            assert not any(isinstance(value, evclient.Account) for value in held), part
        stored: list[ValueStored] = []
        streamed: list[StreamChanged] = []
        account.events.on(ValueStored, stored.append)
        account.events.on(StreamChanged, streamed.append)
        await cars[0].refresh("e3")
        assert [(e.name, e.source, e.changed) for e in stored] == [("e3", "read", True)]
        await account.start()
        await account.stop()
        assert streamed and streamed[-1].state.running is False


def _telematics_endpoints() -> dict[str, Endpoint]:
    spec = EndpointSpec(name="telematics", path="/t", parse=dict, merge=merge_telematics)
    return {"telematics": Endpoint(spec), "daily": Endpoint(EndpointSpec(name="daily", path="/d", parse=dict))}


#: Every key the status reads, with values of the shapes cars send (good, odd and broken).
CHOICES = {
    keys.SOC: [55, 80.5, "x"], keys.SOC_NEW_CLASS: [60, None], keys.RANGE: [120, 0],
    keys.ODOMETER: [1000, 1001], keys.HV_STATUS: ["CHARGING", "INVALID", "weird"],
    keys.CHARGING_STATUS: ["CHARGINGACTIVE", "NOCHARGING"], keys.PLUG: ["CONNECTED", "-NA-", "DISCONNECTED"],
    keys.CHARGE_POWER: [7000, 0], keys.TIME_TO_FULL: [30, 0], keys.DOOR_STATUS: ["ASN_secured", "ASN_unlocked"],
    keys.COMFORT: ["NOT_ACTIVE", "COMFORT_HEATING"], keys.LATITUDE: [48.1, 48.2], keys.LONGITUDE: [11.5, None],
    keys.HEADING: [90, 180], **{key: [True, False, "OPEN", "CLOSED"] for key in keys.OPENINGS},
    **{key: [250, 240.5] for key in keys.TYRES},
}


def test_the_status_built_in_parts_is_the_status_built_whole():
    """Random partial messages (a few keys each, some older than what is held): after every one, the parts'
    status equals the whole build, and the fields said to have moved are exactly those that did."""
    rng = random.Random(7)
    endpoints = _telematics_endpoints()
    builder = StatusBuilder(PARTS, endpoints)
    before = builder.current()
    builder.take_moved()
    for step in range(400):
        name = "daily" if step % 17 == 0 else "telematics"
        if name == "daily":
            value = {keys.LOCK: TelematicValue(rng.choice(["SECURED", "UNLOCKED"]), None, 1e9 + step)}
            endpoints["daily"].value = value
            builder.touched("daily", None)
        else:
            message = {}
            for key in rng.sample(sorted(CHOICES), rng.randint(1, 4)):
                message[key] = TelematicValue(rng.choice(CHOICES[key]), None, 1e9 + step - rng.choice([0, 0, 5]))
            old = endpoints["telematics"].value
            endpoints["telematics"].value = message if old is None else merge_telematics(old, message)
            builder.touched("telematics", message.keys())
        now = builder.current()
        assert now == vehicle_status(endpoints)
        assert now.measured_at == vehicle_status(endpoints).measured_at
        assert builder.take_moved() == changed_fields(before, now)
        before = now


def test_the_fast_read_of_a_stream_entry_is_the_general_read():
    values = [0, 1, -5, 3.5, 1e16, float("nan"), float("inf"), True, None, "CHARGING", "nan", "inf", "Infinity", "12",
              "1e3", "true", "TRUE", " x", "abc1", "", "x" * 70, [1], {"a": 1}]
    stamps = ["2026-12-04T10:00:00.000Z", "2026-12-04T10:00:00Z", " 2026-12-04T10:00:00Z", "bad",
              "1999-01-01T00:00:00Z", None, 1700000000, ""]
    taken = 0
    for value, stamp, unit in itertools.product(values, stamps, [None, "%", "", "x" * 70, 5]):
        entry = {"value": value, "timestamp": stamp, "unit": unit}
        fast = _fast(entry)
        try:
            general: object = TelematicValue.from_json(entry)
        except (ValueError, TypeError):
            general = "rejected"
        assert fast is None or fast == general, entry  # None: the general path reads it
        taken += fast is not None
    assert taken > 20  # the fast path does take the usual entries


def test_a_car_tells_a_stored_value_once_with_its_source():
    bus = EventBus()
    stored: list[ValueStored] = []
    bus.on(ValueStored, stored.append)
    endpoints = _telematics_endpoints()
    brand = types.SimpleNamespace(status_parts=lambda: PARTS, endpoints=())
    car = evclient.Vehicle(VehicleInfo(vin="WBY31AW0X0FP00001"), endpoints, brand=brand, events=bus,  # type: ignore[arg-type]
                           reader=None, commands=None)  # type: ignore[arg-type]
    soc = {keys.SOC: TelematicValue(50, "%", 1e9)}
    assert car.store("telematics", soc, source=evclient.Source.PUSH, received_at=1e9, keys=soc)
    assert not car.store("telematics", soc, source=evclient.Source.PUSH, received_at=1e9 + 1, keys=soc)
    assert not car.store("nothing", soc, source=evclient.Source.PUSH, received_at=1e9)
    assert [(e.name, e.source, e.changed) for e in stored] == [("telematics", "push", True),
                                                              ("telematics", "push", False)]
    assert car.status.battery_percent == 50
    assert attrs.evolve(car.status, battery_percent=None) == evclient.VehicleStatus()
