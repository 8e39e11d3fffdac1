"""Running an evclient command from a button, select, lock or action, with errors Home Assistant can show."""

from __future__ import annotations

import logging
from typing import Any

import evclient
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

_LOGGER = logging.getLogger(__name__)


async def run_command(vehicle: evclient.Vehicle, name: str, params: dict[str, Any]) -> evclient.CommandResult:
    """Run ``name`` to its outcome; bad input and unsupported commands fail before any request is spent."""
    try:
        result = await vehicle.command(name, **params)
    except (evclient.InvalidInputError, evclient.NotSupportedError) as err:
        raise ServiceValidationError(str(err)) from err
    except evclient.CommandTimedOut as err:
        raise HomeAssistantError(f"{name}: the car did not answer in time ({err.status})") from err
    except evclient.CommandFailed as err:
        raise HomeAssistantError(f"{name}: the car refused ({err.status})") from err
    except evclient.RateLimited as err:
        wait = "" if err.retry_after is None else f"; try again in {err.retry_after / 60:.0f} min"
        raise HomeAssistantError(f"{name}: the server asked to slow down{wait}") from err
    except evclient.EVClientError as err:
        raise HomeAssistantError(f"{name}: {err}") from err
    _LOGGER.debug("%s: %s after %.0f s", name, result.status, result.elapsed)
    return result
