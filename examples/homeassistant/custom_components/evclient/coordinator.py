"""One coordinator per account, fed by evclient's own scheduler.

evclient already polls every endpoint of every car within the account's hourly budget, so the
coordinator has no update interval of its own: it listens (``account.subscribe``) and pushes each new
snapshot to the entities. ``_async_update_data`` runs only for the first refresh and for an explicit
``homeassistant.update_entity``, and even then every request goes through the account's scheduler.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

import evclient
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import CONF_BUDGET_STATE, CONF_COMMAND_HISTORY, CONF_TOKENS, DOMAIN

_LOGGER = logging.getLogger(__name__)

type Snapshot = dict[str, evclient.VehicleStatus]

#: How often the account is listed again, for cars added or removed since setup (one request a day).
RELIST_INTERVAL = dt.timedelta(days=1)
#: A quota pause longer than this is worth a repair issue: the owner may want to know why nothing updates.
LONG_PAUSE_S = 3600.0


def update_failed(key: str, error: Exception, retry_after: float | None = None) -> UpdateFailed:
    """A translated ``UpdateFailed``, with ``retry_after`` where this Home Assistant knows it (2025.6 and later)."""
    kwargs: dict[str, Any] = {"translation_domain": DOMAIN, "translation_key": key,
                              "translation_placeholders": {"error": str(error)}}
    try:
        return UpdateFailed(retry_after=retry_after, **kwargs)  # type: ignore[call-arg]
    except TypeError:
        return UpdateFailed(**kwargs)


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
        self._failing: set[tuple[str, str]] = set()  # (vin, endpoint) logged as unavailable, until it is back

    # -- refreshes Home Assistant asks for ---------------------------------------------------------------

    async def _async_update_data(self) -> Snapshot:
        try:
            self.vehicles = {v.vin: v for v in await self.account.vehicles()}
            reads = [self._read(v, name) for v in self.vehicles.values() for name in polled_endpoints(v)]
            results = await asyncio.gather(*reads)
        except evclient.RateLimited as err:
            self.update_issues(pause=err.retry_after)
            raise update_failed("rate_limited_update", err, err.retry_after) from err
        except evclient.EVClientError as err:
            raise refresh_error(self.hass, self.config_entry, err) from err
        if reads and not any(results):
            raise update_failed("no_answer", RuntimeError("no endpoint of any car answered"))
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
            self.account.subscribe_stream(self._stream_changed),
            async_track_time_interval(self.hass, self._relist, RELIST_INTERVAL),
        ]

        def unsubscribe() -> None:
            for undo in unsubscribers:
                undo()

        self._unsubscribe = unsubscribe
        await self.account.start()

    async def _relist(self, _now: dt.datetime) -> None:
        """Cars added to the account get their entities; cars gone from it leave with their devices."""
        try:
            listed = {v.vin: v for v in await self.account.vehicles(refresh=True)}
        except evclient.EVClientError as err:
            _LOGGER.debug("listing the account again: %s", type(err).__name__)
            return
        added = set(listed) - set(self.vehicles)
        # A car gone from the account keeps its vehicle here until its device (and entities) have left.
        remove_stale_devices(self.hass, self.config_entry, set(listed))
        if added:
            self.vehicles.update({vin: listed[vin] for vin in added})
            self.async_set_updated_data(self.snapshot())

    @callback
    def _stream_changed(self, state: evclient.StreamState) -> None:
        self.update_issues()
        self.async_update_listeners()

    @callback
    def _changed(self, vehicle: evclient.Vehicle, names: frozenset[str]) -> None:
        self._log_availability(vehicle, names)
        self.update_issues()
        if any(isinstance(vehicle.endpoints[n].last_error, evclient.AuthenticationError) for n in names):
            if not self._reauth_started:
                self._reauth_started = True
                raise_login_issue(self.hass, self.config_entry)
                self.config_entry.async_start_reauth(self.hass)
            self.async_set_update_error(ConfigEntryAuthFailed(translation_domain=DOMAIN,
                                                              translation_key="auth_refused",
                                                              translation_placeholders={"error": "refused"}))
            return
        self.save_state()
        self.async_set_updated_data(self.snapshot())

    def _log_availability(self, vehicle: evclient.Vehicle, names: frozenset[str]) -> None:
        """Log once when an endpoint stops answering and once when it is back (not at every poll)."""
        for name in names:
            error = vehicle.endpoints[name].last_error
            key = (vehicle.vin, name)
            if error is not None and not isinstance(error, evclient.RateLimited) and key not in self._failing:
                self._failing.add(key)
                _LOGGER.info("%s of %s is unavailable: %s", name, vehicle.name or vehicle.model, error)
            elif error is None and key in self._failing:
                self._failing.discard(key)
                _LOGGER.info("%s of %s is back", name, vehicle.name or vehicle.model)

    @callback
    def update_issues(self, pause: float | None = None) -> None:
        """Raise or clear the repair issues this account can have: a long quota pause, a stream taken over.

        ``pause``: a pause a refresh just met (its endpoints may not have been read yet).
        """
        entry = self.config_entry
        pauses = [ep.last_error.retry_after for v in self.vehicles.values() for ep in v.endpoints.values()
                  if isinstance(ep.last_error, evclient.RateLimited) and ep.last_error.retry_after is not None]
        if pause is not None:
            pauses.append(pause)
        longest = max(pauses, default=0.0)
        if longest > LONG_PAUSE_S:
            ir.async_create_issue(self.hass, DOMAIN, f"quota_paused_{entry.entry_id}", is_fixable=False,
                                  severity=ir.IssueSeverity.WARNING, translation_key="quota_paused",
                                  translation_placeholders={"account": entry.title, "hours": f"{longest / 3600:.1f}"})
        elif not pauses:
            ir.async_delete_issue(self.hass, DOMAIN, f"quota_paused_{entry.entry_id}")
        stream = self.account.stream_state
        # The server's word (an MQTT 5 takeover) or what it did (closed the stream soon after opening, again).
        if stream.taken_over or stream.short_drops >= 2:
            ir.async_create_issue(self.hass, DOMAIN, f"stream_taken_{entry.entry_id}", is_fixable=False,
                                  severity=ir.IssueSeverity.WARNING, translation_key="stream_taken",
                                  translation_placeholders={"account": entry.title})
        elif stream.connected:
            ir.async_delete_issue(self.hass, DOMAIN, f"stream_taken_{entry.entry_id}")

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


def refresh_error(hass: HomeAssistant, entry: ConfigEntry, err: evclient.EVClientError) -> Exception:
    """What Home Assistant should hear of a failure while setting up or refreshing: a login only the owner can
    renew starts re-authentication (and a repair issue); anything else is retried later."""
    if isinstance(err, evclient.TwoFactorRequired | evclient.AuthenticationError):
        raise_login_issue(hass, entry)
        key = "login_needs_owner" if isinstance(err, evclient.TwoFactorRequired) else "auth_refused"
        return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key=key,
                                     translation_placeholders={"error": str(err)})
    return update_failed("cannot_connect", err, getattr(err, "retry_after", None))


def raise_login_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A repair issue for a login only the owner can renew (a password, a one-time code, BMW's approval)."""
    ir.async_create_issue(hass, DOMAIN, f"login_needs_owner_{entry.entry_id}", is_fixable=False,
                          severity=ir.IssueSeverity.ERROR, translation_key="login_needs_owner",
                          translation_placeholders={"account": entry.title})


def clear_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    for kind in ("login_needs_owner", "quota_paused", "stream_taken"):
        ir.async_delete_issue(hass, DOMAIN, f"{kind}_{entry.entry_id}")


def remove_stale_devices(hass: HomeAssistant, entry: ConfigEntry, vins: set[str]) -> None:
    """Cars the account no longer lists (sold, unlinked) leave Home Assistant with their entities."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not any(domain == DOMAIN and ident in vins for domain, ident in device.identifiers):
            registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)
