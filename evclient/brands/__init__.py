"""The brand registry: name → :class:`~evclient.brand.Brand` class.

Built-in brands are listed here by name and imported only when asked for, so the core never imports
a brand. Other brands (tests, third parties) call :func:`register`.
"""

from __future__ import annotations

import importlib

from ..brand import Brand
from ..errors import InvalidInputError

# name → module that registers it when imported
_BUILTIN: dict[str, str] = {
    "bmw": "evclient.brands.bmw",
    "renault": "evclient.brands.renault",
    "renault-ze": "evclient.brands.renault_ze",
}

_REGISTRY: dict[str, type[Brand]] = {}


def register(brand: type[Brand]) -> type[Brand]:
    """Make ``brand`` available to ``connect()`` under ``brand.name`` (usable as a class decorator)."""
    _REGISTRY[brand.name] = brand
    return brand


def get(name: str) -> type[Brand]:
    """The brand class registered as ``name``."""
    if name not in _REGISTRY and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidInputError(f"unknown brand {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    """Every brand name ``connect()`` accepts."""
    return sorted({*_BUILTIN, *_REGISTRY})
