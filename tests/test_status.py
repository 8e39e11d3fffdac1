"""VehicleStatus: one snapshot per car, the same units for every brand, filled from each brand's endpoints
against the simulator's cars; status listeners hear which fields moved."""

from __future__ import annotations

import datetime as dt

import pytest

import evclient
from evclient import ChargeState, GeoPosition, PlugState, VehicleStatus, changed_fields
from tests.conftest import ZOE as ZE_ZOE

ZOE, CAPTUR = "VF1AG000X64000001", "VF1RJB00X67000004"
REX = "WBY1Z21080V300001"
BMW = {"username": "demo@evclient.dev", "password": "demo-password", "app_key": "demo-key",
       "app_secret": "demo-secret"}


def renault(sim):
    return evclient.connect("renault", servers=sim.servers("renault"), username="demo@evclient.dev",
                            password="demo-password")


async def read_polled(car):
    for name, endpoint in car.endpoints.items():
        if endpoint.spec.poll and endpoint.supported is not False:
            await car.refresh(name)


async def test_myrenault_fills_the_status_from_its_endpoints(sim):
    async with renault(sim) as account:
        zoe, captur = await account.vehicle(ZOE), await account.vehicle(CAPTUR)
        assert zoe.status == VehicleStatus()  # nothing read yet: nothing claimed
        await read_polled(zoe)
        await read_polled(captur)
        status = zoe.status
        car = sim.world.car(ZOE)
        assert status.battery_percent == round(car.battery_level) and status.range_km == round(car.range_km)
        assert status.charge_state is ChargeState.NOT_CHARGING and status.plug_state is PlugState.PLUGGED
        assert status.odometer_km == pytest.approx(car.mileage_km)
        assert status.position == GeoPosition(latitude=car.latitude, longitude=car.longitude)
        assert status.tyre_pressures_kpa == {"front_left": 250.0, "front_right": 250.0, "rear_left": 240.0,
                                             "rear_right": 240.0}
        assert status.climate_on is False
        # What the Zoe phase 2 does not report (hvac-status.zoe_50: no temperature; cockpit.zoe_50: an empty
        # tank) stays None rather than a guess.
        assert status.outside_temperature_c is None and status.fuel_litres is None
        assert status.locked is None and status.openings == {}
        assert status.measured_at["battery_percent"] == zoe.value("battery-status").timestamp
        assert captur.status.fuel_litres == 27.0 and captur.status.fuel_range_km == 410.0
        # The plug-in hybrid's tank, even empty, is a fuel level (its listing's energy is petrol).
        sim.world.car(CAPTUR).extra.update(fuel_litres=0.0, fuel_range_km=0.0)
        await captur.refresh("cockpit")
        assert captur.status.fuel_litres == 0.0 and captur.status.fuel_range_km == 0.0
        assert set(status.to_json()) >= {"battery_percent", "position", "measured_at"}
        assert status.sources["battery_percent"] == "battery-status" and status.sources["position"] == "location"
        assert status.sources["tyre_pressures_kpa"] == "pressure" and "locked" not in status.sources


async def test_ze_services_and_bmw_fill_what_they_report(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZE_ZOE)
        battery = await car.refresh("battery")
        status = car.status
        assert status.battery_percent == battery.charge_level and status.plug_state is PlugState.PLUGGED
        assert status.position is None and status.odometer_km is None
    async with evclient.connect("bmw", servers=sim.servers("bmw"), **BMW) as account:
        rex = await account.vehicle(REX)
        raw = await rex.refresh("status")
        status = rex.status
        assert status.battery_percent == 58 and status.range_km == 78 and status.fuel_litres == 8.9
        assert status.locked is True  # SECURED
        assert status.position is not None and status.position.heading == 211
        assert status.openings and not any(status.openings.values())
        assert {"door_front_left", "window_rear_right", "trunk", "hood"} <= set(status.openings)
        assert status.odometer_km == raw.mileage_km
        assert status.measured_at["locked"] == raw.update_time
        assert set(status.sources.values()) == {"status"}


async def test_status_listeners_hear_the_fields_that_moved(sim):
    heard = []
    async with renault(sim) as account:
        zoe = await account.vehicle(ZOE)
        account.subscribe_status(lambda vehicle, status, fields: heard.append((vehicle.vin, fields)))
        await zoe.refresh("battery-status")
        # Idle, the car sends no charging power (battery-status.1): not a field that moved.
        assert heard == [(ZOE, frozenset({"battery_percent", "range_km", "charge_state", "plug_state"}))]
        await zoe.refresh("battery-status")  # the same values: nothing to say
        assert len(heard) == 1
        await zoe.command("charge-start")
        assert "charge_state" in heard[-1][1] and zoe.status.charge_state is ChargeState.CHARGING


def test_changed_fields_compares_values_not_measurement_times():
    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    a = VehicleStatus(battery_percent=50, measured_at={"battery_percent": now})
    b = VehicleStatus(battery_percent=50, measured_at={"battery_percent": now + dt.timedelta(hours=1)})
    assert a == b and changed_fields(a, b) == frozenset()
    assert changed_fields(a, VehicleStatus(battery_percent=51)) == {"battery_percent"}
    assert changed_fields(None, a) == {"battery_percent"}


async def test_listeners_hear_an_endpoint_fail_and_recover_once_each(sim):
    heard = []
    async with renault(sim) as account:
        zoe = await account.vehicle(ZOE)
        await zoe.refresh("battery-status")
        account.subscribe(lambda vehicle, names: heard.append((names, vehicle.endpoints["battery-status"].last_error)))
        sim.fault("renault.battery-status", status=500, times=None)
        for _ in range(2):
            with pytest.raises(evclient.ServerError):
                await zoe.refresh("battery-status")
        sim.faults.clear()
        # One word when it went bad (the value is now stale); the second failure of the same kind is no news.
        assert len(heard) == 1 and heard[0][0] == {"battery-status"}
        assert isinstance(heard[0][1], evclient.ServerError) and zoe.endpoints["battery-status"].stale
        await zoe.refresh("battery-status")  # the same value as before, but the endpoint is healthy again
        assert len(heard) == 2 and heard[1] == (frozenset({"battery-status"}), None)
        await zoe.refresh("battery-status")
        assert len(heard) == 2


async def test_account_choices_lists_the_car_accounts_of_a_login(sim):
    async with renault(sim) as account:
        assert await account.account_choices() == [("account-1", "MYRENAULT account-1")]  # SFDC is no car account
    sim.world.account("renault", "demo@evclient.dev").extra["other_accounts"] = {"dacia-7": "MYDACIA"}
    async with renault(sim) as account:
        assert [id_ for id_, _ in await account.account_choices()] == ["account-1", "dacia-7"]
        with pytest.raises(evclient.InvalidInputError, match="several car accounts"):
            await account.vehicles()
    async with evclient.connect("renault", servers=sim.servers("renault"), username="demo@evclient.dev",
                                password="demo-password", account_id="dacia-7") as account:
        assert await account.vehicles() == []
    async with sim.connect_ze() as account:
        assert await account.account_choices() == []
