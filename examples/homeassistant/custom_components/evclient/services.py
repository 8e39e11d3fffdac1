"""Actions: the Renault integration's (``ac_start``, ``ac_cancel``, ``charge_set_schedules``,
``ac_set_schedules`` and the response action ``get_charge_schedules``) for every car that can, whatever its brand
(each runs or reads evclient's typed vocabulary), and ``send_command`` for any evclient typed action or any
brand's own command. Errors are translated (``exceptions`` in strings.json)."""

from __future__ import annotations

from typing import Any

import evclient
import evclient.brands
import voluptuous as vol
from evclient.actions import ACTIONS, ChargeSchedules, ClimateSchedules, ClimateStart, ClimateStop
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .brands import BrandSpec, brand_spec
from .commands import make_action, run_command
from .const import ATTR_COMMAND, ATTR_PARAMS, ATTR_SCHEDULES, ATTR_TEMPERATURE, ATTR_VEHICLE, ATTR_WHEN, DOMAIN

VEHICLE: dict[Any, Any] = {vol.Required(ATTR_VEHICLE): cv.string}
# The temperature is optional: a car whose climate has no set point (ZE Services, BMW) takes none.
AC_START = vol.Schema({**VEHICLE, vol.Optional(ATTR_TEMPERATURE): vol.Coerce(float),
                       vol.Optional(ATTR_WHEN): cv.datetime})
AC_CANCEL = vol.Schema(VEHICLE)
# The schedules' own rules (ids, quarter hours, durations, "a day given as None clears it") are evclient's:
# it checks them before any request, with a message that says which one is wrong.
SCHEDULES = vol.Schema({**VEHICLE, vol.Required(ATTR_SCHEDULES): vol.All(cv.ensure_list, [dict])})
SEND_COMMAND = vol.Schema({**VEHICLE, vol.Required(ATTR_COMMAND): cv.string,
                           vol.Optional(ATTR_PARAMS, default=dict): dict})


def _vehicle(hass: HomeAssistant, call: ServiceCall) -> tuple[evclient.Vehicle, BrandSpec]:
    device = dr.async_get(hass).async_get(call.data[ATTR_VEHICLE])
    if device is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_device",
                                     translation_placeholders={"device": str(call.data[ATTR_VEHICLE])})
    vin = next((ident for domain, ident in device.identifiers if domain == DOMAIN), None)
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            continue
        coordinator = entry.runtime_data
        if vin in coordinator.vehicles:
            return coordinator.vehicles[vin], brand_spec(coordinator.account.brand.name)
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")


def _unsupported(brand: BrandSpec, action: str) -> ServiceValidationError:
    return ServiceValidationError(translation_domain=DOMAIN, translation_key="no_such_action",
                                  translation_placeholders={"brand": brand.label, "action": action})


def schedules_response(status: evclient.VehicleStatus) -> dict[str, Any]:
    """The schedules as the action returns them: JSON data in the shape the set actions take, with the charge
    mode and the endpoint they were read from."""
    mode = status.charging_mode
    return {"endpoint": status.sources.get("charge_schedules"), "mode": None if mode is None else mode.value,
            "schedules": [schedule.to_json() for schedule in status.charge_schedules or ()]}


def _result(result: evclient.CommandResult) -> dict[str, Any]:
    return {"status": result.status, "elapsed": round(result.elapsed, 1), "polls": result.polls}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once for all accounts)."""

    async def ac_start(call: ServiceCall) -> None:
        vehicle, brand = _vehicle(hass, call)
        if not vehicle.can(ClimateStart):
            raise _unsupported(brand, "A/C start")
        when = call.data.get(ATTR_WHEN)
        if when is not None and when.tzinfo is None:  # a time typed in the UI: Home Assistant's own zone
            when = when.replace(tzinfo=dt_util.get_default_time_zone())
        await run_command(vehicle, make_action("climate-start", {"temperature": call.data.get(ATTR_TEMPERATURE),
                                                                 "at": when}))

    async def ac_cancel(call: ServiceCall) -> None:
        vehicle, brand = _vehicle(hass, call)
        if not vehicle.can(ClimateStop):
            raise _unsupported(brand, "A/C cancel")
        await run_command(vehicle, ClimateStop())

    async def charge_set_schedules(call: ServiceCall) -> None:
        vehicle, brand = _vehicle(hass, call)
        if not vehicle.can(ChargeSchedules):
            raise _unsupported(brand, "charge schedules")
        await run_command(vehicle, make_action("charge-schedules", {"schedules": call.data[ATTR_SCHEDULES]}))

    async def ac_set_schedules(call: ServiceCall) -> None:
        vehicle, brand = _vehicle(hass, call)
        if not vehicle.can(ClimateSchedules):
            raise _unsupported(brand, "A/C schedules")
        await run_command(vehicle, make_action("climate-schedules", {"schedules": call.data[ATTR_SCHEDULES]}))

    async def get_charge_schedules(call: ServiceCall) -> ServiceResponse:
        vehicle, brand = _vehicle(hass, call)
        try:  # what is not polled is read once, through the account's scheduler like any other read
            status = await vehicle.read_status("charge_schedules", "charging_mode")
        except evclient.EVClientError as err:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="read_failed",
                                     translation_placeholders={"error": str(err)}) from err
        if status.charge_schedules is None:
            raise _unsupported(brand, "charge schedules")
        return schedules_response(status)

    async def send_command(call: ServiceCall) -> ServiceResponse:
        vehicle, brand = _vehicle(hass, call)
        name, params = call.data[ATTR_COMMAND], dict(call.data[ATTR_PARAMS])
        if name in ACTIONS and name not in {spec.name for spec in evclient.brands.get(brand.name).commands}:
            # A typed action: the same name and values for every brand (a brand's own command of the same name
            # is still run as the brand's).
            return _result(await run_command(vehicle, make_action(name, params)))
        return _result(await run_command(vehicle, name, params))

    hass.services.async_register(DOMAIN, "ac_start", ac_start, schema=AC_START)
    hass.services.async_register(DOMAIN, "ac_cancel", ac_cancel, schema=AC_CANCEL)
    hass.services.async_register(DOMAIN, "charge_set_schedules", charge_set_schedules, schema=SCHEDULES)
    hass.services.async_register(DOMAIN, "ac_set_schedules", ac_set_schedules, schema=SCHEDULES)
    hass.services.async_register(DOMAIN, "get_charge_schedules", get_charge_schedules, schema=AC_CANCEL,
                                 supports_response=SupportsResponse.ONLY)
    hass.services.async_register(DOMAIN, "send_command", send_command, schema=SEND_COMMAND,
                                 supports_response=SupportsResponse.OPTIONAL)
