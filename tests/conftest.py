from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import evclient
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME, Car, Simulator
from tests import testbrand  # registers the "test" brand
from tests.testcloud import PASSWORD, TestCloud, serve

#: The default world's ZE Services Zoe.
ZOE = "VF1AG000164412345"

assert testbrand


class CloudFixture(TestCloud):
    url: str

    def servers(self) -> dict[str, str]:
        return {"api": f"{self.url}/api", "auth": f"{self.url}/auth"}

    def connect(self, username: str = "solo", **kwargs: Any) -> evclient.connect.__class__:  # type: ignore[name-defined]
        kwargs.setdefault("password", PASSWORD)
        return evclient.connect("test", servers=self.servers(), username=username, **kwargs)


@pytest.fixture(autouse=True)
async def _microsecond_timers() -> None:
    """looptime keeps time in whole microseconds and rounds its steps down, so a timer set between two
    microseconds (``1933.3333420000001``) would never be reached. asyncio fires every timer due within
    ``_clock_resolution`` of now; making that the virtual clock's grain lets such timers fire."""
    loop = asyncio.get_running_loop()
    loop._clock_resolution = max(loop._clock_resolution, 1e-6)  # type: ignore[attr-defined]


@pytest.fixture
async def cloud() -> AsyncIterator[CloudFixture]:
    c = CloudFixture()
    async with serve(c) as url:
        c.url = url
        yield c


class SimFixture(Simulator):
    """The simulator with the default world, plus a shortcut to connect to the ZE demo account."""

    def connect_ze(self, **kwargs: Any) -> Any:
        kwargs.setdefault("username", DEMO_USERNAME)
        kwargs.setdefault("password", DEMO_PASSWORD)
        return evclient.connect("renault-ze", servers=self.servers("renault-ze"), **kwargs)

    @property
    def zoe(self) -> Car:
        car = self.world.car(ZOE)
        assert car is not None
        return car

    def routes(self, brand: str = "renault-ze") -> list[str]:
        return [e.route.split(".", 1)[1] for e in self.requests(brand=brand)]


@pytest.fixture
async def sim() -> AsyncIterator[SimFixture]:
    s = SimFixture()
    await s.start()
    try:
        yield s
    finally:
        await s.close()
