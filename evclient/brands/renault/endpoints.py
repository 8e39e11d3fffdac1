"""Kamereon's read endpoints (paths under the account's ``kamereon`` root) and their query rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from ...endpoint import EndpointSpec
from ...errors import InvalidInputError
from . import models

ACCOUNT = "/commerce/v1/accounts/{account_id}"
ROOT = ACCOUNT + "/kamereon"
KCA1 = ROOT + "/kca/car-adapter/v1/cars/{vin}"
KCA2 = ROOT + "/kca/car-adapter/v2/cars/{vin}"
KCM = ROOT + "/kcm/v1/vehicles/{vin}"


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(f"{what} must be a date (YYYY-MM-DD), got {value!r}") from None


def _range(start: Any, end: Any, fmt: str) -> dict[str, str]:
    first, last = _date(start, "start"), _date(end, "end")
    if last < first:
        raise InvalidInputError("end comes before start")
    if (last - first).days > 366:
        raise InvalidInputError("a history covers at most a year at a time")
    return {"start": first.strftime(fmt), "end": last.strftime(fmt)}


def period_query(*, start: Any, end: Any, period: str = "month") -> dict[str, str]:
    """charge-history / hvac-history: ``period`` day or month, ``start`` and ``end`` dates."""
    if period not in ("day", "month"):
        raise InvalidInputError("period is day or month")
    return {"type": period, **_range(start, end, "%Y%m%d" if period == "day" else "%Y%m")}


def day_query(*, start: Any, end: Any) -> dict[str, str]:
    """charges / hvac-sessions: ``start`` and ``end`` dates."""
    return _range(start, end, "%Y%m%d")


def contracts_query() -> dict[str, str]:
    """contracts: every kind of contract (the server lists none unless asked)."""
    return {"brand": "RENAULT", "connectedServicesContracts": "true", "warranty": "true",
            "warrantyMaintenanceContracts": "true"}


# Every polled endpoint has the same share, as Home Assistant does: with N of them, each is read
# every N × 60 / (60 − reserve) minutes.
BATTERY_STATUS = EndpointSpec(
    name="battery-status",
    path=KCA2 + "/battery-status",
    parse=models.battery_status,
    server="kamereon",
)
COCKPIT = EndpointSpec(name="cockpit", path=KCA1 + "/cockpit", parse=models.cockpit, server="kamereon")
HVAC_STATUS = EndpointSpec(name="hvac-status", path=KCA1 + "/hvac-status", parse=models.hvac_status, server="kamereon")
LOCATION = EndpointSpec(name="location", path=KCA1 + "/location", parse=models.location, server="kamereon")
LOCK_STATUS = EndpointSpec(name="lock-status", path=KCA1 + "/lock-status", parse=models.lock_status, server="kamereon")
RES_STATE = EndpointSpec(name="res-state", path=KCA1 + "/res-state", parse=models.res_state, server="kamereon")
PRESSURE = EndpointSpec(name="pressure", path=KCA1 + "/pressure", parse=models.pressure, server="kamereon")
CHARGE_MODE = EndpointSpec(name="charge-mode", path=KCA1 + "/charge-mode", parse=models.charge_mode, server="kamereon")
CHARGING_SETTINGS = EndpointSpec(
    name="charging-settings",
    path=KCA1 + "/charging-settings",
    parse=models.schedules,
    server="kamereon",
    poll=False,
)
HVAC_SETTINGS = EndpointSpec(
    name="hvac-settings",
    path=KCA1 + "/hvac-settings",
    parse=models.schedules,
    server="kamereon",
    poll=False,
)
SOC_LEVELS = EndpointSpec(name="soc-levels", path=KCM + "/ev/soc-levels", parse=models.soc_levels, server="kamereon")
NOTIFICATION_SETTINGS = EndpointSpec(
    name="notification-settings",
    path=KCA1 + "/notification-settings",
    parse=models.notification_settings,
    server="kamereon",
    poll=False,
)
CHARGE_HISTORY = EndpointSpec(
    name="charge-history",
    path=KCA1 + "/charge-history",
    parse=models.charge_history,
    server="kamereon",
    poll=False,
    query=period_query,
)
CHARGES = EndpointSpec(
    name="charges",
    path=KCA1 + "/charges",
    parse=models.charges,
    server="kamereon",
    poll=False,
    query=day_query,
)
HVAC_HISTORY = EndpointSpec(
    name="hvac-history",
    path=KCA1 + "/hvac-history",
    parse=models.hvac_records("hvacSessionsSummaries"),
    server="kamereon",
    poll=False,
    query=period_query,
)
HVAC_SESSIONS = EndpointSpec(
    name="hvac-sessions",
    path=KCA1 + "/hvac-sessions",
    parse=models.hvac_records("hvacSessions"),
    server="kamereon",
    poll=False,
    query=day_query,
)
EV_SETTINGS = EndpointSpec(
    name="ev-settings",
    path=KCM + "/ev/settings",
    parse=models.ev_settings,
    server="kamereon",
    poll=False,
)
CHARGE_SCHEDULE = EndpointSpec(
    name="charge-schedule",
    path=KCA1 + "/charge-schedule",
    parse=models.charge_calendar,
    server="kamereon",
    poll=False,
)
DETAILS = EndpointSpec(
    name="details",
    path=ACCOUNT + "/vehicles/{vin}/details",
    parse=models.vehicle_details,
    server="kamereon",
    poll=False,
)
CAR_ADAPTER = EndpointSpec(name="car-adapter", path=KCA1, parse=models.car_adapter, server="kamereon", poll=False)
CONTRACTS = EndpointSpec(
    name="contracts",
    path=ACCOUNT + "/vehicles/{vin}/contracts",
    parse=models.contracts,
    server="kamereon",
    poll=False,
    query=contracts_query,
)
ALERTS = EndpointSpec(
    name="alerts",
    path=ROOT + "/vehicles/{vin}/alerts",
    parse=models.alerts,
    server="kamereon",
    poll=False,
)

ENDPOINTS: tuple[EndpointSpec[Any], ...] = (
    BATTERY_STATUS,
    COCKPIT,
    HVAC_STATUS,
    LOCATION,
    LOCK_STATUS,
    RES_STATE,
    PRESSURE,
    CHARGE_MODE,
    CHARGING_SETTINGS,
    HVAC_SETTINGS,
    SOC_LEVELS,
    NOTIFICATION_SETTINGS,
    CHARGE_HISTORY,
    CHARGES,
    HVAC_HISTORY,
    HVAC_SESSIONS,
    EV_SETTINGS,
    CHARGE_SCHEDULE,
    DETAILS,
    CAR_ADAPTER,
    CONTRACTS,
    ALERTS,
)

#: The Zoe phase 1 reports power in watts; these endpoints convert for it.
IN_WATTS: dict[str, Callable[[Any], Any]] = {"battery-status": partial(models.battery_status, power_in_watts=True),
            "charges": partial(models.charges, power_in_watts=True)}
#: The cockpit of a car without a tank (the listing's energy is electric): its reported empty tank is dropped.
NO_TANK_COCKPIT: Callable[[Any], Any] = partial(models.cockpit, tank=False)
