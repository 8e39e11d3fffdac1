"""What evclient's own tests and benchmarks use, for integration authors too.

* :mod:`evclient.testing.pytest_plugin` — pytest fixtures that start the simulator (``pytest_plugins =
  ["evclient.testing.pytest_plugin"]``; needs pytest-asyncio);
* :mod:`evclient.testing.faultmatrix` — every brand × route class × fault against the simulator;
* :mod:`evclient.testing.soak` — days of seeded random faults in virtual time;
* :mod:`evclient.testing.leaks` — whether a text holds a secret, a token or a full VIN.
"""
