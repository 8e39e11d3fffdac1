"""The modules the API reference (``make docs``) documents: the public face and what brand authors and
integration authors use. ``tests/test_docs.py`` builds it with warnings as errors."""

MODULES = (
    "evclient",
    "evclient.actions",
    "evclient.api",
    "evclient.auth",
    "evclient.brand",
    "evclient.command",
    "evclient.endpoint",
    "evclient.errors",
    "evclient.events",
    "evclient.scheduler",
    "evclient.settings",
    "evclient.state",
    "evclient.status",
    "evclient.streams",
    "evclient.vehicle",
    "evclient.simulator",
    "evclient.testing",
)
