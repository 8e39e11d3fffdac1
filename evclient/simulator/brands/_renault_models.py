"""How each Renault model behaves on the real Kamereon servers: the simulator's own table.

Written from the server's side and kept apart from evclient's client table
(``evclient/brands/renault/support.py``), so a wrong cell in either is caught by comparing them
(``tests/test_simulator_fidelity.py``), never hidden by deriving one from the other.

Sources, named per model in ``source``:

- *captures*: renault-api's recorded server answers (``shared/reference-fixtures/renault-api``), which
  fix the body's field set for a model (battery, hvac-status, cockpit, vehicle details).
- *peer*: the per-model endpoint table in renault-api 0.6.2 (``renault_api/kamereon/models.py``),
  where its maintainers wrote down which endpoint each owner's car refused and with which code.

A cell the sources do not document is left out: the simulator then answers as the default car does
(it serves the endpoint or takes the action). Where the peer notes a refusal without its code, the
code chosen here is marked *assumed*.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NOT_FOUND = "err.func.wired.notFound"
NOT_FOUND_URL = "err.func.wired.not-found"  # the other spelling: a URL the gateway does not know
FORBIDDEN = "err.func.wired.forbidden"
BAD_BODY = "err.func.wired.invalid-body-format"
CHARGE_MODE_ERROR = "err.func.vcps.ev.charge-mode.error"
CHARGE_SCHEDULE_ERROR = "err.func.vcps.ev.charge-schedule.error"
NOTIFICATION_ERROR = "err.func.vcps.users-helper.get-notification-settings.error"
HVAC_SETTINGS_ERROR = "err.tech.vcps.ev.hvac-settings.error"

#: Battery-status field sets. ``kca``: battery-status.1 (unplugged: no temperature, no charging
#: fields) and battery-status.2 (charging: temperature, remaining time, power). ``kcm``: the
#: renault_5 captures (no capacity, energy, temperature; a remaining time always; V2L status).
BATTERY_KCA = "kca"
BATTERY_KCM = "kcm"


@dataclass(frozen=True)
class SimModel:
    """One model's behaviour. ``refuses`` maps an endpoint (or ``action:<name>``, or ``action:<name>:<word>``
    for one ``data.attributes.action`` word of it) to its error code."""

    code: str
    label: str
    source: str
    brand: str = "RENAULT"
    energy: tuple[str, str] = ("ELEC", "ELECTRIQUE")
    #: ``vehicleDetails.engineEnergyType`` (captures: ELEC, PHEV, HEV, OTHER; absent on some).
    engine_energy_type: str | None = "ELEC"
    refuses: dict[str, str] = field(default_factory=dict)
    battery: str = BATTERY_KCA
    #: hvac-status keys this model sends (of externalTemperature, internalTemperature, socThreshold,
    #: hvacStatus, lastUpdateTime).
    hvac_fields: frozenset[str] = frozenset({"externalTemperature", "hvacStatus", "lastUpdateTime"})
    #: Whether cockpit carries fuelQuantity / fuelAutonomy (captures: PHEV and the kcm generation's 0.0).
    cockpit_fuel: bool = False
    #: The hvac-start action word that stops climate control on this model ("cancel" is taken by
    #: the others but does nothing there).
    hvac_stop_word: str = "cancel"
    #: Whether charging power comes in watts (the peer's "reports-in-watts").
    power_in_watts: bool = False


_KCA_GEN_NO_KCM = {"ev-settings": NOT_FOUND_URL, "action:ev-settings": NOT_FOUND_URL,
                   "action:charge-start": FORBIDDEN, "action:kcm-charge-schedule": NOT_FOUND_URL}
_NO_HISTORY = {"charge-history": NOT_FOUND_URL, "hvac-history": NOT_FOUND_URL, "hvac-sessions": NOT_FOUND_URL}

MODELS: dict[str, SimModel] = {m.code: m for m in (
    SimModel(
        code="X101VE", label="ZOE",
        source="peer X101VE (location, lock-status, pressure, res-state, soc-levels unsupported; charge-mode "
               "and charge-schedule confirmed; reports-in-watts); captures vehicles/zoe_40.1, hvac-status.zoe, "
               "cockpit.zoe. Codes assumed: notFound for reads, forbidden for soc-levels.",
        refuses={"location": NOT_FOUND, "lock-status": NOT_FOUND, "pressure": NOT_FOUND, "res-state": NOT_FOUND,
                 "soc-levels": FORBIDDEN, **_KCA_GEN_NO_KCM},
        hvac_fields=frozenset({"externalTemperature", "hvacStatus"}), power_in_watts=True,
    ),
    SimModel(
        code="X102VE", label="ZOE",
        source="peer X102VE (charge-mode 400, charge-schedule 404, lock-status 404, res-state 404, soc-levels "
               "and horn/lights forbidden, charge-stop through kcm pause-resume); renault-api PR #1867 and Home "
               "Assistant issue #129228 (charging-start {action: stop} refused with invalid-body-format); captures "
               "vehicles/zoe_50.1, hvac-status.zoe_50, cockpit.zoe_50, battery-status.2. Code assumed: the "
               "charge-mode read's 400 is charge-mode.error (the peer gives its status only).",
        refuses={"charge-mode": CHARGE_MODE_ERROR, "charge-schedule": NOT_FOUND, "lock-status": NOT_FOUND,
                 "res-state": NOT_FOUND, "soc-levels": FORBIDDEN, "action:horn-lights": FORBIDDEN,
                 "action:charge-mode": BAD_BODY, "action:charging-start:stop": BAD_BODY, **_KCA_GEN_NO_KCM},
        hvac_fields=frozenset({"socThreshold", "hvacStatus"}), cockpit_fuel=True,
    ),
    SimModel(
        code="XBG1VE", label="SPRING", brand="DACIA", energy=("ELEC", "ELECTRIC"),
        source="peer XBG1VE (every refusal with its code; charge start and stop through kcm pause-resume; "
               "hvac stop is the kca 'stop' word); captures vehicles/spring.1, hvac-status.spring, cockpit.spring.",
        refuses={**_NO_HISTORY, "alerts": NOT_FOUND_URL, "charge-mode": FORBIDDEN, "charge-schedule": FORBIDDEN,
                 "charging-settings": FORBIDDEN, "hvac-settings": HVAC_SETTINGS_ERROR, "lock-status": NOT_FOUND,
                 "notification-settings": NOTIFICATION_ERROR, "pressure": NOT_FOUND, "res-state": NOT_FOUND,
                 "soc-levels": FORBIDDEN, "charges": NOT_FOUND, "ev-settings": NOT_FOUND_URL,
                 "action:horn-lights": FORBIDDEN, "action:charging-start": FORBIDDEN,
                 "action:charge-start": FORBIDDEN, "action:charge-mode": FORBIDDEN,
                 "action:charge-schedule": FORBIDDEN, "action:hvac-schedule": FORBIDDEN},
        hvac_fields=frozenset({"socThreshold", "hvacStatus", "lastUpdateTime"}), hvac_stop_word="stop",
    ),
    SimModel(
        code="XCB1VE", label="MEGANE E-TECH", energy=("ELECX", "ELECTRICITY"),
        source="peer XCB1VE (every refusal with its code; charge start through kcm charge/start, charge stop "
               "refused with invalid-body-format; schedule through kcm; hvac stop 'stop'); captures "
               "vehicles/megane_e-tech.1.",
        refuses={**_NO_HISTORY, "charge-mode": CHARGE_MODE_ERROR, "charge-schedule": CHARGE_SCHEDULE_ERROR,
                 "lock-status": NOT_FOUND, "notification-settings": NOTIFICATION_ERROR, "pressure": NOT_FOUND,
                 "res-state": NOT_FOUND, "ev-settings": NOT_FOUND_URL, "action:charging-start": BAD_BODY,
                 "action:pause-resume": FORBIDDEN, "action:charge-mode": CHARGE_MODE_ERROR},
        hvac_stop_word="stop",
    ),
    SimModel(
        code="XJB1SU", label="CAPTUR II", energy=("ESS", "PETROL"), engine_energy_type="PHEV",
        source="peer XJB1SU (every refusal with its code: no charge, horn or lights actions); captures "
               "vehicles/captur_ii.2 (engineEnergyType PHEV, energy ESS), cockpit.captur_ii.",
        refuses={**_NO_HISTORY, "charge-mode": CHARGE_MODE_ERROR, "charge-schedule": CHARGE_SCHEDULE_ERROR,
                 "lock-status": NOT_FOUND, "notification-settings": NOTIFICATION_ERROR, "pressure": NOT_FOUND,
                 "res-state": NOT_FOUND, "soc-levels": FORBIDDEN, "ev-settings": NOT_FOUND_URL,
                 "action:horn-lights": NOT_FOUND_URL, "action:charging-start": NOT_FOUND_URL,
                 "action:pause-resume": NOT_FOUND_URL, "action:charge-start": NOT_FOUND_URL,
                 "action:charge-mode": CHARGE_MODE_ERROR},
        cockpit_fuel=True,
    ),
    SimModel(
        code="X071VE", label="TWINGO III",
        source="peer X071VE (every refusal with its code); captures vehicles/twingo_ze.1.",
        refuses={**_NO_HISTORY, "charge-mode": CHARGE_MODE_ERROR, "charge-schedule": CHARGE_SCHEDULE_ERROR,
                 "lock-status": NOT_FOUND, "notification-settings": NOTIFICATION_ERROR, "pressure": NOT_FOUND,
                 "res-state": NOT_FOUND},
    ),
    SimModel(
        code="R5E1VE", label="RENAULT 5", energy=("ELECX", "ELECTRICITY"),
        source="peer R5E1VE (every refusal with its code; charge start by switching off the ev/settings "
               "programs, no charge stop; hvac stop 'stop'); captures vehicles/renault_5.1, battery-status.renault_5, "
               "hvac-status.renault_5, cockpit.renault_5.",
        refuses={"charge-history": NOT_FOUND_URL, "hvac-history": NOT_FOUND_URL, "hvac-sessions": NOT_FOUND_URL,
                 "charge-mode": FORBIDDEN, "charging-settings": FORBIDDEN, "lock-status": NOT_FOUND,
                 "notification-settings": NOTIFICATION_ERROR, "pressure": NOT_FOUND, "res-state": FORBIDDEN,
                 "action:charge-mode": FORBIDDEN, "action:charge-schedule": FORBIDDEN,
                 "action:hvac-schedule": FORBIDDEN},
        battery=BATTERY_KCM, hvac_fields=frozenset({"internalTemperature", "hvacStatus", "socThreshold",
                                                    "lastUpdateTime"}),
        cockpit_fuel=True, hvac_stop_word="stop",
    ),
    SimModel(
        code="A5E1AE", label="A290", brand="ALPINE", energy=("ELECX", "ELECTRICITY"), engine_energy_type=None,
        source="peer A5E1AE (every refusal with its code; hvac stop 'stop'); captures vehicles/alpine_A290.1 "
               "(no engineEnergyType).",
        refuses={**_NO_HISTORY, "alerts": NOT_FOUND_URL, "charge-mode": FORBIDDEN, "charging-settings": FORBIDDEN,
                 "lock-status": NOT_FOUND, "pressure": NOT_FOUND, "res-state": NOT_FOUND,
                 "action:charge-mode": FORBIDDEN, "action:charge-schedule": FORBIDDEN,
                 "action:hvac-schedule": FORBIDDEN},
        battery=BATTERY_KCM, hvac_stop_word="stop",
    ),
    SimModel(
        code="XDD1VE", label="MASTER IV", energy=("ELECX", "ELECTRICITY"), engine_energy_type=None,
        source="peer XDD1VE (every refusal with its code); captures vehicles/master_iv.1 (no engineEnergyType).",
        refuses={**_NO_HISTORY, "charge-mode": FORBIDDEN, "hvac-settings": FORBIDDEN, "hvac-status": NOT_FOUND,
                 "lock-status": NOT_FOUND,
                 "notification-settings": NOTIFICATION_ERROR, "pressure": NOT_FOUND, "res-state": NOT_FOUND,
                 "soc-levels": FORBIDDEN, "action:charge-schedule": FORBIDDEN, "action:pause-resume": NOT_FOUND_URL,
                 "action:hvac-schedule": NOT_FOUND_URL},
        battery=BATTERY_KCM,
    ),
)}

#: Refusal codes → (HTTP status, message), as the captures show them (``kamereon/error``) or, for the
#: vcps codes the peer names without a body, the status its family answers with (assumed).
ERRORS = {
    NOT_FOUND: (404, "Resource not found"),
    NOT_FOUND_URL: (404, "Not Found"),
    FORBIDDEN: (403, "The access is forbidden"),
    BAD_BODY: (400, "Body has at least one wrongly formatted value"),
    CHARGE_MODE_ERROR: (400, "Charge mode is not available"),
    CHARGE_SCHEDULE_ERROR: (400, "Charge schedule is not available"),
    NOTIFICATION_ERROR: (400, "Notification settings are not available"),
    HVAC_SETTINGS_ERROR: (500, "Hvac settings are not available"),
    "err.func.403": (403, '{"errors":[{"status":"403","code":"security.access",'
                          '"detail":"Access is denied for this resource"}]}'),
    "err.tech.501": (501, '{"errors":[{"status":"501","code":"error.internal",'
                          '"detail":"This feature is not technically supported by this gateway"}]}'),
}


def model(code: str) -> SimModel | None:
    """The model's row, or None for a model the sources do not document (it behaves as the default)."""
    return MODELS.get(code)
