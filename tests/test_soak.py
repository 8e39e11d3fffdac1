"""Three days of the soak (evclient.testing.soak) in virtual time: one account per brand (BMW CarData with its
stream), 5 % of requests faulted at random, commands every three hours, tokens expiring as they do. The
month-long run is ``benchmarks/reliability.py``."""

from __future__ import annotations

import pytest

from evclient.testing.soak import soak


@pytest.mark.looptime(noop_cycles=4)  # loopback I/O in one process is ready at once
async def test_days_of_random_faults_keep_every_promise():
    report = await soak(days=3, rate=0.05, seed=11, trace=False)
    assert report.faults_injected > 300 and report.requests > 9000
    assert report.commands >= 60 and report.commands_unresolved == 0
    assert report.budget_violations == 0  # from the simulator's log
    assert report.unhandled_exceptions == 0 and report.leaked_tasks == 0 and report.secret_leaks == 0
    assert report.stale_endpoints == 0  # polling came back after every burst
    successes = sum(report.command_outcomes.get(s, 0) for s in ("SUCCESS", "EXECUTED", "CONFIRMED"))
    assert successes > report.commands / 2
