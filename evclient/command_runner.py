"""An account's commands: validation, the car's command channels, the deadline, and each car's history."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .command import CommandHandle, CommandResult, CommandSpec, CommandState, ProgressCallback, run_command
from .delays import CommandTrace
from .errors import (
    AccountClosed,
    CommandCancelled,
    CommandNotSupported,
    CommandTimedOut,
    InvalidInputError,
)
from .scheduler import DEADLINE, Priority
from .validate import positive_seconds

if TYPE_CHECKING:
    from .brand import Api, Session, VehicleInfo
    from .clock import Clock
    from .vehicle import Vehicle

#: Past commands kept per car for the delay policies (and exported by ``Account.command_history``).
HISTORY_PER_CAR = 20


__all__ = ["CommandNotSupported", "CommandRunner"]  # CommandNotSupported: evclient.errors's, kept here too

class CommandRunner:
    """Starts commands and follows them in tasks the account owns (``spawn``), one at a time per channel."""

    def __init__(self, session: Session, clock: Clock, *, api_for: Callable[[Priority], Api],
                 spawn: Callable[[Any], asyncio.Task[Any]], is_closed: Callable[[], bool],
                 check_open: Callable[[], None]) -> None:
        self._session = session
        self._brand = session.brand
        self._clock = clock
        self._api_for = api_for
        self._spawn = spawn
        self._is_closed = is_closed
        self._check_open = check_open  # the pipeline's: one refusal, worded once
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._traces: dict[str, deque[CommandTrace]] = {}

    # -- history ---------------------------------------------------------------------------------------

    def recent(self, vin: str) -> tuple[CommandTrace, ...]:
        return tuple(self._traces.get(vin, ()))

    def export(self) -> dict[str, list[dict[str, Any]]]:
        return {vin: [trace.to_json() for trace in traces] for vin, traces in self._traces.items() if traces}

    def load(self, history: Mapping[str, Sequence[Any]]) -> None:
        if not isinstance(history, Mapping):
            raise InvalidInputError("command_history must map each VIN to a list of traces")
        for vin, traces in history.items():
            if not isinstance(traces, Sequence) or isinstance(traces, str | bytes):
                raise InvalidInputError("command_history must map each VIN to a list of traces")
            try:
                parsed = [CommandTrace.from_json(trace) for trace in traces]
            except ValueError as err:
                raise InvalidInputError(f"command_history: {err}") from None
            self._history(str(vin)).extend(parsed)

    def _history(self, vin: str) -> deque[CommandTrace]:
        return self._traces.setdefault(vin, deque(maxlen=HISTORY_PER_CAR))

    @property
    def busy_channels(self) -> int:
        """Command channels held right now (a car's command of one kind under way)."""
        return sum(1 for lock in self._locks.values() if lock.locked())

    # -- commands --------------------------------------------------------------------------------------

    def names(self, info: VehicleInfo) -> tuple[str, ...]:
        """The commands a car may accept (those its model is known not to have are left out)."""
        return tuple(s.name for s in self._brand.commands if self._brand.command_supported(info, s) is not False)

    def spec(self, vehicle: Vehicle, name: str) -> CommandSpec:
        for spec in self._brand.commands:
            if spec.name == name:
                if self._brand.command_supported(vehicle.info, spec) is False:
                    raise CommandNotSupported(f"{name} is not supported by this car")
                return spec
        raise CommandNotSupported(f"{self._brand.name} has no command {name!r}")

    async def start(self, vehicle: Vehicle, name: str, params: Mapping[str, Any], progress: ProgressCallback | None,
                    deadline: float | None) -> CommandHandle:
        called = self._clock.now()
        self._check_open()
        spec = self.spec(vehicle, name)
        params = self._session.command_params(vehicle.info, spec, params)
        prepared = spec.validate(vehicle.info, params)  # raises InvalidInputError before any request
        if deadline is not None:
            positive_seconds("a command deadline", deadline)
        seconds = spec.deadline if deadline is None else float(deadline)
        # The deadline counts from this call: every wait for a slot or for the command channel is inside it.
        deadline_at = called + seconds
        submitted: asyncio.Future[None] = self._clock.loop.create_future()
        state = CommandState(submitted=submitted)
        history = self._history(vehicle.vin)
        lock = None
        if spec.lock_key is not None:
            lock = self._locks.setdefault((vehicle.vin, spec.lock_key(prepared)), asyncio.Lock())

        async def follow() -> CommandResult:
            return await run_command(spec, vehicle.info, prepared, api_for=self._api_for, state=state,
                                     deadline=seconds, deadline_at=deadline_at, progress=progress,
                                     past=tuple(history), remember=history.append)

        async def run() -> CommandResult:
            DEADLINE.set(deadline_at)
            try:
                if lock is None:
                    return await follow()
                try:
                    async with asyncio.timeout_at(deadline_at):
                        await lock.acquire()
                except TimeoutError:
                    raise CommandTimedOut(f"{name}: the car's previous command of this kind was still running "
                                          f"at the deadline ({seconds:.0f} s); nothing was sent") from None
                try:
                    return await follow()
                finally:
                    lock.release()
            except BaseException as err:
                if not submitted.done():  # failed before the server accepted it: the caller hears why
                    submitted.set_exception(err if isinstance(err, Exception) else asyncio.CancelledError())
                    submitted.exception()
                if isinstance(err, asyncio.CancelledError) and self._is_closed():
                    raise AccountClosed(f"{name}: the account was closed before the command's outcome") from None
                raise

        task = self._spawn(run())
        try:
            await asyncio.shield(submitted)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                if not submitted.done():
                    task.cancel()
                raise
            # Not our caller's cancellation: the account closed, or the command was stopped before submission.
            if self._is_closed():
                raise AccountClosed(f"{name}: the account was closed before the command was sent") from None
            raise CommandCancelled(f"{name}: stopped before it was sent") from None
        return CommandHandle(name, task, state)
