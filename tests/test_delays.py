"""The delay policies: when a command's status is read, from the car's own past."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evclient import AdaptiveDelays, CommandTrace, GrowingDelays, Outcome

POLICY = AdaptiveDelays(imminent={"DELIVERED": 4.0})


def follow(policy, answered_at, delivered_at=None, past=(), gives_up=None):
    """Read a command until it ends, like the engine does; the finished trace."""
    reads = [(0.0, "INITIATED")]
    while True:
        t = round(policy.next_read(CommandTrace("cmd", tuple(reads)), past), 3)  # as the engine records it
        assert t > reads[-1][0]
        if gives_up is not None and t >= gives_up:
            reads.append((t, "TIMED_OUT"))
            return CommandTrace("cmd", tuple(reads), Outcome.TIMED_OUT)
        if t >= answered_at:
            reads.append((t, "EXECUTED"))
            return CommandTrace("cmd", tuple(reads), Outcome.SUCCESS)
        reads.append((t, "DELIVERED" if delivered_at is not None and t >= delivered_at else "PENDING"))


def learn(policy, latency, times):
    past: list[CommandTrace] = []
    for _ in range(times):
        past.append(follow(policy, latency, past=past))
    return past


def first_read(policy, past):
    return policy.next_read(CommandTrace("cmd", ((0.0, "INITIATED"),)), past)


def test_growing_delays_repeat_their_last_step():
    policy = GrowingDelays((10.0, 8.0, 15.0))
    reads = [(0.0, "INITIATED")]
    times = []
    for _ in range(5):
        times.append(policy.next_read(CommandTrace("cmd", tuple(reads)), ()))
        reads.append((times[-1], "PENDING"))
    assert times == [10.0, 18.0, 33.0, 48.0, 63.0]


def test_a_car_is_read_when_it_usually_answers():
    new = first_read(POLICY, ())
    fast_car = learn(POLICY, 6.0, 8)
    slow_car = learn(POLICY, 70.0, 8)
    assert first_read(POLICY, fast_car) < 0.7 * new
    # A slow car is first read as late as the policy ever waits, and costs fewer reads once known.
    assert first_read(POLICY, slow_car) == POLICY.max_gap
    assert slow_car[-1].polls < slow_car[0].polls
    # What it learnt is the car's latency, within the precision its reads allow.
    for past, latency in ((fast_car, 6.0), (slow_car, 70.0)):
        mu, sigma, _ = POLICY.estimate(past)
        assert math.exp(mu) == pytest.approx(latency, rel=0.4)
        assert sigma < 0.5


def test_learning_costs_fewer_reads_and_sees_the_answer_sooner():
    rng = random.Random(7)
    latencies = [rng.lognormvariate(math.log(45.0), 0.25) for _ in range(30)]
    past: list[CommandTrace] = []
    naive, learnt = [], []
    for latency in latencies:
        for runs, history in ((naive, ()), (learnt, past)):
            runs.append(follow(POLICY, latency, past=tuple(history)))
        past.append(learnt[-1])
    late = [(t.last_read - latency) for t, latency in zip(learnt[10:], latencies[10:], strict=True)]
    naive_late = [(t.last_read - latency) for t, latency in zip(naive[10:], latencies[10:], strict=True)]
    assert sum(t.polls for t in learnt[10:]) <= sum(t.polls for t in naive[10:])
    assert sorted(late)[len(late) // 2] < sorted(naive_late)[len(naive_late) // 2]


def test_delivered_brings_the_next_read_close_but_not_forever():
    trace = CommandTrace("cmd", ((0.0, "INITIATED"), (17.0, "PENDING"), (31.0, "DELIVERED")))
    assert POLICY.next_read(trace, ()) == pytest.approx(35.0)
    gaps = []
    reads = list(trace.reads)
    for _ in range(8):
        t = POLICY.next_read(CommandTrace("cmd", tuple(reads)), ())
        gaps.append(round(t - reads[-1][0], 2))
        reads.append((t, "DELIVERED"))
    assert gaps[:3] == [4.0, 4.0, 6.0]
    assert gaps == sorted(gaps) and gaps[-1] == POLICY.max_gap


def test_once_the_server_gave_up_a_read_lands_at_that_time():
    past = [follow(POLICY, math.inf, gives_up=120.0)]
    lo, hi = POLICY.server_gives_up(past)
    assert lo < 120.0 <= hi
    late_before = hi - 120.0
    for _ in range(4):
        past.append(follow(POLICY, math.inf, gives_up=120.0, past=past))
    lo, hi = POLICY.server_gives_up(past)
    assert lo < 120.0 <= hi
    assert past[-1].last_read - 120.0 < min(late_before, 2 * POLICY.min_gap)
    # Timed-out commands teach that some commands never get an answer, not that the car is slow.
    mu, _, never = POLICY.estimate(past)
    assert mu == pytest.approx(math.log(POLICY.median)) and never > POLICY.never_share


def test_a_trace_survives_json_and_rejects_garbage():
    trace = follow(POLICY, 25.0, delivered_at=21.0)
    assert CommandTrace.from_json(trace.to_json()) == trace
    for garbage in ({}, {"name": "x", "reads": "no", "outcome": "success"},
                    {"name": "x", "reads": [], "outcome": "maybe"}, None):
        with pytest.raises(ValueError):
            CommandTrace.from_json(garbage)


def test_nonsense_settings_are_refused():
    for settings_ in ({"median": 0}, {"min_gap": 10, "max_gap": 5}, {"never_share": 1.0}, {"spread": -1}):
        with pytest.raises(ValueError):
            AdaptiveDelays(**settings_)


answers = st.tuples(
    st.floats(0.5, 400.0),
    st.sampled_from([Outcome.SUCCESS, Outcome.FAILED, Outcome.TIMED_OUT, Outcome.PENDING]),
)


@settings(max_examples=200, deadline=None)
@given(
    past=st.lists(answers, max_size=25),
    reads=st.lists(st.tuples(st.floats(0.1, 30.0), st.sampled_from(["PENDING", "DELIVERED", "INITIATED"])),
                   min_size=0, max_size=12),
)
def test_the_next_read_is_always_between_the_gaps(past, reads):
    history = []
    for latency, outcome in past:
        steps = [(0.0, "INITIATED"), (latency / 2, "PENDING"), (latency, "EXECUTED")]
        history.append(CommandTrace("cmd", tuple(steps), outcome))
    current = [(0.0, "INITIATED")]
    for gap, status in reads:
        current.append((current[-1][0] + gap, status))
    trace = CommandTrace("cmd", tuple(current))
    t = POLICY.next_read(trace, history)
    assert trace.last_read < t <= trace.last_read + POLICY.max_gap + 1e-9
    assert math.isfinite(t)
