"""One coordinator per account, fed by evclient's own scheduler.

evclient already polls every endpoint of every car within the account's hourly budget, so the
coordinator has no update interval of its own: it listens (``account.subscribe``) and pushes each new
snapshot to the entities. ``_async_update_data`` runs only for the first refresh and for an explicit
``homeassistant.update_entity``, and even then every request goes through the account's scheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

import evclient
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import CONF_BUDGET_STATE, CONF_COMMAND_HISTORY, CONF_TOKENS, DOMAIN

_LOGGER = logging.getLogger(__name__)

type Snapshot = dict[str, evclient.VehicleStatus]


def update_failed(message: str, retry_after: float | None) -> UpdateFailed:
    """``UpdateFailed`` with ``retry_after`` where this Home Assistant knows it (2025.6 and later)."""
    try:
        return UpdateFailed(message, retry_after=retry_after)  # type: ignore[call-arg]
    except TypeError:
        return UpdateFailed(message if retry_after is None else f"{message} (retry in {retry_after:.0f} s)")


def polled_endpoints(vehicle: evclient.Vehicle) -> Iterable[str]:
    return (name for name, ep in vehicle.endpoints.items() if ep.spec.poll and ep.supported is not False)


class EVClientCoordinator(DataUpdateCoordinator[Snapshot]):
    """Holds one logged-in :class:`evclient.Account` and its cars' :class:`evclient.VehicleStatus`."""

    config_entry: ConfigEntry

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, account: evclient.Account) -> None:
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {entry.title}", update_interval=None)
        self.account = account
        self.vehicles: dict[str, evclient.Vehicle] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._reauth_started = False
        self._tokens = entry.data.get(CONF_TOKENS)  # what this account last wrote (or was set up with)

    # -- refreshes Home Assistant asks for ---------------------------------------------------------------

    async def _async_update_data(self) -> Snapshot:
        try:
            self.vehicles = {v.vin: v for v in await self.account.vehicles()}
            reads = [self._read(v, name) for v in self.vehicles.values() for name in polled_endpoints(v)]
            results = await asyncio.gather(*reads)
        except evclient.AuthenticationError as err:
            raise ConfigEntryAuthFailed(str(err)) from err
        except evclient.RateLimited as err:
            raise update_failed(f"the server asked to slow down: {err}", err.retry_after) from err
        except evclient.TemporaryError as err:
            raise update_failed(str(err), err.retry_after) from err
        except evclient.EVClientError as err:
            raise UpdateFailed(str(err)) from err
        if reads and not any(results):
            raise UpdateFailed("no endpoint of any car answered")
        self.save_state()
        return self.snapshot()

    async def _read(self, vehicle: evclient.Vehicle, name: str) -> bool:
        """Read one endpoint; one failing endpoint only makes its own entities unavailable."""
        try:
            await vehicle.refresh(name)
        except (evclient.AuthenticationError, evclient.RateLimited):
            raise
        except evclient.EVClientError as err:
            _LOGGER.debug("%s of %s: %s", name, vehicle.model or "a car", type(err).__name__)
            return False
        return True

    # -- pushed updates ----------------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Listen to the account and let evclient poll (and stream, where the brand pushes) in the background."""
        unsubscribers = [
            self.account.subscribe(self._changed),
            # A rotated refresh token (BMW CarData) is saved at once: a crash must not force a new device login.
            self.account.subscribe_tokens(lambda tokens: self.save_state()),
            self.account.subscribe_stream(lambda state: self.async_update_listeners()),
        ]

        def unsubscribe() -> None:
            for undo in unsubscribers:
                undo()

        self._unsubscribe = unsubscribe
        await self.account.start()

    @callback
    def _changed(self, vehicle: evclient.Vehicle, names: frozenset[str]) -> None:
        if any(isinstance(vehicle.endpoints[n].last_error, evclient.AuthenticationError) for n in names):
            if not self._reauth_started:
                self._reauth_started = True
                self.config_entry.async_start_reauth(self.hass)
            self.async_set_update_error(ConfigEntryAuthFailed("the account's login was refused"))
            return
        self.save_state()
        self.async_set_updated_data(self.snapshot())

    def snapshot(self) -> Snapshot:
        return {vin: vehicle.status for vin, vehicle in self.vehicles.items()}

    def save_state(self, **more: Any) -> None:
        """Keep the renewed tokens in the entry (never the password), so a restart needs no login.

        Tokens a re-authentication wrote meanwhile win: this account's own are stale then.
        """
        data = dict(self.config_entry.data)
        if data.get(CONF_TOKENS) == self._tokens:
            self._tokens = data[CONF_TOKENS] = self.account.tokens
        data.update(more)
        if data != self.config_entry.data:
            self.hass.config_entries.async_update_entry(self.config_entry, data=data)

    async def async_shutdown(self) -> None:
        await super().async_shutdown()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.save_state(**{CONF_BUDGET_STATE: self.account.budget_state(),
                           CONF_COMMAND_HISTORY: self.account.command_history()})
        await self.account.close()  # the session is Home Assistant's: evclient leaves it open
