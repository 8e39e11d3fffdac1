"""What no log line, error message or repr of evclient's may hold: one check for the tests and benchmarks."""

from __future__ import annotations

import re
from collections.abc import Iterable

JWT = re.compile(r"eyJ[\w-]{6,}\.[\w-]{6,}")
FULL_VIN = re.compile(r"(?<![A-Za-z0-9*])[A-HJ-NPR-Z0-9]{17}(?![A-Za-z0-9])")


def leaked(text: str, secrets: Iterable[str] = ()) -> bool:
    """Whether ``text`` holds one of ``secrets``, a JWT or a full (unmasked) VIN."""
    if any(secret and secret in text for secret in secrets):
        return True
    return bool(JWT.search(text) or FULL_VIN.search(text))
