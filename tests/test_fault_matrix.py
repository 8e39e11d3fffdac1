"""The fault matrix (benchmarks/faultmatrix.py): every brand × route class × fault, each cell held to its
documented outcome and to what must hold whatever the outcome (fault met, budget kept, no hang, no foreign
exception, the account usable afterwards)."""

from __future__ import annotations

import pytest

from evclient.testing.faultmatrix import BRANDS, FAULTS, ROUTE_CLASSES, applicable, expected, run_case

CELLS = [(case, route_class) for case in BRANDS for route_class in ROUTE_CLASSES if applicable(case, route_class)]


@pytest.mark.parametrize(("case", "route_class"), CELLS, ids=[f"{c.brand}-{r.replace(' ', '-')}" for c, r in CELLS])
async def test_every_fault_has_its_documented_outcome(case, route_class):
    wrong = []
    for fault in FAULTS:
        result = await run_case(case, route_class, fault)
        if not result.sound or result.outcome not in expected(route_class, fault, case.brand):
            wrong.append(result)
    assert wrong == []
