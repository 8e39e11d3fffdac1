"""Cancelling a login, a poll, a command wait and stop() at every await point leaks nothing.

Each request is held up by the simulator for 25 s; the caller is cancelled at a range of moments before,
during and after it. Afterwards: no budget slot stays taken (every window ages back to empty), no command
lock is held, no task of the account's is left, and the account still works.
"""

from __future__ import annotations

import asyncio

import pytest

import evclient
from tests.conftest import ZOE

MOMENTS = (0.0, 1e-6, 0.001, 0.01, 0.1, 1.0, 10.0, 24.9, 25.1, 40.0, 70.0)
HOLD = 25.0


def others() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def cancel_at(moment: float, coro):
    """Cancel ``coro`` after ``moment`` seconds; its result if it had finished by then."""
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(moment)
    task.cancel()
    try:
        return await task
    except (asyncio.CancelledError, evclient.EVClientError):
        return None


async def assert_clean(account: evclient.Account, car: evclient.Vehicle, before: set[asyncio.Task]) -> None:
    await asyncio.sleep(2 * 3600)  # every admitted request ages out of its window
    assert [w.used for w in account.budget.windows] == [0] * len(account.budget.windows)
    assert account.budget.queued == 0
    assert account.commands.busy_channels == 0
    assert others() <= before
    assert (await car.refresh("battery")).charge_level >= 0  # still usable


@pytest.mark.parametrize("moment", MOMENTS)
async def test_cancelling_a_poll(sim, moment):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        before = others()
        sim.fault("renault-ze.battery", "delay", delay=HOLD)
        await cancel_at(moment, car.refresh("battery"))
        await assert_clean(account, car, before)


@pytest.mark.parametrize("moment", MOMENTS)
async def test_cancelling_a_command_wait(sim, moment):
    sim.world.set_script("precondition", latency=60.0)
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        before = others()
        sim.fault("renault-ze.precondition*", "delay", delay=HOLD, times=3)  # the submit and status reads
        await cancel_at(moment, car.command("precondition"))
        await assert_clean(account, car, before)
        sim.faults.clear()
        assert (await car.command("precondition")).status  # the command lock was given back


@pytest.mark.parametrize("moment", MOMENTS)
async def test_cancelling_a_login(sim, moment):
    before = others()
    sim.fault("renault-ze.login", "delay", delay=HOLD)
    finished = await cancel_at(moment, sim.connect_ze())
    if finished is not None:  # logged in before the cancel came: the caller owns the account
        await finished.close()
    await asyncio.sleep(60)
    assert others() <= before  # the half-made account closed itself
    async with sim.connect_ze() as account:
        await assert_clean(account, await account.vehicle(ZOE), before)


@pytest.mark.parametrize("moment", MOMENTS)
async def test_stopping_while_polls_are_in_flight(sim, moment):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        before = others()
        sim.fault("renault-ze.*", "delay", delay=HOLD, times=None)
        await account.start()
        await asyncio.sleep(moment)
        await account.stop()
        sim.faults.clear()
        assert not account.polling
        await assert_clean(account, car, before)
        await account.start()  # and it starts again
        await asyncio.sleep(3600)
        assert car.endpoints["battery"].fetched_at is not None


async def test_a_reader_sharing_a_cancelled_read_reads_for_itself(sim):
    async with sim.connect_ze() as account:
        car = await account.vehicle(ZOE)
        sim.fault("renault-ze.battery", "delay", delay=HOLD)
        leader = asyncio.ensure_future(car.refresh("battery"))
        await asyncio.sleep(1)
        follower = asyncio.ensure_future(car.refresh("battery"))  # shares the leader's request
        await asyncio.sleep(1)
        leader.cancel()
        assert (await follower).charge_level >= 0  # its own request, not a CancelledError
        with pytest.raises(asyncio.CancelledError):
            await leader
        assert len(sim.requests(route="renault-ze.battery")) == 2
