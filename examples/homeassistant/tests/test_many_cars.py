"""A family's four cars on one MyRenault account, a whole simulated day inside Home Assistant: the server never
sees more than the budget in any hour, every car's entities keep following the cars, and none goes unavailable
for the budget's sake (the core integration's older releases polled 60 times an hour per car)."""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant

from .conftest import add_account, state

CARS = ("VF1AG000X64000001", "VF1RCB00X65000002", "UU1DBG00X66000003", "VF1RJB00X67000004")
HOUR = 3600.0


async def test_four_cars_one_budget_a_whole_day(hass: HomeAssistant, sim) -> None:
    for vin in CARS:  # every car plugged in and charging slowly, so its battery moves all day
        car = sim.world.car(vin)
        car.plugged, car.battery_level, car.charge_power_kw = True, 10.0, 0.7
        sim.world.start_charging(car)
    await add_account(hass, sim)
    seen: dict[str, list[str]] = {vin: [] for vin in CARS}
    for _hour in range(24):
        await asyncio.sleep(HOUR)
        for vin in CARS:
            current = state(hass, "sensor", vin, "battery_level").state
            assert current not in ("unavailable", "unknown"), (vin, _hour)
            assert state(hass, "binary_sensor", vin, "charging").state != "unavailable"
            seen[vin].append(current)
    kamereon = [e for e in sim.requests(brand="renault") if "/gigya/" not in e.path]
    assert not [e for e in kamereon if e.status == 429]
    assert sim.max_in_window(HOUR, brand="renault") <= 60 + 30  # 60 Kamereon requests, Gigya's own 30
    from evclient.simulator.quota import most_in_any_window

    assert most_in_any_window([e.t for e in kamereon], HOUR) <= 60
    for vin, values in seen.items():
        # The battery sensor followed the car through the day, hour after hour.
        assert len(set(values)) >= 12, (vin, values)
        assert float(values[-1]) == round(sim.world.car(vin).battery_level) or float(values[-1]) >= float(values[0])
