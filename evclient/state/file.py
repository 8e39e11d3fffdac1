"""The account's state in one private file (the CLI's default), written through as it changes.

Every change is written at once: an admitted request before it is sent, a rotated token before it is first
used. Each write replaces the file atomically (a private temporary file, fsync, then a rename), so a crash,
SIGKILL or SIGTERM mid-write leaves the old file, never half of one; the budget is merged with what is on
disk, so nothing another writer recorded is lost. A file that cannot be read is an error naming it, never a
silent fresh budget.

Times survive a wall-clock step (a resume from suspend, an NTP correction): each write records the wall time
it was made on and the machine's monotonic clock, and a later process re-anchors the saved times by how much
monotonic time has passed — the shorter of the two readings, so a step can make the log look younger (more
careful), never older.
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
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from .base import PARTS, AccountStore

#: How long a saved vehicle listing is used before the cars are listed again.
LISTING_MAX_AGE = 86400.0
#: How often a run waiting for another run's lock looks again (real seconds).
LOCK_POLL = 0.2


class StateFileError(InvalidInputError):
    """The state file exists but cannot be used; the message names it and what to do."""


def state_dir() -> Path:
    """Where the state files live (``EVCLIENT_STATE_DIR``, else ``~/.local/state/evclient``)."""
    return Path(os.environ.get("EVCLIENT_STATE_DIR") or Path.home() / ".local" / "state" / "evclient")


class FileStore(AccountStore):
    """Tokens, the budget log, the car listing, each car's recent commands and last values of one account,
    in one owner-only file."""

    def __init__(self, brand: str, username: str | None, servers: Mapping[str, str],
                 root: Path | None = None) -> None:
        key = hashlib.sha256(json.dumps([brand, username, sorted(servers.items())]).encode()).hexdigest()[:16]
        self.path = (root or state_dir()) / f"{brand}-{key}.json"
        self.lock_path = self.path.with_suffix(".lock")
        self.wrote = False
        #: Why the last write failed (``None``: it did not), for a program to say so.
        self.error: OSError | None = None
        #: Who writes through this store: times it wrote itself are on its own clock already.
        self._writer = secrets.token_hex(8)
        #: The budget as this store last read or wrote it (on the account's clock): what is on disk of ours.
        self._base: dict[str, Any] = {}

    # -- AccountStore -------------------------------------------------------------------------------------

    def load(self, wall_now: float | None = None) -> dict[str, Any]:
        """The saved state (``{}`` when there is none yet), its times re-anchored to ``wall_now`` (the
        account's clock; the machine's when not given). A damaged file raises :class:`StateFileError`."""
        data = self._read()
        if isinstance(data.get("budget"), dict):
            data["budget"] = rebase(data["budget"], time.time() if wall_now is None else wall_now, self._writer)
            self._base = data["budget"]
        return data

    def write(self, changes: Mapping[str, Any], wall_now: float) -> None:
        """Keep ``changes`` at once, merged with what is on disk (see the module docstring)."""
        try:
            on_disk = self._read()
        except StateFileError:
            on_disk = {}  # replaced by a good file below
        merged = {**on_disk, **changes}
        if "budget" in changes:
            disk_budget = rebase(on_disk.get("budget") or {}, wall_now, self._writer)
            ours = changes["budget"] or {}
            spans = _spans(ours) or _spans(disk_budget)
            budget = merge_budget(disk_budget, ours, self._base, spans, wall_now)
            if spans:
                budget["spans"] = spans
            self._base = dict(budget)  # on disk now: what the next write tells others' stamps apart from
            merged["budget"] = {**budget, "clock": clock_reference(wall_now, self._writer)}
        # Synced to the disk only for tokens: a kill never loses what was written (the kernel has it), and
        # only a power cut could lose an unsynced budget entry — an fsync per request would cost far more.
        try:
            self._replace(merged, sync="tokens" in changes)
        except OSError as err:
            self.error = err
            raise
        self.error = None
        self.wrote = True

    # -- reading ----------------------------------------------------------------------------------------

    def _read(self) -> dict[str, Any]:
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
        for key in PARTS:
            if data.get(key) is not None and not isinstance(data[key], dict):
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
        # A listing from "the future" is one from before a backward clock step: using it spends nothing.
        return cars if abs(wall_now - listed_at) < LISTING_MAX_AGE else None

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

    def _replace(self, data: Mapping[str, Any], *, sync: bool = True) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
                handle.flush()
                if sync:
                    os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


#: The name the command line knew it by.
StateFile = FileStore


def _boot_id() -> str | None:
    """This boot of the machine (its monotonic clock starts again at each): Linux says, others do not."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def clock_reference(wall_now: float, writer: str) -> dict[str, Any]:
    """What a later process needs to re-anchor times ``writer`` wrote at ``wall_now``."""
    return {"wall": round(wall_now, 3), "monotonic": round(time.monotonic(), 3), "boot": _boot_id(),
            "writer": writer}


def rebase(budget: Mapping[str, Any], wall_now: float, reader: str | None = None) -> dict[str, Any]:
    """``budget`` (its stamps and pauses on the clock of the process that wrote it) on the clock of ``wall_now``.

    The time passed since the write is the monotonic clock's reading when the machine has not rebooted since,
    and never more than the wall clock's: a step of the wall clock either way cannot age a request out early.
    Without a reference (an older file) the stamps stay as they are; stamps in the future count as now.
    """
    result = {k: v for k, v in budget.items() if k != "clock"}
    ref = budget.get("clock")
    if not isinstance(ref, Mapping) or not _finite(ref.get("wall")) or (reader and ref.get("writer") == reader):
        return result  # no reference (an older file), or written on the reader's own clock
    written = float(ref["wall"])
    passed = max(0.0, wall_now - written)
    monotonic = ref.get("monotonic")
    if isinstance(monotonic, int | float) and _finite(monotonic) and ref.get("boot") is not None \
            and ref.get("boot") == _boot_id():
        passed = min(passed, max(0.0, time.monotonic() - float(monotonic)))
    shift = (wall_now - passed) - written
    windows = result.get("windows")
    if isinstance(windows, Mapping):
        result["windows"] = {name: [min(wall_now, float(s) + shift) if _finite(s) else s for s in stamps]
                             if isinstance(stamps, list) else stamps for name, stamps in windows.items()}
    paused = result.get("paused")
    if isinstance(paused, Mapping):
        result["paused"] = {server: float(until) + shift if _finite(until) else until
                            for server, until in paused.items()}
    return result


def _spans(budget: Mapping[str, Any]) -> dict[str, float]:
    found = budget.get("spans")
    if not isinstance(found, Mapping):
        return {}
    return {str(name): float(span) for name, span in found.items() if _finite(span)}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: Two stamps this close are the same request (a stamp goes through loop time and back, rounded to ms).
SAME_STAMP = 0.002


def merge_budget(on_disk: Mapping[str, Any], ours: Mapping[str, Any], loaded: Mapping[str, Any],
                 spans: Mapping[str, float], wall_now: float) -> dict[str, Any]:
    """Budget state holding every request either side knows: this run's whole log (``ours``), plus what
    others wrote to disk since this run last read or wrote it (what is on disk less what it ``loaded``).
    This run's log wins for its own requests: one it wrote while in flight, stamped when admitted, is the same
    request as the one it now holds stamped when answered. Stamps older than their window are dropped; of two
    pauses of one server the longer wins."""
    windows: dict[str, list[float]] = {}
    disk_windows, our_windows, loaded_windows = (_windows(x) for x in (on_disk, ours, loaded))
    for name in {*disk_windows, *our_windows}:
        others = _unmatched(sorted(disk_windows.get(name, [])), sorted(loaded_windows.get(name, [])))
        horizon = wall_now - spans.get(name, math.inf)
        windows[name] = sorted(s for s in [*others, *our_windows.get(name, [])] if s > horizon)
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


def _unmatched(stamps: list[float], known: list[float]) -> list[float]:
    """The sorted ``stamps`` that no stamp of the sorted ``known`` stands for (each stands for one, within
    :data:`SAME_STAMP`)."""
    left: list[float] = []
    j = 0
    for stamp in stamps:
        while j < len(known) and known[j] < stamp - SAME_STAMP:
            j += 1
        if j < len(known) and abs(known[j] - stamp) <= SAME_STAMP:
            j += 1
        else:
            left.append(stamp)
    return left


def _windows(state: Mapping[str, Any]) -> dict[str, list[float]]:
    found = state.get("windows")
    if not isinstance(found, Mapping):
        return {}
    return {str(name): [float(s) for s in stamps if isinstance(s, int | float) and math.isfinite(s)]
            for name, stamps in found.items() if isinstance(stamps, list)}
