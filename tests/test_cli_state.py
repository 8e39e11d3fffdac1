"""The CLI's state between runs cannot lose the budget: damaged files are named, writes are atomic and
merged under a lock, SIGTERM still saves, and runs say what they wait for."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from evclient import BudgetExhausted, InvalidInputError, cli
from evclient.cli.state import StateFile, StateFileError, merge_budget
from tests.conftest import ZOE
from tests.test_cli import evclient, saved_states, simulator_process

assert simulator_process  # the fixture, used below by name



@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("EVCLIENT_USERNAME", raising=False)
    monkeypatch.delenv("EVCLIENT_PASSWORD", raising=False)


async def run(sim, *argv: str) -> int:
    full = ["--simulator", sim.url, "--brand", "renault-ze", *argv]  # argparse keeps the last --brand given
    args = cli.build_parser(full).parse_args(full)
    return await cli.run_account_command(args)


def write(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    path.chmod(mode)


# -- damaged files -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ['{"tokens": {"token": "x"}, "budget": {"win', "[]", '{"budget": []}',
                                    '{"budget": {"windows": {"default": ["yesterday"]}}}',
                                    '{"budget": {"windows": {"default": ["NaN"]}}}'])
async def test_a_damaged_state_file_is_named_never_a_fresh_budget(sim, damage):
    assert await run(sim, "vehicles") == 0
    [state] = saved_states()
    write(state, damage)
    sim.log.clear()
    with pytest.raises(InvalidInputError) as caught:
        await run(sim, "fetch", ZOE, "battery")
    assert str(state) in str(caught.value)
    assert sim.log == []  # nothing was spent on a guess


async def test_an_existing_readable_file_becomes_owner_only(sim):
    assert await run(sim, "vehicles") == 0
    [state] = saved_states()
    state.chmod(0o644)
    assert await run(sim, "fetch", ZOE, "battery") == 0
    assert state.stat().st_mode & 0o777 == 0o600
    assert not [p for p in state.parent.iterdir() if p.name.endswith(".tmp")]  # no leftover temporary file


async def test_an_unwritable_state_folder_is_warned_about(sim, tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(blocked / "state"))
    assert await run(sim, "vehicles") == 0
    err = capsys.readouterr().err
    assert "could not save the state" in err and str(blocked) in err
    assert "cannot lock" in err


def test_merging_keeps_what_another_writer_recorded() -> None:
    now = 1_000_000.0
    loaded = {"windows": {"default": [now - 100]}}
    # Another run wrote two requests meanwhile; ours made one more, and still holds the one it loaded.
    on_disk = {"windows": {"default": [now - 100, now - 50, now - 40]}, "paused": {"api": now + 10}}
    ours = {"windows": {"default": [now - 100.0004, now - 5]}, "paused": {"api": now + 500}}
    merged = merge_budget(on_disk, ours, loaded, {"default": 3600.0}, now)
    assert merged["windows"]["default"] == pytest.approx([now - 100, now - 50, now - 40, now - 5], abs=1e-3)
    assert merged["paused"] == {"api": now + 500}
    # Stamps older than their window leave the file.
    old = merge_budget({"windows": {"default": [now - 7200]}}, {}, {}, {"default": 3600.0}, now)
    assert old["windows"]["default"] == []


def test_a_state_file_with_no_json_object_is_an_error_naming_it(tmp_path) -> None:
    state = StateFile("renault-ze", "someone", {}, root=tmp_path)
    state.path.write_text("\x00\x00")
    with pytest.raises(StateFileError, match=str(state.path)):
        state.load()


# -- what a run spends -----------------------------------------------------------------------------------------


async def test_a_myrenault_run_spends_nothing_before_it_has_to(sim, capsys):
    zoe = "VF1AG000X64000001"
    argv = ("--brand", "renault", "--locale", "fr_FR")
    assert await run(sim, *argv, "vehicles") == 0
    sim.log.clear()
    assert await run(sim, *argv, "budget") == 0
    with pytest.raises(InvalidInputError):
        await run(sim, *argv, "command", zoe, "hvac-start", "temperature=99")
    with pytest.raises(InvalidInputError):
        await run(sim, *argv, "fetch", zoe, "battery-status", "x=1")
    assert sim.requests(brand="renault") == []  # listing, JWT and person all came from the state file
    assert await run(sim, *argv, "fetch", zoe, "battery-status") == 0
    assert [e.route for e in sim.requests(brand="renault")] == ["renault.battery-status"]
    capsys.readouterr()


async def test_no_wait_fails_at_once_and_waiting_is_announced(sim, capsys):
    argv = ("--brand", "renault", "--locale", "fr_FR")
    assert await run(sim, *argv, "vehicles") == 0
    [state] = saved_states()
    saved = json.loads(state.read_text())
    now = time.time()
    saved["budget"]["windows"]["kamereon"] = [now - 60] * 54  # the polls' share of the hour is spent
    state.write_text(json.dumps(saved))
    sim.log.clear()
    with pytest.raises(BudgetExhausted, match="next frees in"):
        await run(sim, *argv, "--no-wait", "fetch", "VF1AG000X64000001", "battery-status")
    assert sim.requests(brand="renault") == []
    capsys.readouterr()
    assert await run(sim, *argv, "fetch", "VF1AG000X64000001", "battery-status") == 0
    err = capsys.readouterr().err
    assert "waiting for the budget: 54 of 60" in err and "min" in err


# -- real processes: overlap and SIGTERM -----------------------------------------------------------------------


def _requests(url: str, brand: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/_sim/requests?brand={brand}") as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())["requests"]


def _post(url: str, path: str, body: dict) -> None:
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:  # noqa: S310 - loopback
        assert answer.status == 200


def test_overlapping_runs_and_sigterm_lose_no_request(simulator_process, tmp_path):
    url = simulator_process
    env = {**os.environ, "EVCLIENT_STATE_DIR": str(tmp_path)}
    assert evclient("--simulator", url, "--brand", "renault-ze", "vehicles", env=env).returncode == 0
    _post(url, "/_sim/commands", {"command": "charge-now", "latency": 600.0})  # a car that takes its time
    first = subprocess.Popen([sys.executable, "-m", "evclient.cli", "--simulator", url, "command", ZOE, "charge-now"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not any(r["route"].endswith("charge-now") for r in _requests(url, "renault-ze")):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.1)
        second = subprocess.Popen([sys.executable, "-m", "evclient.cli", "--simulator", url, "fetch", ZOE, "battery"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert second.poll() is None  # it waits for the first run's lock
        first.send_signal(signal.SIGTERM)  # mid-command: submitted, status reads going on
        _, err = first.communicate(timeout=20)
        assert first.returncode == 143, err
        assert "the state is saved" in err and "Traceback" not in err
        _, err2 = second.communicate(timeout=30)
        assert second.returncode == 0, err2
        assert "waiting for another evclient run" in err2
    finally:
        for proc in (first,):
            if proc.poll() is None:
                proc.kill()
    [state] = list(tmp_path.glob("renault-ze-*.json"))
    logged = json.loads(state.read_text())["budget"]["windows"]
    seen = _requests(url, "renault-ze")
    assert sum(len(stamps) for stamps in logged.values()) == len(seen)  # every request the server saw is in the file


# -- options and messages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["simulator", "--speed", "-1"], ["simulator", "--port", "99999"],
                                  ["simulator", "--quota", "0"], ["simulator", "--speed", "nan"],
                                  ["demo", "--speed", "0"], ["command", ZOE, "charge-now", "--deadline", "-5"]])
def test_out_of_range_options_are_usage_errors(argv):
    done = evclient(*argv)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "out of range" in done.stderr or "not a" in done.stderr


def test_a_misspelt_server_name_is_a_usage_error_and_nothing_is_sent(tmp_path):
    done = evclient("--brand", "renault-ze", "--no-state", "--server", "apii=http://127.0.0.1:9/api", "--username",
                    "a@b.c", "--password", "x", "vehicles", env={**os.environ, "EVCLIENT_STATE_DIR": str(tmp_path)})
    assert done.returncode == 2 and "no server named 'apii'" in done.stderr and "Traceback" not in done.stderr


def test_help_lists_the_brands_endpoints_commands_and_where_state_lives():
    main = evclient("--help").stdout
    assert "EVCLIENT_STATE_DIR" in main
    fetch = evclient("--brand", "renault", "fetch", "--help").stdout
    assert "battery-status" in fetch and "charges" in fetch and "start" in fetch
    command = evclient("--brand", "bmw", "command", "--help").stdout
    assert "door-lock" in command and "--deadline" in command


def test_a_quota_answer_is_one_line_on_stderr(simulator_process, tmp_path):
    _post(simulator_process, "/_sim/faults", {"kind": "quota", "route": "renault-ze.battery", "retry_after": 600})
    done = evclient("--simulator", simulator_process, "--brand", "renault-ze", "fetch", ZOE, "battery",
                    env={**os.environ, "EVCLIENT_STATE_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr  # the error, not also the log's warning of the pause
    assert "RateLimited" in done.stderr or "QuotaExceeded" in done.stderr
