"""evclient's simulator: every supported car cloud, faithfully, on loopback.

``async with Simulator() as sim:`` serves the default world (the demo account on every brand);
``sim.servers("renault-ze")`` gives the ``servers=`` to pass to :func:`evclient.connect`. The same
server runs standalone as ``evclient simulator``.
"""

from .brands import DEMO_PASSWORD, DEMO_USERNAME, SimBrand, register
from .clock import SimClock
from .faults import Fault, FaultKind
from .server import LogEntry, Simulator, servers_for
from .world import Car, CommandScript, SimAccount, World

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "Car",
    "CommandScript",
    "Fault",
    "FaultKind",
    "LogEntry",
    "SimAccount",
    "SimBrand",
    "SimClock",
    "Simulator",
    "World",
    "register",
    "servers_for",
]
