"""Conformance with the peer client: renault-api (the library Home Assistant uses) against evclient's
simulator. It logs in (also through the e-mail two-factor flow), lists the account and cars, reads every
endpoint its own model table gives each default car, and runs the actions Home Assistant offers. Each
value it reads must equal what evclient reads for the same car at the same moment: if both agree with
the simulator, the simulator speaks the protocol the peer was written against."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import aiohttp
import pytest
from renault_api.gigya.exceptions import PendingTwoFactorAuthenticationException
from renault_api.renault_client import RenaultClient

import evclient
from evclient.brands.renault.locales import KAMEREON_KEY, LOCALES

ZOE, MEGANE, SPRING, CAPTUR = "VF1AG000X64000001", "VF1RCB00X65000002", "UU1DBG00X66000003", "VF1RJB00X67000004"
PASSWORD = "demo-password"


@pytest.fixture(autouse=True)
def _quiet_peer(caplog):
    # The peer warns about endpoints its table does not list; that is its business, not a failure here.
    caplog.set_level(logging.ERROR, logger="renault_api")


def peer(sim, websession: aiohttp.ClientSession) -> RenaultClient:
    servers = sim.servers("renault")
    return RenaultClient(websession=websession, locale="fr_FR", country="FR", locale_details={
        "gigya-root-url": servers["gigya"], "gigya-api-key": LOCALES["fr_FR"].gigya_api_key,
        "kamereon-root-url": servers["kamereon"], "kamereon-api-key": KAMEREON_KEY,
    })


def ours(sim, username="demo@evclient.dev"):
    return evclient.connect("renault", servers=sim.servers("renault"), username=username, password=PASSWORD)


def _minutes(value: Any) -> float | None:
    return None if value is None else value.total_seconds() / 60


def _stamp(value: Any) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# What each side reads, as comparable plain values: the peer's typed attributes, and evclient's model
# turned back into the server's units (evclient gives kW, minutes as timedelta, booleans for on/off).
COMPARED = {
    "battery-status": (
        "get_battery_status",
        lambda p: (p.batteryLevel, p.batteryAutonomy, p.plugStatus, p.chargingStatus, p.chargingRemainingTime,
                   p.chargingInstantaneousPower, p.batteryTemperature, p.batteryAvailableEnergy, p.timestamp),
        lambda o: (o.battery_level, o.battery_autonomy, o.plug_status, o.charging_status,
                   _minutes(o.charging_remaining_time), o.charging_power_kw, o.battery_temperature,
                   o.battery_available_energy, _stamp(o.timestamp)),
    ),
    # An electric car's reported empty tank is no tank to evclient (None): an empty tank compares as "none".
    "cockpit": ("get_cockpit", lambda p: (p.totalMileage, p.fuelQuantity or None, p.fuelAutonomy or None),
                lambda o: (o.total_mileage, o.fuel_quantity or None, o.fuel_autonomy or None)),
    "hvac-status": (
        "get_hvac_status",
        lambda p: (p.externalTemperature, p.internalTemperature, p.hvacStatus == "on", p.nextHvacStartDate,
                   p.socThreshold, p.lastUpdateTime),
        lambda o: (o.external_temperature, o.internal_temperature, o.hvac_on, _stamp(o.next_hvac_start),
                   o.soc_threshold, _stamp(o.last_update)),
    ),
    "location": ("get_location", lambda p: (p.gpsLatitude, p.gpsLongitude, p.lastUpdateTime),
                 lambda o: (o.latitude, o.longitude, _stamp(o.last_update))),
    "pressure": ("get_tyre_pressure",
                 lambda p: (p.flPressure, p.frPressure, p.rlPressure, p.rrPressure),
                 lambda o: tuple(o.pressures_mbar.get(w) for w in ("fl", "fr", "rl", "rr"))),
    "charging-settings": ("get_charging_settings",
                          lambda p: (p.mode, [_plain_schedule(s.for_json()) for s in p.schedules or []]),
                          lambda o: (o.mode, [s.to_json() for s in o.schedules])),
    "hvac-settings": ("get_hvac_settings",
                      lambda p: (p.mode, [_plain_schedule(s.for_json()) for s in p.schedules or []]),
                      lambda o: (o.mode, [s.to_json() for s in o.schedules])),
    "soc-levels": ("get_battery_soc", lambda p: (p.socMin, p.socTarget), lambda o: (o.soc_min, o.soc_target)),
}


def _plain_schedule(schedule: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schedule.items() if v is not None}


async def compare_reads(vehicle, car) -> set[str]:
    """Read every endpoint the peer's table gives this car with both clients; return the names compared."""
    compared = set()
    for name, (getter, theirs, mine) in COMPARED.items():
        if not await vehicle.supports_endpoint(name):
            continue
        their_value = theirs(await getattr(vehicle, getter)())
        my_value = mine(await car.refresh(name))
        assert their_value == pytest.approx(my_value) if name == "battery-status" else their_value == my_value, name
        compared.add(name)
    return compared


async def test_renault_api_reads_what_evclient_reads_from_every_default_car(sim):
    async with aiohttp.ClientSession() as websession, ours(sim) as account:
        client = peer(sim, websession)
        await client.session.login("demo@evclient.dev", PASSWORD)
        [their_account] = [a for a in await client.get_api_accounts() if a.account_id == "account-1"]
        their_cars = {v.vin: v for v in await their_account.get_api_vehicles()}
        assert set(their_cars) == {c.vin for c in await account.vehicles()} == {ZOE, MEGANE, SPRING, CAPTUR}
        seen = {}
        for vin, vehicle in their_cars.items():
            details = await vehicle.get_details()
            car = await account.vehicle(vin)
            assert details.get_model_code() == car.model
            seen[vin] = await compare_reads(vehicle, car)
        # The peer's own table decides what it reads; each default car had several endpoints compared.
        assert seen[ZOE] >= {"battery-status", "cockpit", "hvac-status", "location", "pressure", "charging-settings",
                             "hvac-settings"}
        assert "soc-levels" in seen[MEGANE] and seen[SPRING] >= {"battery-status", "location"}

        zoe = their_cars[ZOE]
        start, end = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 30)
        charges = await zoe.get_charges(start, end)
        mine = await (await account.vehicle(ZOE)).refresh("charges", start=start.date(), end=end.date())
        assert [c["chargeDuration"] for c in charges.raw_data["charges"]] == [_minutes(s.duration) for s in mine]
        history = await zoe.get_charge_history(start, end, "month")
        mine_history = await (await account.vehicle(ZOE)).refresh("charge-history", start=start, end=end)
        assert [h["totalChargesNumber"] for h in history.raw_data["chargeSummaries"]] == [m.count for m in mine_history]
        assert (await zoe.get_hvac_sessions(start, end)).raw_data == {"hvacSessions": []}


async def test_renault_api_actions_change_the_car_as_evclient_sees_it(sim):
    sim.world.car(SPRING).plugged = True
    async with aiohttp.ClientSession() as websession, ours(sim) as account:
        client = peer(sim, websession)
        await client.session.login("demo@evclient.dev", PASSWORD)
        their = {v.vin: v for v in await (await client.get_api_account("account-1")).get_api_vehicles()}

        # Charging: the Zoe (kca start, kcm pause) and the Spring (kcm resume/pause).
        for vin in (ZOE, SPRING):
            await their[vin].set_charge_start()
            await asyncio.sleep(30)
            assert (await (await account.vehicle(vin)).refresh("battery-status")).charging, vin
            await their[vin].set_charge_stop()
            await asyncio.sleep(30)
            assert not (await (await account.vehicle(vin)).refresh("battery-status")).charging, vin

        # A/C on every car the peer's table allows, stopped with that model's word.
        for vin in (ZOE, MEGANE, SPRING, CAPTUR):
            await their[vin].set_ac_start(21.0)
            await asyncio.sleep(30)
            assert (await (await account.vehicle(vin)).refresh("hvac-status")).hvac_on, vin
            await their[vin].set_ac_stop()
            await asyncio.sleep(30)
            assert not (await (await account.vehicle(vin)).refresh("hvac-status")).hvac_on, vin

        # A charge schedule, the way Home Assistant sets one: read, update by id, post the whole list.
        for vin in (ZOE, MEGANE):
            settings = await their[vin].get_charging_settings()
            settings.update({"id": 2, "activated": True, "tuesday": {"startTime": "T02:15Z", "duration": 75}})
            await their[vin].set_charge_schedules(settings.schedules)
            await asyncio.sleep(30)
            mine = await (await account.vehicle(vin)).refresh("charging-settings")
            second = next(s for s in mine.schedules if s.id == 2)
            assert second.activated and second.days["tuesday"] == {"startTime": "T02:15Z", "duration": 75}, vin
        # The Mégane's went through kcm, as both tables say.
        assert [a["action"] for a in sim.world.car(MEGANE).extra["actions"]][-1] == "kcm-charge-schedule"


async def test_renault_api_logs_in_through_the_two_factor_flow(sim):
    user = "tfa@evclient.dev"
    async with aiohttp.ClientSession() as websession:
        client = peer(sim, websession)
        with pytest.raises(PendingTwoFactorAuthenticationException):
            await client.session.login(user, PASSWORD)
        [email] = await client.session.get_two_factor_auth_emails()
        assert email.obfuscated and "*" in email.obfuscated
        await client.session.request_two_factor_auth_code(email.id)
        code = sim.world.messages(user)[-1].body[-6:]
        await client.session.complete_two_factor_auth(code)
        [their_account] = [a for a in await client.get_api_accounts() if a.account_id == "account-2"]
        assert await their_account.get_api_vehicles() == []
        # The device it registered is remembered: its next login needs no code.
        device_ids = client.session.device_ids
        again = peer(sim, websession)
        again.session.set_device_ids(device_ids)
        await again.session.login(user, PASSWORD)
        assert again.session.login_token
