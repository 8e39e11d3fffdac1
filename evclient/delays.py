"""When to read a remote command's status next.

Every status read costs one request of the hourly budget, so the engine asks a :class:`DelayPolicy`
when the next read is worth it. A policy sees the command so far (a :class:`CommandTrace`: each read's
time and status) and the same car's recent past commands, which the account keeps (and exports, so a
restart does not forget them).

:class:`GrowingDelays` is a fixed schedule. :class:`AdaptiveDelays` learns the car's typical latency
(its coverage decides most of it) and places each read where one more request buys the most: the
chance that the outcome arrives since the last read, weighed against how late a sparser read would
see it. A status that says the outcome is imminent (BMW's DELIVERED) brings the next read close.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any, Protocol

import attrs


class Outcome(enum.Enum):
    """Where a status leaves a command."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@attrs.frozen
class CommandTrace:
    """One command as its status reads saw it.

    ``reads`` holds ``(seconds after the server accepted the command, status)`` for the submission's own
    answer (at 0) and every status read; ``outcome`` is ``PENDING`` while the command runs.
    """

    name: str
    reads: tuple[tuple[float, str], ...]
    outcome: Outcome = Outcome.PENDING

    @property
    def polls(self) -> int:
        """Status reads so far (the submission's own answer is not one)."""
        return max(0, len(self.reads) - 1)

    @property
    def last_read(self) -> float:
        return self.reads[-1][0] if self.reads else 0.0

    @property
    def status(self) -> str | None:
        return self.reads[-1][1] if self.reads else None

    def finished_between(self) -> tuple[float, float] | None:
        """When the car answered: after the last read before the outcome, at the latest by the read that saw it.

        ``None`` unless the car itself answered (success or failure): a server time-out says nothing
        about the car's latency.
        """
        if self.outcome not in (Outcome.SUCCESS, Outcome.FAILED) or len(self.reads) < 2:
            return None
        return self.reads[-2][0], self.reads[-1][0]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "reads": [[round(t, 3), s] for t, s in self.reads], "outcome": self.outcome.value}

    @classmethod
    def from_json(cls, data: Any) -> CommandTrace:
        """Parse :meth:`to_json` output; raises ``ValueError`` on anything else."""
        try:
            reads = tuple((float(t), str(s)) for t, s in data["reads"])
            return cls(str(data["name"]), reads, Outcome(data["outcome"]))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not a command trace: {err}") from None


class DelayPolicy(Protocol):
    """Chooses when to read a command's status next."""

    def next_read(self, current: CommandTrace, past: Sequence[CommandTrace]) -> float:
        """When to read next, in seconds after the server accepted the command.

        ``current`` holds the reads so far (never empty); ``past`` the same car's recent finished
        commands, oldest first. A time not after ``current.last_read`` means "read now".
        """


@attrs.frozen
class GrowingDelays:
    """A fixed growing schedule; the last step repeats (e.g. 2, 3, 5, 8, 13, 20, 30, 30 … s)."""

    steps: Sequence[float] = (2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0)

    def next_read(self, current: CommandTrace, past: Sequence[CommandTrace]) -> float:
        return current.last_read + self.steps[min(current.polls, len(self.steps) - 1)]


_NORMAL = NormalDist()


@attrs.frozen(kw_only=True)
class AdaptiveDelays:
    """Reads placed by the car's own latency, learnt from its past commands.

    The time to an outcome is modelled as log-normal: ``median`` and ``spread`` (σ of its logarithm)
    are the prior, worth ``prior_weight`` past commands; each of the car's answered commands (up to
    ``memory``) pulls the estimate towards that car. ``never_share`` of commands never get an answer
    (learnt the same way), which keeps a late command from being read ever more often.

    The gap after a read at ``t`` is ``sqrt(2 · read_cost / hazard)``, the classic inspection interval:
    one read costs as much as ``read_cost`` seconds of seeing the outcome late, and ``hazard`` is the
    chance per second that the outcome arrives now, given it has not yet. Gaps stay within
    ``min_gap … max_gap``. A status in ``imminent`` (the outcome follows within seconds) sets the next
    gap to its value instead. Once the server has been seen giving up (TIMED_OUT), a read lands right
    at that time rather than up to ``max_gap`` after it.
    """

    median: float = 20.0
    spread: float = 0.55
    prior_weight: float = 1.0
    never_share: float = 0.05
    read_cost: float = 5.0
    min_gap: float = 2.0
    max_gap: float = 30.0
    imminent: Mapping[str, float] = attrs.field(factory=dict)
    memory: int = 20

    def __attrs_post_init__(self) -> None:
        if not (self.median > 0 and self.spread > 0 and self.read_cost > 0 and 0 < self.min_gap <= self.max_gap):
            raise ValueError("median, spread, read_cost and the gaps must be positive, min_gap ≤ max_gap")
        if not 0 <= self.never_share < 1:
            raise ValueError("never_share is a share: 0 ≤ never_share < 1")

    def next_read(self, current: CommandTrace, past: Sequence[CommandTrace]) -> float:
        t = current.last_read
        status = current.status
        if status is not None and status in self.imminent:
            # Soon; from the third read on a little later each time (a car that holds a command for long
            # may not answer at all, and must not cost a read every few seconds until the server gives up).
            streak = 0
            for _, seen in reversed(current.reads):
                if seen != status:
                    break
                streak += 1
            return t + min(self.max_gap, self.imminent[status] * 1.5 ** max(0, streak - 2))
        mu, sigma, never = self.estimate(past)
        gap = self.max_gap
        # Solve gap = sqrt(2c / hazard(t + gap/2)) by damped iteration; it settles within a few steps.
        for _ in range(40):
            wanted = math.sqrt(2 * self.read_cost / max(self._hazard(t + gap / 2, mu, sigma, never), 1e-9))
            wanted = min(self.max_gap, max(self.min_gap, wanted))
            if abs(wanted - gap) < 0.01:
                break
            gap = (gap + wanted) / 2
        if current.polls == 0:
            # Answers always seen at the first read say only "sooner than that": without a look earlier
            # now and then, a quick car would forever be read late.
            firsts = [trace.reads[1][0] for trace in past[-3:] if trace.polls == 1 and trace.finished_between()]
            if len(firsts) == 3:
                gap = min(gap, max(self.min_gap, 0.8 * min(firsts) - t))
        bracket = self.server_gives_up(past)
        if bracket is not None and t < bracket[1]:
            lo, hi = bracket
            # Look when the server gives up rather than up to max_gap later; while that time is known
            # only roughly, look in the middle of what is left of the range (it narrows every time).
            target = (max(lo, t) + hi) / 2 if hi - max(lo, t) > 2 * self.min_gap else hi
            if target < t + gap:
                return target
        return t + gap

    def estimate(self, past: Sequence[CommandTrace]) -> tuple[float, float, float]:
        """The car's (mean and σ of the log latency, share of never-answered commands) from its past."""
        recent = list(past)[-self.memory:]
        brackets = [b for b in (trace.finished_between() for trace in recent) if b is not None]
        w = self.prior_weight
        mu, var = math.log(self.median), self.spread**2
        # Each past answer is only known to lie between two reads: take its expected log latency within
        # that bracket under the current estimate, re-estimate, repeat (a few EM rounds settle it).
        for _ in range(3 if brackets else 0):
            sigma = math.sqrt(var)
            moments = [_truncated(mu, sigma, lo, hi) for lo, hi in brackets]
            mu = (w * math.log(self.median) + sum(m for m, _ in moments)) / (w + len(moments))
            var = (w * self.spread**2 + sum((m - mu) ** 2 + v for m, v in moments)) / (w + len(moments))
        # Widen by the uncertainty of the mean itself (few observations: less sure of the car).
        sigma = math.sqrt(var * (1 + 1 / (w + len(brackets))))
        unanswered = sum(1 for trace in recent if trace.outcome is Outcome.TIMED_OUT)
        never_weight = 20.0
        never = (never_weight * self.never_share + unanswered) / (never_weight + len(recent))
        return mu, max(sigma, 0.05), never

    @staticmethod
    def server_gives_up(past: Sequence[CommandTrace]) -> tuple[float, float] | None:
        """When the server answers TIMED_OUT: after the latest read that saw a command still running, at
        the latest by the earliest read that saw TIMED_OUT; ``None`` before it has been seen once."""
        given_up = [trace.last_read for trace in past if trace.outcome is Outcome.TIMED_OUT and trace.polls]
        if not given_up:
            return None
        hi = min(given_up)
        running = [
            at for trace in past
            for at, _ in (trace.reads if trace.outcome is Outcome.PENDING else trace.reads[:-1])
        ]
        lo = max((at for at in running if at < hi), default=0.0)
        return lo, hi

    @staticmethod
    def _hazard(t: float, mu: float, sigma: float, never: float) -> float:
        if t <= 0:
            return 0.0
        z = (math.log(t) - mu) / sigma
        density = (1 - never) * _NORMAL.pdf(z) / (sigma * t)
        survival = (1 - never) * (1 - _NORMAL.cdf(z)) + never
        return density / survival if survival > 0 else math.inf


def _truncated(mu: float, sigma: float, lo: float, hi: float) -> tuple[float, float]:
    """Mean and variance of X ~ N(mu, sigma²) given log lo < X ≤ log hi."""
    b = (math.log(max(hi, 1e-3)) - mu) / sigma
    a = (math.log(lo) - mu) / sigma if lo > 0 else -math.inf
    mass = _NORMAL.cdf(b) - (_NORMAL.cdf(a) if a > -math.inf else 0.0)
    if mass < 1e-9:  # the bracket lies far in a tail: its nearer end is the best guess
        return mu + sigma * (a if a > 0 else b), 0.0
    pdf_a, pdf_b = (_NORMAL.pdf(a) if a > -math.inf else 0.0), _NORMAL.pdf(b)
    a_pdf_a = a * pdf_a if a > -math.inf else 0.0
    shift = (pdf_a - pdf_b) / mass
    variance = sigma**2 * max(0.0, 1 + (a_pdf_a - b * pdf_b) / mass - shift**2)
    return mu + sigma * shift, variance
