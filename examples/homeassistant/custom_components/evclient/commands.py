"""Running an evclient command from a button, select, lock or action, with errors Home Assistant can show."""

from __future__ import annotations

import logging
from typing import Any

import evclient
from evclient.actions import Action, action_from
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)


def _error(kind: type[HomeAssistantError], key: str, **placeholders: Any) -> HomeAssistantError:
    return kind(translation_domain=DOMAIN, translation_key=key,
                translation_placeholders={k: str(v) for k, v in placeholders.items()})


def make_action(name: str, values: dict[str, Any]) -> Action:
    """The typed action ``name`` with ``values``; a value no car could take is a translated validation error."""
    try:
        return action_from(name, values)
    except evclient.InvalidInputError as err:
        raise _error(ServiceValidationError, "invalid_input", command=name, error=err) from err


async def run_command(vehicle: evclient.Vehicle, command: str | Action,
                      params: dict[str, Any] | None = None) -> evclient.CommandResult:
    """Run a typed action (the same for every brand) or one of the brand's own commands by name, to its outcome;
    bad input and unsupported ones fail before any request is spent.

    Every failure is a translated Home Assistant error (``exceptions`` in strings.json).
    """
    name = command if isinstance(command, str) else command.name
    try:
        if isinstance(command, str):
            result = await vehicle.command(command, **(params or {}))
        else:
            result = await vehicle.act(command)
    except evclient.NotSupportedError as err:  # first: a command the car lacks is also bad input
        raise _error(ServiceValidationError, "not_supported", command=name, error=err) from err
    except evclient.InvalidInputError as err:
        raise _error(ServiceValidationError, "invalid_input", command=name, error=err) from err
    except evclient.CommandTimedOut as err:
        raise _error(HomeAssistantError, "command_timed_out", command=name, status=err.status) from err
    except evclient.CommandFailed as err:
        raise _error(HomeAssistantError, "command_failed", command=name, status=err.status) from err
    except evclient.RateLimited as err:
        minutes = "?" if err.retry_after is None else f"{err.retry_after / 60:.0f}"
        raise _error(HomeAssistantError, "rate_limited", command=name, minutes=minutes) from err
    except evclient.AuthenticationError as err:
        raise _error(HomeAssistantError, "auth_failed", command=name) from err
    except evclient.EVClientError as err:
        raise _error(HomeAssistantError, "command_error", command=name, error=err) from err
    _LOGGER.debug("%s: %s after %.0f s", name, result.status, result.elapsed)
    return result
