"""An account's diagnostics: what an integration attaches to a bug report, with nothing personal in it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .models import plain
from .redact import REDACTED, mask_vin, redact

if TYPE_CHECKING:
    from .account import Account

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
#: Personal values the generic redaction does not know by key: addresses, names, ids.
PERSONAL_KEYS = frozenset({
    "street", "streetaddress", "city", "postalcode", "postal_code", "postcode", "zip", "address", "uid",
    "uidsignature", "account_id", "person_id", "firstname", "lastname", "name", "nickname", "phone",
    "mobile", "position", "center", "polyline", "lat", "lon", "registration", "obfuscated", "masked",
    "deviceserialnumber", "dealerid", "partyid", "partymail", "partyphone",
})


#: Keys the generic redaction hides that an endpoint's body uses for something else: a model ``code``
#: (``X102VE``) is no secret there, and a two-factor code never appears in an endpoint's body.
BODY_KEPT = frozenset({"code"})


def scrub(data: Any) -> Any:
    """``redact()`` (which hides every brand's secret settings and wire names) plus personal keys and e-mail
    addresses anywhere in text."""
    cleaned = redact(data, extra_keys=PERSONAL_KEYS)
    return _emails(cleaned)


def _scrub_body(data: Any) -> Any:
    return _emails(redact(data, extra_keys=PERSONAL_KEYS, keep=BODY_KEPT))


def _emails(data: Any) -> Any:
    return _texts(data, lambda text: EMAIL.sub(REDACTED, text))


def _texts(data: Any, fix: Callable[[str], str]) -> Any:
    """``data`` with ``fix`` applied to every text in it, however deep."""
    if isinstance(data, dict):
        return {k: _texts(v, fix) for k, v in data.items()}
    if isinstance(data, list):
        return [_texts(v, fix) for v in data]
    if isinstance(data, str):
        return fix(data)
    return data


def account_diagnostics(account: Account) -> dict[str, Any]:
    """Servers' bodies and the cars' values are scrubbed; evclient's own figures and names (budget windows,
    endpoint and field names, model codes) are kept as they are, since they are what a bug report needs."""
    now = account.clock.wall()
    cars = []
    for vehicle in account.cached_vehicles():
        endpoints = {}
        for name, endpoint in vehicle.endpoints.items():
            endpoints[name] = {
                "supported": endpoint.supported,
                "age_s": None if endpoint.fetched_at is None else round(now - endpoint.fetched_at, 1),
                "stale": endpoint.stale,
                "source": endpoint.source,
                "measured_age_s": None if endpoint.measured_at is None else round(now - endpoint.measured_at, 1),
                "last_error": None if endpoint.last_error is None
                else scrub(f"{type(endpoint.last_error).__name__}: {endpoint.last_error}"),
                "raw": _scrub_body(endpoint.raw),
            }
        status = plain(vehicle.status)
        sources = status.pop("sources", None) if isinstance(status, dict) else None
        status = scrub(status)
        if sources is not None:
            status["sources"] = sources  # field name → endpoint name: nothing personal
        cars.append({"car": mask_vin(vehicle.vin), "model": vehicle.model, "commands": list(vehicle.commands),
                     "status": status, "endpoints": endpoints,
                     "commands_seen": scrub([t.to_json() for t in account.recent_commands(vehicle.vin)])})
    report = {
        "brand": account.brand.name,
        "servers": sorted(account.servers),
        "polling": account.polling,
        "poll_interval_s": round(account.poll_interval, 1),
        "budget": _budget(account),
        "stream": account.stream_state.to_json(),
        "budget_log": account.budget_state(),
        "tokens": sorted(account.tokens or {}),  # which kinds are held, never their values
        "vehicles": cars,
        "left_out": [{"car": mask_vin(vin), "why": why} for vin, why in account.session.left_out().items()],
    }
    # An account's own ids (CarData's GCID is the stream's user name and every topic's first part) can turn up
    # in any text: a topic, an error message, a raw body.
    scrubbed: dict[str, Any] = _without(report, tuple(v for v in account.auth.personal_values() if len(v) >= 4))
    return scrubbed


def _budget(account: Account) -> dict[str, Any]:
    """The live figures, each window with when the next call frees (UTC, ISO 8601)."""
    figures = account.budget
    wall = account.clock.wall()
    report: dict[str, Any] = plain(figures)
    for window, shown in zip(figures.windows, report["windows"], strict=True):
        shown["next_free_at"] = None if window.next_free_s is None else _iso(wall + window.next_free_s)
    report["pauses_end_at"] = {server: _iso(wall + left) for server, left in figures.pauses.items()}
    return report


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(timespec="seconds")


def _without(data: Any, values: tuple[str, ...]) -> Any:
    def hide(text: str) -> str:
        for value in values:
            text = text.replace(value, REDACTED)
        return text

    return _texts(data, hide) if values else data
