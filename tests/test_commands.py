"""The command engine through every outcome, over loopback HTTP in virtual time."""

from __future__ import annotations

import asyncio

import pytest

from evclient import CommandFailed, CommandNotSupported, CommandTimedOut, InvalidInputError
from tests.testcloud import Fault


async def car_of(account):
    return (await account.vehicles())[0]


async def test_a_command_walks_to_executed_and_reports_each_status(cloud):
    heard: list[str] = []
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        before_e1 = cloud.count("data")
        result = await car.command("flash", count=3, progress=lambda change: heard.append(change.status))
    assert result.status == "EXECUTED"
    assert [c.status for c in result.history] == ["INITIATED", "PENDING", "DELIVERED", "EXECUTED"]
    assert heard == ["INITIATED", "PENDING", "DELIVERED", "EXECUTED"]
    assert result.event_id
    assert result.event_id.startswith("ev-")
    # Growing delays 2, 3, 5, 8 → polls at 2, 5, 10, 18 s; EXECUTED is reached at 15 s.
    assert result.polls == 4
    assert result.elapsed == pytest.approx(18, abs=0.1)
    assert cloud.count("status") == 4
    # After success the endpoint the command changes is read again.
    assert cloud.count("data") == before_e1 + 1
    assert car.endpoints["e1"].value is not None


@pytest.mark.parametrize(
    ("final", "error"),
    [("NOT_EXECUTED", CommandFailed), ("TIMED_OUT", CommandTimedOut)],
)
async def test_terminal_failures_raise_their_typed_error_with_the_status(cloud, final, error):
    cloud.script = [(0, "INITIATED"), (3, "PENDING"), (60, final)]
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        with pytest.raises(error) as info:
            await car.command("flash")
    assert info.value.status == final
    assert info.value.result.history[-1].status == final


async def test_the_local_deadline_ends_a_command_that_never_finishes(cloud):
    cloud.script = [(0, "INITIATED"), (3, "PENDING")]
    loop = asyncio.get_running_loop()
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        started = loop.time()
        with pytest.raises(CommandTimedOut) as info:
            await car.command("flash", deadline=100)
        assert loop.time() - started == pytest.approx(100, abs=0.5)
    assert info.value.status == "PENDING"
    assert info.value.result.polls == cloud.count("status")


async def test_commands_sharing_a_status_channel_never_overlap(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        results = await asyncio.gather(car.command("flash"), car.command("flash"), car.command("flash"))
    assert [r.status for r in results] == ["EXECUTED"] * 3
    assert cloud.max_parallel_same_type == 0
    submits = [e.t for e in cloud.log if e.route == "submit"]
    assert submits[1] - submits[0] >= 15
    assert submits[2] - submits[1] >= 15


async def test_a_handle_shows_progress_and_can_be_awaited_later(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        handle = await car.start_command("flash")
        assert handle.status == "INITIATED"
        assert handle.event_id is not None
        assert not handle.done
        result = await handle
        assert handle.done
        assert result.history == handle.history


async def test_invalid_parameters_and_unsupported_commands_cost_no_request(cloud):
    async with cloud.connect("duo") as account:
        car = await car_of(account)
        before = cloud.count()
        with pytest.raises(InvalidInputError):
            await car.command("flash", count=9)
        with pytest.raises(ValueError, match="count"):  # the invalid-input error is a ValueError too
            await car.command("flash", count="two")
        with pytest.raises(InvalidInputError):
            await car.command("flash", colour="red")
        with pytest.raises(CommandNotSupported):
            await car.command("honk")  # this model has no horn
        with pytest.raises(CommandNotSupported):
            await car.command("self-destruct")
        assert "honk" not in car.commands
        assert cloud.count() == before


async def test_a_command_without_status_channel_succeeds_on_acknowledgement(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        result = await car.command("honk")
    assert result.polls == 0
    assert cloud.count("status") == 0


async def test_a_passing_status_error_does_not_lose_the_outcome(cloud):
    cloud.fail("status", Fault(status=503), Fault(status=503), Fault(status=503), Fault(status=502))
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        result = await car.command("flash")
    assert result.status == "EXECUTED"


async def test_a_status_without_status_is_read_again_not_a_crash(cloud):
    cloud.fail("status", Fault(status=200, body={"something": "else"}))
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        result = await car.command("flash")  # the garbled answer is read again: the outcome is not lost
        assert result.status == "EXECUTED" and cloud.count("status") >= 2
        cloud.fail("status", *[Fault(status=200, body={"something": "else"})] * 100)
        with pytest.raises(CommandTimedOut):  # garbled until the deadline: a typed error, reads bounded
            await car.command("flash")
        assert cloud.count("status") < 40


async def test_a_command_gets_its_slot_while_polls_are_held_back(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        for i in range(52):  # with login and listing: 54, the polls' whole share of the hour
            await car.refresh(f"e{i % 7 + 1}")
        assert account.budget.windows[0].used == 54
        await account.start()
        data_before = cloud.count("data")
        await asyncio.sleep(120)
        assert cloud.count("data") == data_before  # polling waits: the reserve is not its to use
        loop = asyncio.get_running_loop()
        started = loop.time()
        await car.command("honk")
        assert loop.time() - started < 1
    assert cloud.max_in_window() <= 60
