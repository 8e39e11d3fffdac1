"""What ZE Services lets a car be read for, and which service scope each needs."""

from __future__ import annotations

from typing import Any

from ...endpoint import EndpointSpec
from .inputs import month_range
from .models import (
    Battery,
    ChargeSchedule,
    NotificationSettings,
    parse_charge_history,
    parse_precondition_history,
    parse_precondition_last,
)

V = "/vehicle/{vin}"

# Battery is what people look at: it gets twice the share of polls.
BATTERY = EndpointSpec(name="battery", path=V + "/battery", parse=Battery.from_json, weight=2.0)
PRECONDITION_LAST = EndpointSpec(
    name="precondition-last",
    path=V + "/air-conditioning/last",
    parse=parse_precondition_last,
)
PRECONDITION_HISTORY = EndpointSpec(
    name="precondition-history",
    path=V + "/air-conditioning",
    parse=parse_precondition_history,
    poll=False,
    query=month_range,
)
CHARGE_HISTORY = EndpointSpec(
    name="charge-history",
    path=V + "/charge/history",
    parse=parse_charge_history,
    poll=False,
    query=month_range,
)
# Settings change only when someone changes them: read on demand and after evclient writes them.
NOTIFICATION_SETTINGS = EndpointSpec(
    name="notification-settings",
    path=V + "/settings/notification",
    parse=NotificationSettings.from_json,
    poll=False,
)
CHARGE_SCHEDULE = EndpointSpec(
    name="charge-schedule",
    path=V + "/charge/scheduler/onboard",
    parse=ChargeSchedule.from_json,
    poll=False,
)

ENDPOINTS: tuple[EndpointSpec[Any], ...] = (
    BATTERY,
    PRECONDITION_LAST,
    PRECONDITION_HISTORY,
    CHARGE_HISTORY,
    NOTIFICATION_SETTINGS,
    CHARGE_SCHEDULE,
)

#: The login's ``scopes`` entry each endpoint or command needs (absent: none).
SCOPES = {
    "battery": "BATTERY_CHARGE_STATUS",
    "charge-history": "BATTERY_CHARGE_HISTORY",
    "charge-schedule": "BATTERY_CHARGE_SCHEDULING",
    "precondition-last": "AC_REMOTE_CONTROL",
    "precondition-history": "AC_REMOTE_CONTROL",
    "precondition": "AC_REMOTE_CONTROL",
    "precondition-at": "AC_REMOTE_CONTROL",
    "charge-now": "BATTERY_CHARGE_REMOTE_ACTIVATION",
    "set-charge-schedule": "BATTERY_CHARGE_SCHEDULING",
    "deploy-charge-schedule": "BATTERY_CHARGE_SCHEDULING",
    "deactivate-charge-schedule": "BATTERY_CHARGE_SCHEDULING",
}
