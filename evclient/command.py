"""Remote commands: validate → submit → poll the status with growing delays → a :class:`CommandResult`.

Brands describe each command with a :class:`CommandSpec`; this engine is the same for all of them.
Submission runs at COMMAND priority and status polls at COMMAND_STATUS priority, both through the
account's scheduler. A transient error while polling the status does not lose the outcome: the engine
keeps asking until the deadline.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from .errors import (
    CommandFailed,
    CommandTimedOut,
    EVClientError,
    InvalidInputError,
    RateLimited,
    TemporaryError,
    reading,
)
from .scheduler import Priority

if TYPE_CHECKING:
    from .brand import Api, VehicleInfo

_LOG = logging.getLogger(__name__)


class Outcome(enum.Enum):
    """Where a status leaves a command."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@attrs.frozen
class Submission:
    """What the server answered to a submitted command."""

    status: str
    event_id: str | None = None
    raw: Any = attrs.field(default=None, repr=False, eq=False)


@attrs.frozen
class StatusChange:
    """One status the command went through, ``elapsed`` seconds after submission."""

    status: str
    elapsed: float


@attrs.frozen
class CommandResult:
    """A command that reached success: its last status, cost and timeline."""

    name: str
    status: str
    event_id: str | None
    polls: int
    elapsed: float
    history: tuple[StatusChange, ...]
    raw: Any = attrs.field(default=None, repr=False, eq=False)


class DelayPolicy(Protocol):
    """When to read a command's status next."""

    def delay(self, polls: int, elapsed: float, status: str) -> float:
        """Seconds to wait before status read number ``polls + 1``."""

    def observe(self, latency: float, outcome: Outcome) -> None:
        """Learn from a finished command (how long it took to reach ``outcome``)."""


@attrs.define
class GrowingDelays:
    """A fixed growing schedule; the last step repeats (e.g. 2, 3, 5, 8, 13, 20, 30, 30 … s)."""

    steps: Sequence[float] = (2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0)

    def delay(self, polls: int, elapsed: float, status: str) -> float:
        return self.steps[min(polls, len(self.steps) - 1)]

    def observe(self, latency: float, outcome: Outcome) -> None:
        return None


def _default_delays() -> DelayPolicy:
    return GrowingDelays()


Validator = Callable[["VehicleInfo", Mapping[str, Any]], Any]
Submitter = Callable[["Api", "VehicleInfo", Any], Awaitable[Submission]]
StatusReader = Callable[["Api", "VehicleInfo", Submission], Awaitable[Submission]]


@attrs.frozen(kw_only=True)
class CommandSpec:
    """How one remote command works on a brand.

    * ``validate(vehicle, params)`` checks and converts the caller's parameters before any request,
      raising :class:`~evclient.errors.InvalidInputError`;
    * ``submit(api, vehicle, prepared)`` sends it and returns the server's :class:`Submission`;
    * ``read_status(api, vehicle, submission)`` reads the current status (``None``: the submission's
      own status is final, for commands without a status channel);
    * ``classify(status)`` says whether a status is final;
    * ``lock_key(prepared)`` names a status channel commands must not share at the same time;
    * ``refresh_after`` lists endpoints to read again after success.
    """

    name: str
    submit: Submitter
    classify: Callable[[str], Outcome]
    validate: Validator = attrs.field(default=lambda vehicle, params: dict(params))
    read_status: StatusReader | None = None
    lock_key: Callable[[Any], str] | None = None
    refresh_after: tuple[str, ...] = ()
    delays: DelayPolicy = attrs.field(factory=_default_delays)
    deadline: float = 300.0
    description: str = ""


def no_params(name: str) -> Validator:
    """The validator of a command that takes no parameters."""

    def validate(vehicle: VehicleInfo, params: Mapping[str, Any]) -> dict[str, Any]:
        if params:
            raise InvalidInputError(f"{name} takes no parameters (got {', '.join(sorted(params))})")
        return {}

    return validate


ProgressCallback = Callable[[StatusChange], None]


class CommandHandle:
    """A submitted command. ``await handle`` (or :meth:`wait`) follows it to its result.

    ``status`` and ``history`` show where it is; the optional progress callback hears each change.
    """

    def __init__(self, name: str, task: asyncio.Task[CommandResult], state: _CommandState) -> None:
        self.name = name
        self._task = task
        self._state = state

    @property
    def status(self) -> str | None:
        return self._state.history[-1].status if self._state.history else None

    @property
    def event_id(self) -> str | None:
        return self._state.event_id

    @property
    def history(self) -> tuple[StatusChange, ...]:
        return tuple(self._state.history)

    @property
    def done(self) -> bool:
        return self._task.done()

    async def wait(self) -> CommandResult:
        return await asyncio.shield(self._task)

    def __await__(self) -> Generator[Any, None, CommandResult]:
        return self.wait().__await__()

    def cancel(self) -> None:
        """Stop following the command locally (the car may still execute it)."""
        self._task.cancel()


@attrs.define
class _CommandState:
    submitted: asyncio.Future[None]  # resolved once the server accepted the command (or refused it)
    history: list[StatusChange] = attrs.field(factory=list)
    event_id: str | None = None


async def run_command(
    spec: CommandSpec,
    vehicle: VehicleInfo,
    prepared: Any,
    *,
    api_for: Callable[[Priority], Api],
    state: _CommandState,
    deadline: float,
    progress: ProgressCallback | None,
) -> CommandResult:
    """Submit ``spec`` and follow its status to a terminal outcome; see :class:`CommandSpec`."""
    loop = asyncio.get_running_loop()
    started = loop.time()

    def record(status: str) -> None:
        if state.history and state.history[-1].status == status:
            return
        change = StatusChange(status, round(loop.time() - started, 3))
        state.history.append(change)
        if progress is not None:
            try:
                progress(change)
            except Exception:  # a display callback must not break the command
                _LOG.exception("command progress callback failed")

    submitted = state.submitted
    try:
        with reading(spec.name):
            submission = await spec.submit(api_for(Priority.COMMAND), vehicle, prepared)
    except BaseException as err:
        if not submitted.done():
            submitted.set_exception(err if isinstance(err, Exception) else asyncio.CancelledError())
            submitted.exception()  # mark retrieved: the awaiting caller re-raises it itself
        raise
    state.event_id = submission.event_id
    record(submission.status)
    if not submitted.done():
        submitted.set_result(None)

    polls = 0
    current = submission
    outcome = spec.classify(current.status)
    final_look = False
    while outcome is Outcome.PENDING and spec.read_status is not None and not final_look:
        wait = spec.delays.delay(polls, loop.time() - started, current.status)
        remaining = started + deadline - loop.time()
        if wait >= remaining:
            # One last look right at the deadline, then give up.
            final_look = True
            wait = max(0.0, remaining)
        await asyncio.sleep(wait)
        polls += 1
        try:
            with reading(f"{spec.name} status"):
                current = await spec.read_status(api_for(Priority.COMMAND_STATUS), vehicle, submission)
        except RateLimited:  # a pause is not a passing error: the account refuses everything now
            raise
        except TemporaryError as err:
            # The outcome is still out there: ask again at the next step rather than lose it.
            _LOG.debug("status of %s unavailable for now (%s); will ask again", spec.name, type(err).__name__)
            continue
        record(current.status)
        outcome = spec.classify(current.status)

    elapsed = round(loop.time() - started, 3)
    if outcome is Outcome.PENDING:
        spec.delays.observe(elapsed, Outcome.TIMED_OUT)
        raise CommandTimedOut(
            f"{spec.name}: no outcome within {deadline:.0f} s (last status {current.status})",
            status=current.status,
            result=_result(spec, current, polls, elapsed, state),
        )
    spec.delays.observe(elapsed, outcome)
    result = _result(spec, current, polls, elapsed, state)
    if outcome is Outcome.FAILED:
        raise CommandFailed(f"{spec.name}: the car answered {current.status}", status=current.status, result=result)
    if outcome is Outcome.TIMED_OUT:
        message = f"{spec.name}: the server gave up ({current.status})"
        raise CommandTimedOut(message, status=current.status, result=result)
    for name in spec.refresh_after:
        try:
            await api_for(Priority.REFRESH).fetch(vehicle, name)
        except EVClientError as err:
            _LOG.debug("refresh of %s after %s failed: %s", name, spec.name, type(err).__name__)
    return result


def _result(spec: CommandSpec, current: Submission, polls: int, elapsed: float, state: _CommandState) -> CommandResult:
    return CommandResult(
        name=spec.name,
        status=current.status,
        event_id=state.event_id,
        polls=polls,
        elapsed=elapsed,
        history=tuple(state.history),
        raw=current.raw,
    )
