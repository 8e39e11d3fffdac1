from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import evclient
from tests import testbrand  # registers the "test" brand
from tests.testcloud import PASSWORD, TestCloud, serve

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
