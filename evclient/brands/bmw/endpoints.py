"""What ConnectedDrive lets a car be read for, and which capability flag each needs."""

from __future__ import annotations

from typing import Any

from ...endpoint import EndpointSpec
from .models import AllTrips, ChargingProfile, VehicleStatus, parse_destinations, parse_last_trip, parse_range_map

V = "/webapi/v1/user/vehicles/{vin}"

ENDPOINTS: tuple[EndpointSpec[Any], ...] = (
    # The status holds nearly everything (battery, locks, doors, position): it gets most of the polls.
    EndpointSpec(name="status", path=V + "/status", parse=VehicleStatus.from_json, weight=4.0),
    EndpointSpec(name="charging-profile", path=V + "/chargingprofile", parse=ChargingProfile.from_json),
    EndpointSpec(name="last-trip", path=V + "/statistics/lastTrip", parse=parse_last_trip),
    EndpointSpec(name="all-trips", path=V + "/statistics/allTrips", parse=AllTrips.from_json, poll=False),
    EndpointSpec(name="destinations", path=V + "/destinations", parse=parse_destinations, poll=False),
    EndpointSpec(name="range-map", path=V + "/rangemap", parse=parse_range_map, poll=False),
)

#: Listing flag → values meaning "this car has it" for each endpoint.
SUPPORT = {
    "charging-profile": ("chargingControl", ("WEEKLY_PLANNER", "TWO_TIMES_TIMER", "ACTIVATED")),
    "last-trip": ("statisticsAvailable", ("True", "true")),
    "all-trips": ("statisticsAvailable", ("True", "true")),
    "destinations": ("lastDestinations", ("SUPPORTED", "ACTIVATED")),
    "range-map": ("rangeMap", ("RANGE_POLYGON", "RANGE_CIRCLE", "ACTIVATED")),
}
