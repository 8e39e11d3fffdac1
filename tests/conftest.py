from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import evclient
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME, Car, Simulator
from evclient.simulator.brands.bmw import DEMO_SECURITY_ANSWER
from evclient.testing import leaks
from tests import testbrand  # registers the "test" brand
from tests.testcloud import PASSWORD, TestCloud, serve

# The fixtures evclient offers integration authors (evclient_simulator, evclient_demo_connect).
pytest_plugins = ["evclient.testing.pytest_plugin"]

#: The default world's ZE Services Zoe.
ZOE = "VF1AG000164412345"

assert testbrand


class CloudFixture(TestCloud):
    url: str

    def servers(self) -> dict[str, str]:
        return {"api": f"{self.url}/api", "auth": f"{self.url}/auth"}

    def connect(self, username: str = "solo", *, stream: bool = False, stream_silence: float | None = None,
                stream_requires: str | None = None, stream_spec: dict[str, Any] | None = None,
                **kwargs: Any) -> evclient.connect.__class__:  # type: ignore[name-defined]
        """An account at the test brand; ``stream=True`` takes the brand as the stream tests declare it
        (``stream_spec``: more of its ``StreamSpec``)."""
        kwargs.setdefault("password", PASSWORD)
        brand = (testbrand.streaming(silence=stream_silence, requires=stream_requires, **(stream_spec or {}))
                 if stream else "test")
        return evclient.connect(brand, servers=self.servers(), username=username, **kwargs)


#: What evclient must never write to a log line, whatever the test does.
KNOWN_SECRETS = (DEMO_PASSWORD, PASSWORD, DEMO_SECURITY_ANSWER, "demo-secret")


class _LogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!s} {record.exc_info[1]!r}"
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture(autouse=True)
def _no_secret_in_any_log_line(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test runs with evclient logging at DEBUG; no line may hold a password, security answer, app
    secret, token the simulator issued, JWT or full VIN."""
    handler = _LogLines()
    logger = logging.getLogger("evclient")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    simulator = request.node.funcargs.get("sim")
    issued = list(simulator.world.tokens) if isinstance(simulator, Simulator) else []
    for line in handler.lines:
        if line.startswith("evclient.simulator"):
            continue  # the simulator is the server: its own log may name what it serves
        assert not leaked(line, issued), line


def leaked(line: str, issued: Any = ()) -> bool:
    """Whether a log line holds a secret or a full VIN."""
    return leaks.leaked(line, (*KNOWN_SECRETS, *issued))


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
