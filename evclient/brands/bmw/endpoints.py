"""What ConnectedDrive lets a car be read for, and which capability flag each needs."""

from __future__ import annotations

from typing import Any

from ...endpoint import EndpointSpec
from .models import AllTrips, ChargingProfile, StatusReport, parse_destinations, parse_last_trip, parse_range_map

V = "/webapi/v1/user/vehicles/{vin}"

# The status holds nearly everything (battery, locks, doors, position): it gets most of the polls.
STATUS = EndpointSpec(name="status", path=V + "/status", parse=StatusReport.from_json, weight=4.0)
CHARGING_PROFILE = EndpointSpec(name="charging-profile", path=V + "/chargingprofile", parse=ChargingProfile.from_json)
LAST_TRIP = EndpointSpec(name="last-trip", path=V + "/statistics/lastTrip", parse=parse_last_trip)
ALL_TRIPS = EndpointSpec(name="all-trips", path=V + "/statistics/allTrips", parse=AllTrips.from_json, poll=False)
DESTINATIONS = EndpointSpec(name="destinations", path=V + "/destinations", parse=parse_destinations, poll=False)
RANGE_MAP = EndpointSpec(name="range-map", path=V + "/rangemap", parse=parse_range_map, poll=False)

ENDPOINTS: tuple[EndpointSpec[Any], ...] = (
    STATUS,
    CHARGING_PROFILE,
    LAST_TRIP,
    ALL_TRIPS,
    DESTINATIONS,
    RANGE_MAP,
)

#: Listing flag → values meaning "this car has it" for each endpoint.
SUPPORT = {
    "charging-profile": ("chargingControl", ("WEEKLY_PLANNER", "TWO_TIMES_TIMER", "ACTIVATED")),
    "last-trip": ("statisticsAvailable", ("True", "true")),
    "all-trips": ("statisticsAvailable", ("True", "true")),
    "destinations": ("lastDestinations", ("SUPPORTED", "ACTIVATED")),
    "range-map": ("rangeMap", ("RANGE_POLYGON", "RANGE_CIRCLE", "ACTIVATED")),
}
