"""The brand registry: name → :class:`~evclient.brand.Brand` class.

Every package under ``evclient/brands/`` is a brand: it registers itself (``@register``) when imported, and the
registry imports them all the first time it is asked. Adding a brand is adding a folder; nothing here names
one. Other brands (tests, third parties) call :func:`register` themselves.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil

from ..brand import Brand
from ..errors import InvalidInputError
from ..settings import Setting

_LOG = logging.getLogger(__name__)
_REGISTRY: dict[str, type[Brand]] = {}
_discovered = False


def register(brand: type[Brand]) -> type[Brand]:
    """Make ``brand`` available to ``connect()`` under ``brand.name`` (usable as a class decorator)."""
    _REGISTRY[brand.name] = brand
    return brand


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for module in pkgutil.iter_modules(__path__):
        if module.ispkg and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def get(name: str) -> type[Brand]:
    """The brand class registered as ``name``."""
    if name not in _REGISTRY:
        _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidInputError(f"unknown brand {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    """Every brand name ``connect()`` accepts."""
    _discover()
    return sorted(_REGISTRY)


def all_brands() -> dict[str, type[Brand]]:
    """Every registered brand by name."""
    _discover()
    return dict(sorted(_REGISTRY.items()))


def all_settings() -> dict[str, list[tuple[type[Brand], Setting]]]:
    """Every setting name any brand declares, with the brands (and their declaration) that take it."""
    found: dict[str, list[tuple[type[Brand], Setting]]] = {}
    for brand in all_brands().values():
        for setting in brand.settings:
            found.setdefault(setting.name, []).append((brand, setting))
    return found
