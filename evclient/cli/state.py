"""The command line's memory between runs: one private file per account, written so it cannot lose the budget.

Each run holds an exclusive lock on the account's file for as long as it may send requests, so two runs on
one account take turns instead of each spending the same hour twice. The file is replaced atomically (a
private temporary file, then a rename): a crash or SIGTERM mid-write leaves the old file, never half of
one. When saving, what is on disk is merged with this run's requests, so nothing another writer recorded
is lost. A file that cannot be read is an error naming it, never a silent fresh budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import json
import math
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError

#: How long a saved vehicle listing is used before the cars are listed again.
LISTING_MAX_AGE = 86400.0
#: How often a run waiting for another run's lock looks again (real seconds).
LOCK_POLL = 0.2


class StateFileError(InvalidInputError):
    """The state file exists but cannot be used; the message names it and what to do."""


def state_dir() -> Path:
    """Where the state files live (``EVCLIENT_STATE_DIR``, else ``~/.local/state/evclient``)."""
    return Path(os.environ.get("EVCLIENT_STATE_DIR") or Path.home() / ".local" / "state" / "evclient")


class StateFile:
    """Tokens, the budget log, the car listing and each car's recent commands of one account (owner-only)."""

    def __init__(self, brand: str, username: str | None, servers: Mapping[str, str],
                 root: Path | None = None) -> None:
        key = hashlib.sha256(json.dumps([brand, username, sorted(servers.items())]).encode()).hexdigest()[:16]
        self.path = (root or state_dir()) / f"{brand}-{key}.json"
        self.lock_path = self.path.with_suffix(".lock")

    # -- reading ----------------------------------------------------------------------------------------

    def load(self) -> dict[str, Any]:
        """The saved state; ``{}`` when there is none yet. A damaged file raises :class:`StateFileError`."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return {}  # none yet (or no folder for it: saving will say so)
        except OSError as err:
            raise StateFileError(f"cannot read the state file {self.path}: {err.strerror or err}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise self._damaged("it is not complete JSON") from None
        if not isinstance(data, dict):
            raise self._damaged("it does not hold a JSON object")
        for key, kind in (("tokens", dict), ("budget", dict), ("commands", dict), ("vehicles", dict)):
            if data.get(key) is not None and not isinstance(data[key], kind):
                raise self._damaged(f"its {key!r} entry is not a JSON object")
        return data

    def _damaged(self, why: str) -> StateFileError:
        return StateFileError(
            f"the state file {self.path} is damaged ({why}). evclient will not guess how much of the hour's "
            "budget earlier runs spent: fix the file, or move it away to start with a fresh budget and log in again"
        )

    def cached_listing(self, saved: Mapping[str, Any], wall_now: float) -> list[dict[str, Any]] | None:
        """The saved car listing when it is recent enough to use instead of listing the cars again."""
        entry = saved.get("vehicles") or {}
        listed_at, cars = entry.get("listed_at"), entry.get("cars")
        if not isinstance(listed_at, int | float) or not isinstance(cars, list) or not cars:
            return None
        return cars if 0 <= wall_now - listed_at < LISTING_MAX_AGE else None

    # -- writing ----------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def locked(self, notify: Callable[[str], None]) -> AsyncIterator[bool]:
        """Hold the account's lock for the block; yields whether it is held (``False``: the folder is not
        writable, and the run goes on without it after ``notify`` said so)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            notify(f"cannot lock {self.lock_path} ({err.strerror or err}); "
                   "runs on this account at the same time may spend the same budget twice")
            yield False
            return
        try:
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as err:
                    if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
                if not told:
                    notify("waiting for another evclient run on this account to finish …")
                    told = True
                await asyncio.sleep(LOCK_POLL)
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    def save(self, data: Mapping[str, Any], *, loaded: Mapping[str, Any], spans: Mapping[str, float],
             wall_now: float) -> None:
        """Write ``data`` atomically, merged with what is on disk now: ``loaded`` is the budget state this
        run started from (its stamps are not this run's own), ``spans`` each window's length in seconds."""
        try:
            on_disk = self.load()
        except StateFileError:
            on_disk = {}  # replaced by a good file below
        merged = dict(data)
        merged["budget"] = merge_budget(on_disk.get("budget") or {}, data.get("budget") or {}, loaded, spans,
                                        wall_now)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(merged, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


#: Two stamps this close are the same request (a stamp goes through loop time and back, rounded to ms).
SAME_STAMP = 0.002


def merge_budget(on_disk: Mapping[str, Any], ours: Mapping[str, Any], loaded: Mapping[str, Any],
                 spans: Mapping[str, float], wall_now: float) -> dict[str, Any]:
    """Budget state holding every request either side knows: what is on disk now, plus this run's own
    stamps (``ours`` less those it ``loaded``). Stamps older than their window are dropped; of two pauses
    of one server the longer wins."""
    windows: dict[str, list[float]] = {}
    disk_windows, our_windows, loaded_windows = (_windows(x) for x in (on_disk, ours, loaded))
    for name in {*disk_windows, *our_windows}:
        earlier = sorted(loaded_windows.get(name, []))
        own = []
        for stamp in sorted(our_windows.get(name, [])):
            match = next((i for i, s in enumerate(earlier) if abs(s - stamp) <= SAME_STAMP), None)
            if match is None:
                own.append(stamp)
            else:
                del earlier[match]
        horizon = wall_now - spans.get(name, math.inf)
        windows[name] = sorted(s for s in [*disk_windows.get(name, []), *own] if s > horizon)
    merged: dict[str, Any] = {"windows": windows}
    pauses: dict[str, float] = {}
    for source in (on_disk, ours):
        paused = source.get("paused")
        for server, until in (paused.items() if isinstance(paused, Mapping) else ()):
            if isinstance(until, int | float) and until > wall_now:
                pauses[server] = max(pauses.get(server, until), until)
    if pauses:
        merged["paused"] = pauses
    return merged


def _windows(state: Mapping[str, Any]) -> dict[str, list[float]]:
    found = state.get("windows")
    if not isinstance(found, Mapping):
        return {}
    return {str(name): [float(s) for s in stamps if isinstance(s, int | float) and math.isfinite(s)]
            for name, stamps in found.items() if isinstance(stamps, list)}
