"""The ``evclient`` command line: in-process against the simulator fixture, and as real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from evclient import CommandNotSupported, InvalidCredentialsError, InvalidInputError, TwoFactorRequired, cli
from evclient.cli import login
from evclient.demo import run_demo
from evclient.simulator.brands import all_brands
from tests.conftest import ZOE


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("EVCLIENT_USERNAME", raising=False)
    monkeypatch.delenv("EVCLIENT_PASSWORD", raising=False)


def saved_states(pattern: str = "*.json") -> list[Path]:
    return sorted(Path(os.environ["EVCLIENT_STATE_DIR"]).glob(pattern))


async def run(sim, *argv: str) -> int:
    # The ZE demo account unless the test names another brand (argparse keeps the last --brand given).
    args = cli.build_parser().parse_args(["--simulator", sim.url, "--brand", "renault-ze", *argv])
    return await cli.run_account_command(args)


async def test_vehicles_status_and_fetch(sim, capsys):
    assert await run(sim, "vehicles") == 0
    out = capsys.readouterr().out
    assert ZOE in out and "charge-now" in out

    assert await run(sim, "--json", "status") == 0
    both = json.loads(capsys.readouterr().out)[ZOE]
    assert both["status"]["battery_percent"] == 62 and both["status"]["plug_state"] == "plugged"
    status = both["endpoints"]
    assert status["battery"]["charge_level"] == 62
    # The status is built from what the account polls; settings and histories are fetch's.
    assert set(status) == {"battery", "precondition-last"}
    sim.log.clear()
    assert await run(sim, "status") == 0  # as fresh as polling would keep it: nothing read
    assert sim.log == [] and "62 %" in capsys.readouterr().out
    assert await run(sim, "status", "--fresh") == 0
    assert sorted(sim.routes()) == ["battery", "precondition-last"]
    capsys.readouterr()

    assert await run(sim, "--json", "fetch", ZOE, "charge-schedule") == 0
    schedule = json.loads(capsys.readouterr().out)
    assert schedule["days"]["mon"] == {"start": "01:00:00", "duration": 14400.0}

    assert await run(sim, "fetch", ZOE, "precondition-history", "begin=1016", "end=1016") == 0
    assert capsys.readouterr().out.count("USER_REQUEST") == 2


async def test_a_second_run_reuses_the_saved_tokens_and_budget(sim, capsys):
    await run(sim, "vehicles")
    await run(sim, "fetch", ZOE, "battery")
    assert sim.routes() == ["login", "battery"]  # no second login
    capsys.readouterr()
    assert await run(sim, "--json", "budget") == 0
    budget = json.loads(capsys.readouterr().out)
    assert budget["windows"][0]["used"] == 2  # what the earlier runs spent still counts
    assert sim.routes() == ["login", "battery"]
    state_files = saved_states()
    assert len(state_files) == 1
    assert state_files[0].stat().st_mode & 0o777 == 0o600  # it holds tokens


async def test_command_shows_each_status_and_the_cost(sim, capsys):
    sim.world.set_script("charge-now", latency=5.0)
    assert await run(sim, "command", ZOE, "charge-now") == 0
    out = capsys.readouterr().out
    assert "REQUESTED" in out and "CHARGING" in out
    assert "2 requests (1 status read)" in out


async def test_command_parameters_are_key_value(sim, capsys):
    assert await run(sim, "command", ZOE, "set-notification-settings", "charge_start=SMS",
                     "do_not_disturb=22:00-06:30") == 0
    assert sim.zoe.extra["notifications"]["do_not_disturb"] == {"start": "2200", "end": "0630"}
    week = json.dumps(dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "01:00/2:00"))
    assert await run(sim, "command", ZOE, "set-charge-schedule", f"schedule={week}", "deploy=true") == 0
    assert sim.zoe.extra["charge_schedule"]["enabled"]


def test_parse_params_keeps_leading_zeros_and_reads_json():
    assert cli.parse_params(["start=0100", "deploy=true", "x={\"a\": 1}", "empty="]) == {
        "start": "0100", "deploy": True, "x": {"a": 1}, "empty": ""}
    with pytest.raises(InvalidInputError):
        cli.parse_params(["novalue"])


# -- real processes ------------------------------------------------------------------------------------------


def evclient(*argv: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evclient.cli", *argv], capture_output=True, text=True,
                          timeout=60, check=False, **kwargs)


@pytest.fixture
def simulator_process():
    proc = subprocess.Popen([sys.executable, "-m", "evclient.cli", "simulator", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("evclient simulator listening on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1]
        ws = "ws" + url.removeprefix("http")
        lines = {proc.stdout.readline().strip() for _ in range(8)}
        assert lines == {f"renault-ze api: {url}/renault-ze/api", f"bmw api: {url}/bmw", f"controls: {url}/_sim/",
                         f"renault gigya: {url}/renault/gigya", f"renault kamereon: {url}/renault/kamereon",
                         f"bmw-cardata auth: {url}/bmw-cardata/auth", f"bmw-cardata api: {url}/bmw-cardata/api",
                         f"bmw-cardata stream: {ws}/bmw-cardata/stream"}
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_standalone_simulator_and_the_cli_as_processes(simulator_process, tmp_path):
    env = {**os.environ, "EVCLIENT_STATE_DIR": str(tmp_path)}
    env.pop("EVCLIENT_BRAND", None)
    unnamed = evclient("--simulator", simulator_process, "vehicles", env=env)
    assert unnamed.returncode == 2 and "name the car cloud with --brand" in unnamed.stderr  # no built-in default
    done = evclient("--simulator", simulator_process, "--brand", "renault-ze", "vehicles", env=env)
    assert done.returncode == 0, done.stderr
    assert ZOE in done.stdout

    refused = evclient("--simulator", simulator_process, "--no-state", "--username", "demo@evclient.dev",
                       "--password", "not-the-password", "vehicles", env=env)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "InvalidCredentialsError" in refused.stderr and "not-the-password" not in refused.stderr

    bad = evclient("--simulator", simulator_process, "command", ZOE, "precondition-at", "start=25:00", env=env)
    assert bad.returncode == 2 and "HH:MM" in bad.stderr and "Traceback" not in bad.stderr

    unreachable = evclient("--server", "api=http://127.0.0.1:9/api", "--no-state", "--username", "a@b.c",
                           "--password", "x", "vehicles", env=env)
    assert unreachable.returncode == 1 and "ConnectionFailed" in unreachable.stderr


def test_the_demo_runs_every_brand_for_a_simulated_hour(capsys):
    assert run_demo(speed=1000.0) == 0
    out = capsys.readouterr().out
    assert "== renault-ze: demo@evclient.dev" in out
    for name, sim_brand in all_brands().items():  # each brand's rehearsed command walks to its end
        if sim_brand.rehearsal.action is not None:
            assert f"{name}: {sim_brand.rehearsal.action.name} done (" in out
    assert "bmw-cardata " in out.split("== background polling")[1]  # a pushed change, as it came
    table = out.split("== what the servers saw")[1]
    row = next(line for line in table.splitlines() if line.startswith("renault-ze"))
    in_the_hour, most = int(row.split()[1]), int(row.split()[-4])
    assert 40 <= in_the_hour <= 60 and most <= 60


async def test_bmw_door_lock_from_the_cli_shows_the_status_walk(sim, capsys):
    sim.world.set_script("door-lock", latency=60.0, execution=20.0)
    assert await run(sim, "--brand", "bmw", "command", "WBY1Z61020V300002", "door-lock") == 0
    out = capsys.readouterr().out
    walk = [line.split()[-1] for line in out.splitlines() if line.strip().endswith(
        ("INITIATED", "PENDING", "DELIVERED", "EXECUTED"))]
    assert walk == ["INITIATED", "PENDING", "DELIVERED", "EXECUTED"]
    assert "done: EXECUTED" in out
    assert await run(sim, "--brand", "bmw", "--json", "status", "WBY1Z61020V300002") == 0
    both = json.loads(capsys.readouterr().out)["WBY1Z61020V300002"]
    assert both["endpoints"]["status"]["door_lock_state"] == "LOCKED" and both["status"]["locked"] is True


async def test_the_cli_remembers_each_cars_commands_between_runs(sim):
    bev = "WBY1Z61020V300002"
    sim.world.set_script("light-flash", latency=6.0, execution=2.0)
    for _ in range(2):
        assert await run(sim, "--brand", "bmw", "command", bev, "light-flash", "count=1") == 0
    [state] = saved_states("bmw-*.json")
    saved = json.loads(state.read_text())
    assert [trace["name"] for trace in saved["commands"][bev]] == ["light-flash", "light-flash"]
    assert state.stat().st_mode & 0o077 == 0
    # A damaged history is dropped, not fatal.
    saved["commands"] = {bev: [{"name": "light-flash", "reads": "?"}]}
    state.write_text(json.dumps(saved))
    assert await run(sim, "--brand", "bmw", "command", bev, "light-flash", "count=1") == 0
    assert len(json.loads(state.read_text())["commands"][bev]) == 1
    assert [e.route for e in sim.requests(brand="bmw")].count("bmw.login") == 1  # the tokens were kept


async def test_stale_saved_tokens_and_a_wrong_password_cost_one_login_attempt_not_two(sim):
    assert await run(sim, "vehicles") == 0
    [state] = saved_states()
    saved = json.loads(state.read_text())
    saved["tokens"]["token"] = "no-longer-a-valid-token"
    saved["tokens"]["expires_at"] = 0  # expired long ago
    state.write_text(json.dumps(saved))
    sim.world.accounts[("renault-ze", "demo@evclient.dev")].password = "changed-elsewhere"
    sim.log.clear()
    with pytest.raises(InvalidCredentialsError):
        await run(sim, "vehicles")
    # The refresh is refused, then the password once: a second attempt is how accounts get locked.
    assert sim.routes() == ["token-refresh", "login"]


async def test_myrenault_reads_and_actions_from_the_cli(sim, capsys):
    zoe = "VF1AG000X64000001"
    assert await run(sim, "--brand", "renault", "--locale", "fr_FR", "vehicles") == 0
    out = capsys.readouterr().out
    assert zoe in out and "X102VE" in out and "hvac-start" in out
    assert await run(sim, "--brand", "renault", "status", zoe) == 0
    out = capsys.readouterr().out
    assert "battery" in out and "63 %" in out and "front_left 250 kPa" in out and "endpoints:" in out
    assert await run(sim, "--brand", "renault", "--json", "fetch", zoe, "charges", "start=2026-11-01",
                     "end=2026-11-30") == 0
    assert json.loads(capsys.readouterr().out)[0]["duration"] == 359 * 60.0
    assert await run(sim, "--brand", "renault", "command", zoe, "hvac-start", "temperature=21.5") == 0
    out = capsys.readouterr().out
    assert "REQUESTED" in out and "done: CONFIRMED" in out
    assert sim.world.car(zoe).hvac_on
    assert await run(sim, "--brand", "renault", "command", zoe, "set-charge-schedules",
                     'schedules={"id": 2, "activated": true, "monday": {"startTime": "T01:15Z", "duration": 90}}') == 0
    assert "done: CONFIRMED" in capsys.readouterr().out


async def test_myrenault_two_factor_prompts_for_the_emailed_code(sim, capsys, monkeypatch):
    user = "tfa@evclient.dev"
    typed = []

    def ask(prompt):
        # The first try is a typo; the second is the code from the e-mail.
        code = "000000" if not typed else sim.world.messages(user)[-1].body[-6:]
        typed.append((prompt, code))
        return code

    monkeypatch.setattr(login, "interactive", lambda: True)
    monkeypatch.setattr(login, "ask", ask)
    argv = ("--brand", "renault", "--username", user, "--password", "demo-password")
    assert await run(sim, *argv, "vehicles") == 0
    out = capsys.readouterr().out
    assert "A code was e-mailed to" in out and "try again" in out and "VF1" not in out  # this person has no car
    assert [p for p, _ in typed] == ["code: ", "code: "]
    # The device is remembered and the login token saved: the next run asks nothing.
    typed.clear()
    assert await run(sim, *argv, "budget") == 0
    assert typed == []


async def test_myrenault_two_factor_without_a_terminal_says_what_to_do(sim, capsys):
    argv = ("--brand", "renault", "--username", "tfa@evclient.dev", "--password", "demo-password")
    args = cli.build_parser().parse_args(["--simulator", sim.url, *argv, "vehicles"])
    with pytest.raises(TwoFactorRequired, match="terminal"):
        await cli.run_account_command(args)


async def test_typed_actions_on_the_command_line_for_every_brand_that_can(sim, capsys):
    renault_zoe, bmw_bev = "VF1AG000X64000001", "WBY1Z61020V300002"
    assert await run(sim, "--brand", "renault", "command", renault_zoe, "climate-start", "--temperature", "21") == 0
    assert sim.world.car(renault_zoe).extra["actions"][-1]["body"]["data"]["attributes"]["targetTemperature"] == 21
    assert await run(sim, "--brand", "bmw", "command", bmw_bev, "lock") == 0
    schedule = '{"id": 4, "activated": true, "sunday": {"startTime": "T01:00Z", "duration": 90}}'
    assert await run(sim, "--brand", "renault", "command", renault_zoe, "charge-schedules", "--schedules",
                     schedule) == 0
    fourth = sim.world.car(renault_zoe).extra["charging_settings"]["schedules"][3]
    assert fourth == {"id": 4, "activated": True, "sunday": {"startTime": "T01:00Z", "duration": 90}}
    assert await run(sim, "--brand", "renault-ze", "command", ZOE, "climate-start") == 0
    assert "climate-start on" in capsys.readouterr().out
    with pytest.raises(InvalidInputError, match="own set point"):  # ZE's climate has no set point
        await run(sim, "command", ZOE, "climate-start", "--temperature", "21")
    with pytest.raises(CommandNotSupported, match="cannot lock"):
        await run(sim, "command", ZOE, "lock")
    with pytest.raises(InvalidInputError, match="--temperature is a typed action's value"):
        await run(sim, "command", ZOE, "precondition", "--temperature", "21")
