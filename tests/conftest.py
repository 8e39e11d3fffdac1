from __future__ import annotations

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


@pytest.fixture
async def cloud() -> AsyncIterator[CloudFixture]:
    c = CloudFixture()
    async with serve(c) as url:
        c.url = url
        yield c
