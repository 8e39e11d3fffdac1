"""The fault matrix (benchmarks/faultmatrix.py): every brand × route class × fault, each cell held to its
documented outcome and to what must hold whatever the outcome (fault met, budget kept, no hang, no foreign
exception, the account usable afterwards)."""

from __future__ import annotations

import pytest

from evclient.testing.faultmatrix import (
    BRANDS,
    EXTRA_CELLS,
    FAULTS,
    ROUTE_CLASSES,
    applicable,
    expected,
    extra_applicable,
    run_case,
    run_extra,
)

CELLS = [(case, route_class) for case in BRANDS for route_class in ROUTE_CLASSES if applicable(case, route_class)]


@pytest.mark.parametrize(("case", "route_class"), CELLS, ids=[f"{c.brand}-{r.replace(' ', '-')}" for c, r in CELLS])
async def test_every_fault_has_its_documented_outcome(case, route_class):
    wrong = []
    for fault in FAULTS:
        result = await run_case(case, route_class, fault)
        if not result.sound or result.outcome not in expected(route_class, fault, case.brand):
            wrong.append(result)
    assert wrong == []


EXTRAS = [(case, cell) for case in BRANDS for cell in EXTRA_CELLS if extra_applicable(case, cell)]


@pytest.mark.parametrize(("case", "cell"), EXTRAS, ids=[f"{c.brand}-{x.split()[0]}" for c, x in EXTRAS])
async def test_every_extra_cell_goes_on_as_it_must(case, cell):
    """Poison stream messages skipped, refused stream connections backed off with REST taking over at once,
    and a restart across a wall-clock step either way finding the budget as spent as the server counts it."""
    result = await run_extra(case, cell)
    assert result.outcome == "ok" and result.sound, result


def test_every_brand_is_rehearsed_by_its_simulator_with_routes_cars_and_commands_that_exist():
    """A brand joins the matrix, the soak and the demo by its simulator's rehearsal: one left out, or one naming a
    route, car, endpoint or command that is not there, would quietly test less than it says."""
    import evclient.brands
    from evclient.api import VehicleInfo
    from evclient.simulator import Simulator
    from evclient.simulator.brands import all_brands

    shipped = [name for name in evclient.brands.names() if name != "test"]  # the core's test brand has its own cloud
    assert [case.brand for case in BRANDS] == shipped
    sim = Simulator()
    routes = {route.name for route in sim.app().router.routes() if route.name}
    for case in BRANDS:
        declared = evclient.brands.get(case.brand)
        rehearsal = all_brands()[case.brand].rehearsal
        assert {case.rehearsal.routes[c] for c in ROUTE_CLASSES} - {None} <= routes, case.brand
        assert sim.world.cars[case.rehearsal.vin].brand == case.brand
        assert case.rehearsal.poll in {spec.name for spec in declared.endpoints if spec.poll}
        if rehearsal.action is not None:  # a typed action the brand maps to one of its commands, for this car
            car = VehicleInfo(vin=case.rehearsal.vin, model=sim.world.cars[case.rehearsal.vin].model)
            command, _ = declared().command_for(car, rehearsal.action)
            spec = next(spec for spec in declared.commands if spec.name == command)
            assert declared().command_supported(car, spec) is not False
        else:
            assert case.rehearsal.routes["command submit"] is None and case.rehearsal.routes["command status"] is None

