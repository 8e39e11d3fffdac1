"""The telematic keys evclient reads (BMW's technical descriptors), and the container that asks for them.

Every key is in BMW's telematic data catalogue (``reference-fixtures/bmw-cardata/``), except
``SOC_NEW_CLASS``: the "Neue Klasse" cars' state of charge, which working clients report (REFERENCE §3b) but the
catalogue of September 2025 does not list yet.
"""

from __future__ import annotations

import hashlib

SOC = "vehicle.drivetrain.batteryManagement.header"
SOC_NEW_CLASS = "vehicle.powertrain.electric.battery.stateOfCharge.displayed"
RANGE = "vehicle.drivetrain.electricEngine.kombiRemainingElectricRange"
HV_STATUS = "vehicle.drivetrain.electricEngine.charging.hvStatus"
CHARGING_STATUS = "vehicle.drivetrain.electricEngine.charging.status"
PLUG = "vehicle.body.chargingPort.status"
CHARGE_POWER = "vehicle.powertrain.electric.battery.charging.power"
TIME_TO_FULL = "vehicle.drivetrain.electricEngine.charging.timeToFullyCharged"
ODOMETER = "vehicle.vehicle.travelledDistance"
LOCATION = "vehicle.cabin.infotainment.navigation.currentLocation"
LATITUDE = LOCATION + ".latitude"
LONGITUDE = LOCATION + ".longitude"
HEADING = LOCATION + ".heading"
LOCK = "vehicle.cabin.door.status"
COMFORT = "vehicle.cabin.hvac.preconditioning.status.comfortState"

#: Openings: key → the name VehicleStatus uses.
OPENINGS = {
    "vehicle.cabin.door.row1.driver.isOpen": "door_front_left",
    "vehicle.cabin.door.row1.passenger.isOpen": "door_front_right",
    "vehicle.cabin.door.row2.driver.isOpen": "door_rear_left",
    "vehicle.cabin.door.row2.passenger.isOpen": "door_rear_right",
    "vehicle.cabin.window.row1.driver.status": "window_front_left",
    "vehicle.cabin.window.row1.passenger.status": "window_front_right",
    "vehicle.cabin.window.row2.driver.status": "window_rear_left",
    "vehicle.cabin.window.row2.passenger.status": "window_rear_right",
    "vehicle.body.trunk.isOpen": "trunk",
    "vehicle.body.hood.isOpen": "hood",
}
#: Tyre pressures (kPa): key → wheel.
TYRES = {
    "vehicle.chassis.axle.row1.wheel.left.tire.pressure": "front_left",
    "vehicle.chassis.axle.row1.wheel.right.tire.pressure": "front_right",
    "vehicle.chassis.axle.row2.wheel.left.tire.pressure": "rear_left",
    "vehicle.chassis.axle.row2.wheel.right.tire.pressure": "rear_right",
}

#: What evclient's container asks for (the stream sends whatever the owner ticked in the portal).
DESCRIPTORS: tuple[str, ...] = (
    SOC, RANGE, HV_STATUS, CHARGING_STATUS, PLUG, CHARGE_POWER, TIME_TO_FULL, ODOMETER, LATITUDE, LONGITUDE,
    HEADING, LOCK, COMFORT, *OPENINGS, *TYRES,
)
#: Keys evclient reads that BMW's catalogue does not list, each with its source.
ALLOWED_BEYOND_CATALOGUE = {SOC_NEW_CLASS: "REFERENCE §3b: newer 'Neue Klasse' cars' SoC, reported by working clients"}

#: evclient's containers are named ``evclient-<hash of the descriptors>``: a new evclient that asks for other
#: keys makes a new one and deletes the old.
CONTAINER_PREFIX = "evclient-"
CONTAINER_NAME = CONTAINER_PREFIX + hashlib.sha256("\n".join(DESCRIPTORS).encode()).hexdigest()[:8]
CONTAINER_PURPOSE = "evclient: battery, charging, position, locks and openings"
