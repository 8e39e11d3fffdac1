"""What CarData lets a car be read for. Only ``telematics`` is polled, and only while the stream is down: the
stream keeps it fresh, and the REST API allows 50 calls a day for all the owner's cars."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...endpoint import EndpointSpec
from ...errors import InvalidInputError
from .models import (
    BasicData,
    TyreDiagnosis,
    merge_telematics,
    newest,
    parse_charging_history,
    parse_charging_settings,
    parse_image,
    parse_telematics,
)

V = "/customers/vehicles/{vin}"
#: The longest charging-history window CarData answers ([O] ~45 days → CU-401 beyond).
MAX_HISTORY_DAYS = 45


def _instant(what: str, value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(f"{what} must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z") from None
    else:
        raise InvalidInputError(f"{what} must be an ISO 8601 time or a datetime")
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def history_query(*, start: Any, end: Any, next_token: str | None = None) -> dict[str, str]:
    """``start`` / ``end`` (at most 45 days apart), and ``next_token`` for the following page."""
    begin, finish = _instant("start", start), _instant("end", end)
    if finish <= begin:
        raise InvalidInputError("end must come after start")
    if finish - begin > dt.timedelta(days=MAX_HISTORY_DAYS):
        raise InvalidInputError(f"CarData answers at most {MAX_HISTORY_DAYS} days of charging history at a time")
    query = {"from": begin.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
             "to": finish.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    if next_token is not None:
        query["nextToken"] = str(next_token)
    return query


def page_query(*, next_token: str | None = None) -> dict[str, str]:
    return {} if next_token is None else {"nextToken": str(next_token)}


TELEMATICS = EndpointSpec(name="telematics", path=V + "/telematicData", parse=parse_telematics,
                          merge=merge_telematics, measured=newest, pushed=True,
                          needs={"containerId": "telematics"})
#: The keys that never stream (the lock, the charging port's combined status, service and check control), through
#: evclient's daily container: read about once a day per car, stream or no stream, with a small share of the 50.
DAILY = EndpointSpec(name="daily", path=V + "/telematicData", parse=parse_telematics, merge=merge_telematics,
                     measured=newest, weight=0.05, every=86400.0, needs={"containerId": "daily"})
BASIC_DATA = EndpointSpec(name="basic-data", path=V + "/basicData", parse=BasicData.from_json, poll=False)
CHARGING_HISTORY = EndpointSpec(name="charging-history", path=V + "/chargingHistory", parse=parse_charging_history,
                                poll=False, query=history_query)
TYRE_DIAGNOSIS = EndpointSpec(name="tyre-diagnosis", path=V + "/smartMaintenanceTyreDiagnosis",
                              parse=TyreDiagnosis.from_json, poll=False)
CHARGING_SETTINGS = EndpointSpec(name="charging-settings", path=V + "/locationBasedChargingSettings",
                                 parse=parse_charging_settings, poll=False, query=page_query)
IMAGE = EndpointSpec(name="image", path=V + "/image", parse=parse_image, poll=False, binary=True,
                     headers={"Accept": "*/*"})

ENDPOINTS: tuple[EndpointSpec[Any], ...] = (
    TELEMATICS,
    DAILY,
    BASIC_DATA,
    CHARGING_HISTORY,
    TYRE_DIAGNOSIS,
    CHARGING_SETTINGS,
    IMAGE,
)
