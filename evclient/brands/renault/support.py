"""What each model has: its endpoints and which variant of each action it takes.

Facts gathered by the community (owners' reports, the peer client's model table). A model not in the
table uses the defaults and learns: an endpoint that answers not-supported leaves polling.
"""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class ModelSupport:
    """``endpoints`` maps an endpoint to True (has it) or False (answers an error); missing = try it.

    Action variants: ``charge_start`` / ``charge_stop`` are ``v1`` (kca charging-start), ``kcm``
    (kcm charge/start), ``pause-resume`` (kcm charge/pause-resume), ``settings`` (the R5 / R4 / A290 /
    Master generation: switch off the ev/settings programs, which makes the car charge now) or ``None``
    (the car has none); ``hvac_stop`` is the action word (``cancel`` or ``stop``); ``charge_schedule`` is
    ``v2`` (kca charge-schedule) or ``kcm`` (kcm charge/schedule).
    """

    name: str
    endpoints: dict[str, bool] = attrs.field(factory=dict)
    charge_start: str | None = "v1"
    charge_stop: str | None = "v1"
    hvac_start: bool = True
    hvac_stop: str | None = "cancel"
    horn_lights: bool = True
    refresh_location: bool = True
    charge_mode: bool = True
    charge_schedule: str | None = "v2"
    hvac_schedule: bool = True
    power_in_watts: bool = False

    def has(self, endpoint: str) -> bool:
        """Whether the car is known or assumed to answer ``endpoint`` (unknown counts as yes)."""
        return self.endpoints.get(endpoint, True)


def _no(*names: str) -> dict[str, bool]:
    return dict.fromkeys(names, False)


def _yes(*names: str) -> dict[str, bool]:
    return dict.fromkeys(names, True)


HISTORY = ("charge-history", "hvac-history", "hvac-sessions")
#: The kcm generation's ev/settings and the Zoe phase 1's calendar: each generation lacks the other's.
KCA_GEN = _no("ev-settings", "charge-schedule")
KCM_GEN = _no("charge-schedule")
MODELS: dict[str, ModelSupport] = {m.name: m for m in (
    ModelSupport(
        name="X101VE",  # Zoe phase 1
        endpoints={**_yes("battery-status", "charge-mode", "charge-schedule", "cockpit", "hvac-status"),
                   **_no("location", "lock-status", "pressure", "res-state", "soc-levels"), **_no("ev-settings")},
        horn_lights=False, refresh_location=False, power_in_watts=True,
    ),
    ModelSupport(
        name="X102VE",  # Zoe phase 2
        endpoints={**_yes("battery-status", "charging-settings", "cockpit", "hvac-settings", "hvac-status", "location",
                          "pressure"),
                   **_no("charge-mode", "lock-status", "res-state", "soc-levels"),
                   **KCA_GEN},
        charge_stop="pause-resume", horn_lights=False, charge_mode=False,
    ),
    ModelSupport(
        name="XBG1VE",  # Dacia Spring
        endpoints={**_yes("battery-status", "cockpit", "hvac-status", "location"),
                   **_no(*HISTORY, "charge-mode", "charging-settings", "hvac-settings", "lock-status",
                         "notification-settings", "pressure", "res-state", "soc-levels", "charges"),
                   **KCA_GEN, **_no("alerts")},
        charge_start="pause-resume", charge_stop="pause-resume", hvac_stop="stop", horn_lights=False,
        charge_mode=False, charge_schedule=None, hvac_schedule=False,
    ),
    ModelSupport(
        name="XBG2VE",  # Dacia Spring MY25 ("cancel" is accepted but does nothing: "stop" works)
        endpoints={**_yes("battery-status", "charges", "cockpit", "ev-settings", "hvac-settings", "hvac-status",
                          "location", "soc-levels"),
                   **_no("charge-history", "charge-mode", "charging-settings", "hvac-history", "hvac-sessions",
                         "lock-status", "notification-settings", "pressure", "res-state"),
                   **KCM_GEN, **_no("alerts")},
        charge_start="settings", charge_stop=None, hvac_stop="stop", charge_mode=False, charge_schedule=None,
        hvac_schedule=False,
    ),
    ModelSupport(
        name="XCB1VE",  # Mégane E-Tech
        endpoints={**_yes("battery-status", "charging-settings", "cockpit", "hvac-settings", "hvac-status", "location",
                          "soc-levels"),
                   **_no(*HISTORY, "charge-mode", "lock-status", "notification-settings", "pressure", "res-state"),
                   **KCA_GEN},
        charge_start="kcm", charge_stop=None, hvac_stop="stop", refresh_location=False, charge_mode=False,
        charge_schedule="kcm",
    ),
    ModelSupport(
        name="R5E1VE",  # Renault 5 E-Tech
        endpoints={**_yes("battery-status", "charges", "cockpit", "ev-settings", "hvac-settings", "hvac-status",
                          "location", "soc-levels"),
                   **_no(*HISTORY, "charge-mode", "charging-settings", "lock-status", "notification-settings",
                         "pressure", "res-state"),
                   **KCM_GEN},
        charge_start="settings", charge_stop=None, hvac_stop="stop", charge_mode=False, charge_schedule=None,
        hvac_schedule=False,
    ),
    ModelSupport(
        name="A4E1VE",  # Renault 4 E-Tech
        endpoints={**_yes("battery-status", "charges", "cockpit", "ev-settings", "hvac-status", "location",
                          "soc-levels"),
                   **_no("charge-history", "charge-mode", "lock-status", "notification-settings", "pressure",
                         "res-state"),
                   **KCM_GEN},
        charge_start="settings", charge_stop=None, charge_mode=False, charge_schedule=None, hvac_schedule=False,
    ),
    ModelSupport(
        name="XDD1VE",  # Renault Master E-Tech (no climate status or settings, no SoC levels: refused)
        endpoints={**_yes("battery-status", "cockpit", "ev-settings", "location"),
                   **_no(*HISTORY, "charge-mode", "charging-settings", "hvac-settings", "hvac-status", "lock-status",
                         "notification-settings", "pressure", "res-state", "soc-levels"),
                   **KCM_GEN},
        charge_start="settings", charge_stop=None, charge_schedule=None, hvac_schedule=False,
    ),
    ModelSupport(
        name="XCB1SE",  # Scénic E-Tech
        endpoints={**_yes("battery-status", "cockpit", "ev-settings", "hvac-settings", "hvac-status", "location",
                          "soc-levels"),
                   **_no("charge-mode", "charging-settings", "lock-status", "pressure", "res-state"),
                   **KCM_GEN},
        charge_start="settings", charge_stop=None, charge_mode=False, charge_schedule=None, hvac_schedule=False,
    ),
    ModelSupport(
        name="A5E1AE",  # Alpine A290
        endpoints={**_yes("battery-status", "charges", "cockpit", "ev-settings", "hvac-status", "location",
                          "soc-levels"),
                   **_no(*HISTORY, "charge-mode", "charging-settings", "lock-status", "pressure", "res-state"),
                   **KCM_GEN, **_no("alerts")},
        charge_start="settings", charge_stop=None, hvac_stop="stop", charge_mode=False, charge_schedule=None,
        hvac_schedule=False,
    ),
    ModelSupport(
        name="XJB1SU",  # Captur II (plug-in hybrid)
        endpoints={**_yes("battery-status", "charging-settings", "cockpit", "hvac-settings", "hvac-status", "location"),
                   **_no(*HISTORY, "charge-mode", "lock-status", "notification-settings", "pressure", "res-state",
                         "soc-levels"),
                   **KCA_GEN},
        charge_start=None, charge_stop=None, horn_lights=False, refresh_location=False, charge_mode=False,
        charge_schedule=None,
    ),
    ModelSupport(
        name="XJA2VP",  # Clio V (combustion)
        endpoints={**_yes("cockpit", "location"),
                   **_no(*HISTORY, "battery-status", "charge-mode", "charging-settings", "charges", "hvac-settings",
                         "hvac-status", "lock-status", "notification-settings", "pressure", "res-state", "soc-levels"),
                   **KCA_GEN},
        charge_start=None, charge_stop=None, hvac_start=False, hvac_stop=None, horn_lights=False,
        refresh_location=False, charge_mode=False, charge_schedule=None, hvac_schedule=False,
    ),
    ModelSupport(
        name="XHN1SU",  # Austral (hybrid)
        endpoints={**_yes("cockpit", "location", "lock-status"),
                   **_no("battery-status", "charge-history", "charge-mode", "charging-settings", "hvac-status",
                         "pressure", "res-state", "soc-levels"),
                   **KCA_GEN},
        charge_start=None, charge_stop=None, hvac_start=False, hvac_stop=None, charge_mode=False,
        charge_schedule=None, hvac_schedule=False,
    ),
    ModelSupport(
        name="X071VE",  # Twingo III Electric
        endpoints={**_yes("battery-status", "charging-settings", "cockpit", "hvac-settings", "hvac-status", "location"),
                   **_no(*HISTORY, "charge-mode", "lock-status", "notification-settings", "pressure", "res-state"),
                   **KCA_GEN},
        charge_mode=False, charge_schedule=None,
    ),
)}

DEFAULT = ModelSupport(name="default")


def support(model: str | None) -> ModelSupport:
    return MODELS.get(model or "", DEFAULT)
