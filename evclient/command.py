"""Remote commands: validate → submit → poll the status with growing delays → a :class:`CommandResult`.

Brands describe each command with a :class:`CommandSpec`; this engine is the same for all of them.
When to read the status is the spec's :class:`~evclient.delays.DelayPolicy`, which sees the car's past
commands (kept by the account).
Submission runs at COMMAND priority and status polls at COMMAND_STATUS priority, both through the
account's scheduler. A lost or garbled status answer does not lose the outcome: the engine asks again,
backing off, until the deadline; a quota pause that ends before the deadline is waited out. The deadline
counts from the caller's call, every wait for a slot included: when no slot can come before it, the
command ends with :class:`~evclient.errors.CommandTimedOut` at once, spending nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .delays import CommandTrace, DelayPolicy, GrowingDelays, Outcome
from .errors import (
    BudgetExhausted,
    CommandCancelled,
    CommandFailed,
    CommandTimedOut,
    EVClientError,
    InvalidInputError,
    RateLimited,
    ResponseError,
    TemporaryError,
    reading,
)
from .scheduler import DEADLINE, Priority

if TYPE_CHECKING:
    from .brand import Api, VehicleInfo

_LOG = logging.getLogger(__name__)


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
    delays: DelayPolicy = attrs.field(factory=GrowingDelays)
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

#: Seconds before asking again after a status read failed (a server hiccup, not news of the car).
RETRY_GAP = 5.0
#: Seconds the reads after a successful command may wait for a slot before they are left to the polls.
REFRESH_GRACE = 10.0
MAX_RETRY_GAP = 60.0


class CommandHandle:
    """A submitted command. ``await handle`` (or :meth:`wait`) follows it to its result.

    ``status`` and ``history`` show where it is; the optional progress callback hears each change.
    """

    def __init__(self, name: str, task: asyncio.Task[CommandResult], state: CommandState) -> None:
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
        """The command's result; :class:`~evclient.errors.CommandCancelled` if :meth:`cancel` stopped it.

        Cancelling the caller of ``wait()`` does not stop the command (``Vehicle.command()`` does).
        """
        try:
            return await asyncio.shield(self._task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not self._task.cancelled() or (current is not None and current.cancelling()):
                raise
            # The command was stopped, not this caller: it gets a typed error, never a stray cancellation.
            raise CommandCancelled(f"{self.name}: stopped before its outcome; the car may still execute it") from None

    def __await__(self) -> Generator[Any, None, CommandResult]:
        return self.wait().__await__()

    def cancel(self) -> None:
        """Stop following the command locally: no more status reads, and the car's command channel is free
        for the next command (the car may still execute this one)."""
        self._task.cancel()


@attrs.define
class CommandState:
    """A command under way, as its handle shows it: accepted yet, the statuses so far, the server's id."""

    submitted: asyncio.Future[None]  # resolved once the server accepted the command (or refused it)
    history: list[StatusChange] = attrs.field(factory=list)
    event_id: str | None = None


async def run_command(
    spec: CommandSpec,
    vehicle: VehicleInfo,
    prepared: Any,
    *,
    api_for: Callable[[Priority], Api],
    state: CommandState,
    deadline: float,
    progress: ProgressCallback | None,
    past: Sequence[CommandTrace] = (),
    remember: Callable[[CommandTrace], None] | None = None,
    deadline_at: float | None = None,
) -> CommandResult:
    """Submit ``spec`` and follow its status to a terminal outcome; see :class:`CommandSpec`.

    ``deadline`` is in seconds; ``deadline_at`` is the loop time it ends (default: ``deadline`` from now).
    ``past`` are the car's earlier commands for the delay policy; ``remember`` receives this one's
    trace once it has an outcome (also when it fails or times out).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    end = started + deadline if deadline_at is None else deadline_at

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
    except BudgetExhausted as err:
        timed_out = CommandTimedOut(f"{spec.name}: not sent: {err}")
        submitted.set_exception(timed_out)
        submitted.exception()
        raise timed_out from None
    except BaseException as err:
        if not submitted.done():
            submitted.set_exception(err if isinstance(err, Exception) else asyncio.CancelledError())
            submitted.exception()  # mark retrieved: the awaiting caller re-raises it itself
        raise
    # The policy counts from acceptance, not from the call: a wait for budget says nothing of the car.
    accepted = loop.time()
    state.event_id = submission.event_id
    record(submission.status)
    if not submitted.done():
        submitted.set_result(None)

    polls = 0
    current = submission
    trace = CommandTrace(spec.name, ((0.0, current.status),))
    failed_at: float | None = None
    failures = 0
    outcome = spec.classify(current.status)
    final_look = False
    while outcome is Outcome.PENDING and spec.read_status is not None and not final_look:
        target = accepted + spec.delays.next_read(trace, past)
        if failed_at is not None:
            # Back off while reads keep failing: each one costs a request of the hour.
            target = max(target, failed_at + min(RETRY_GAP * 2 ** (failures - 1), MAX_RETRY_GAP))
        wait = max(0.0, target - loop.time())
        remaining = end - loop.time()
        if wait >= remaining:
            # One last look right at the deadline, then give up.
            final_look = True
            wait = max(0.0, remaining)
        await asyncio.sleep(wait)
        polls += 1
        try:
            with reading(f"{spec.name} status"):
                current = await spec.read_status(api_for(Priority.COMMAND_STATUS), vehicle, submission)
        except BudgetExhausted as err:
            # No slot before the deadline: stop here rather than read past it.
            _LOG.debug("status of %s: %s", spec.name, err)
            break
        except RateLimited as err:
            # The account is paused. Wait it out if the deadline allows: the outcome is still out there.
            resume = loop.time() + (err.retry_after or 0.0)
            if resume >= end:
                raise
            _LOG.debug("status of %s: the account is paused %.0f s; will ask again after", spec.name, resume)
            failed_at, failures = resume, 1
            continue
        except (TemporaryError, ResponseError) as err:
            # A lost or garbled answer: ask again a little later rather than lose the outcome.
            _LOG.debug("status of %s unavailable for now (%s); will ask again", spec.name, type(err).__name__)
            failed_at, failures = loop.time(), failures + 1
            continue
        failed_at, failures = None, 0
        trace = attrs.evolve(trace, reads=(*trace.reads, (round(loop.time() - accepted, 3), current.status)))
        record(current.status)
        outcome = spec.classify(current.status)

    elapsed = round(loop.time() - started, 3)
    if remember is not None:
        # A local deadline leaves the outcome PENDING: we stopped watching, the car may still answer.
        remember(attrs.evolve(trace, outcome=outcome))
    if outcome is Outcome.PENDING:
        raise CommandTimedOut(
            f"{spec.name}: no outcome within the deadline of {deadline:.0f} s (last status {current.status})",
            status=current.status,
            result=_result(spec, current, polls, elapsed, state),
        )
    result = _result(spec, current, polls, elapsed, state)
    if outcome is Outcome.FAILED:
        raise CommandFailed(f"{spec.name}: the car answered {current.status}", status=current.status, result=result)
    if outcome is Outcome.TIMED_OUT:
        message = f"{spec.name}: the server gave up ({current.status})"
        raise CommandTimedOut(message, status=current.status, result=result)
    # The command has succeeded: these reads must not hold its result back while they wait for budget
    # (background polls pick the values up later), so they get a few seconds at most.
    token = DEADLINE.set(min(end, loop.time() + REFRESH_GRACE))
    try:
        for name in spec.refresh_after:
            await _refresh(api_for(Priority.REFRESH), vehicle, name)
    finally:
        DEADLINE.reset(token)
    return result


async def _refresh(api: Api, vehicle: VehicleInfo, name: str) -> None:
    try:
        await api.fetch(vehicle, name)
    except EVClientError as err:
        _LOG.debug("refresh of %s after a command failed: %s", name, type(err).__name__)


def _result(spec: CommandSpec, current: Submission, polls: int, elapsed: float, state: CommandState) -> CommandResult:
    return CommandResult(
        name=spec.name,
        status=current.status,
        event_id=state.event_id,
        polls=polls,
        elapsed=elapsed,
        history=tuple(state.history),
        raw=current.raw,
    )
