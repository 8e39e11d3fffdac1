"""Keeping secrets and personal data out of logs, reprs and diagnostics."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from yarl import URL

REDACTED = "**REDACTED**"

# Query parameters and body fields whose values are secrets or personal data, whatever the brand; each brand
# adds its own wire names (``Brand.secret_keys``: Gigya's login tokens, BMW's GCID) when its class is made.
_SECRET_KEYS = {
    "password", "pass", "passwd", "token", "access_token", "refresh_token", "id_token", "apikey", "api_key",
    "authorization", "secret", "client_secret", "security_answer", "code", "username", "email", "vin",
    "registrationnumber", "accountid", "personid", "lat", "lon", "latitude", "longitude",
}


def hide_keys(keys: frozenset[str] | set[str] | tuple[str, ...]) -> None:
    """Hide the values of ``keys`` (any letter case) in every log line, repr and diagnostics from now on."""
    _SECRET_KEYS.update(k.lower() for k in keys)


def secret_keys() -> frozenset[str]:
    """Every key whose value is hidden (lower case)."""
    return frozenset(_SECRET_KEYS)


# Any letter case: a VIN typed in lower case is the same car, and as personal.
_VIN = re.compile(r"\b([A-HJ-NPR-Z0-9]{13})([A-HJ-NPR-Z0-9]{4})\b", re.IGNORECASE)


def mask_vin(text: str) -> str:
    """Replace every VIN-looking word (any letter case) by its last four characters behind stars."""
    return _VIN.sub(lambda m: "*" * 13 + m.group(2), text)


def redact_url(url: URL | str) -> str:
    """A URL fit for a log line: secret query values hidden, VINs masked."""
    url = URL(str(url))
    if url.query:
        url = url.with_query({k: (REDACTED if k.lower() in _SECRET_KEYS else v) for k, v in url.query.items()})
    return mask_vin(url.path_qs if not url.is_absolute() else str(url))


def redact(data: Any, *, extra_keys: frozenset[str] = frozenset(), keep: frozenset[str] = frozenset()) -> Any:
    """A deep copy of ``data`` with secret and personal values replaced (for diagnostics).

    ``extra_keys`` are hidden too; ``keep`` are keys that mean something harmless in this data.
    """
    keys = (secret_keys() | {k.lower() for k in extra_keys}) - keep
    return _redact(data, keys)


def _redact(data: Any, keys: frozenset[str]) -> Any:
    if isinstance(data, Mapping):
        return {k: (REDACTED if str(k).lower() in keys and v is not None else _redact(v, keys))
                for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_redact(v, keys) for v in data]
    if isinstance(data, str):
        return mask_vin(data)
    return data
