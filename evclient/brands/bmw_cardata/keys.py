"""The telematic keys evclient reads (BMW's technical descriptors), and the container that asks for them.

Every key is in BMW's telematic data catalogue (``reference-fixtures/bmw-cardata/``), except
``SOC_NEW_CLASS``: the "Neue Klasse" cars' state of charge, which working clients report (REFERENCE §3b) but the
catalogue of September 2025 does not list yet.
"""

from __future__ import annotations

import hashlib

SOC = "vehicle.drivetrain.batteryManagement.header"
SOC_NEW_CLASS = "vehicle.powertrain.electric.battery.stateOfCharge.displayed"
#: What the driver set in the car: charging stops at the target (10 % steps); the minimum is smart charging's floor.
CHARGE_TARGET = "vehicle.powertrain.electric.battery.stateOfCharge.target"
CHARGE_MIN = "vehicle.powertrain.electric.battery.stateOfCharge.targetMin"
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
#: The doors' lock as the stream sends it — "only sporadically" (BMW's catalogue); some cars put open/closed words
#: there. ``LOCK`` never streams (REFERENCE §3c): it comes by REST, about once a day. The newer of the two wins.
DOOR_STATUS = "vehicle.cabin.door.status"
LOCK = "vehicle.cabin.door.lock.status"
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

#: Keys that never stream (BMW's own flag, REFERENCE §3c) and that evclient reads: by REST only, through a
#: container of their own, about once a day per car.
PORT_COMBINED = "vehicle.body.chargingPort.combinedStatus"
CHARGING_LEVEL = "vehicle.drivetrain.electricEngine.charging.level"
CHECK_CONTROL = "vehicle.status.checkControlMessages"
SERVICES = "vehicle.status.conditionBasedServices"

#: What evclient's container asks for (the stream sends whatever the owner ticked in the portal).
DESCRIPTORS: tuple[str, ...] = (
    SOC, RANGE, HV_STATUS, CHARGING_STATUS, PLUG, CHARGE_POWER, TIME_TO_FULL, ODOMETER, LATITUDE, LONGITUDE,
    HEADING, DOOR_STATUS, COMFORT, CHARGE_TARGET, CHARGE_MIN, *OPENINGS, *TYRES,
)
#: What the daily container asks for: the keys that never stream.
DAILY_DESCRIPTORS: tuple[str, ...] = (LOCK, PORT_COMBINED, CHARGING_LEVEL, CHECK_CONTROL, SERVICES)
#: Keys evclient reads that BMW's catalogue (its September 2025 copy) does not list, each with its source.
ALLOWED_BEYOND_CATALOGUE = {
    SOC_NEW_CLASS: "REFERENCE §3b: newer 'Neue Klasse' cars' SoC, reported by working clients",
    LOCK: "REFERENCE §3c: in BMW's newer catalogue as never streaming; read by REST by the CarData integrations",
    PORT_COMBINED: "REFERENCE §3c: in BMW's newer catalogue as never streaming",
    CHARGING_LEVEL: "REFERENCE §3c: in BMW's newer catalogue as never streaming",
    CHECK_CONTROL: "REFERENCE §3c: in BMW's newer catalogue as never streaming",
    SERVICES: "REFERENCE §3c: in BMW's newer catalogue as never streaming",
}

#: evclient's containers are named ``evclient-<hash of the descriptors>``: a new evclient that asks for other
#: keys makes a new one and deletes the old.
CONTAINER_PREFIX = "evclient-"
def _named(prefix: str, descriptors: tuple[str, ...]) -> str:
    return prefix + hashlib.sha256("\n".join(descriptors).encode()).hexdigest()[:8]


CONTAINER_NAME = _named(CONTAINER_PREFIX, DESCRIPTORS)
CONTAINER_PURPOSE = "evclient: battery, charging, position, locks and openings"
DAILY_CONTAINER_NAME = _named(CONTAINER_PREFIX + "daily-", DAILY_DESCRIPTORS)
DAILY_CONTAINER_PURPOSE = "evclient: what the stream never sends (lock, charging port, service and check control)"
#: Each of evclient's containers: the name it is found by, its purpose and the keys it asks for.
CONTAINERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "telematics": (CONTAINER_NAME, CONTAINER_PURPOSE, DESCRIPTORS),
    "daily": (DAILY_CONTAINER_NAME, DAILY_CONTAINER_PURPOSE, DAILY_DESCRIPTORS),
}
