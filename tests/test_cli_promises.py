"""The promises under adversarial use, round two — the command line's half, with real processes and signals:
a SIGKILL at any point loses no rotated token and no request, a stepped wall clock loses no admission, a
SIGTERM says only what is true, ``--json`` never crashes, an image goes to a file."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from evclient.errors import AuthenticationError, InvalidInputError
from evclient.simulator.quota import most_in_any_window
from tests.test_cli import run as run_cli
from tests.test_cli import saved_states

HERE = Path(__file__).parent
IX = "WBY31AW0X0FP00001"
MINI = "WMW21DJ0X0T000002"


def _requests(url: str, brand: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/_sim/requests?brand={brand}") as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())["requests"]


def _simulator(*options: str) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "evclient.cli", "simulator", "--port", "0", *options],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("evclient simulator listening on http://127.0.0.1:"), first
        yield first.rsplit(" ", 1)[1]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture
def short_token_simulator() -> Iterator[str]:
    """Tokens that live 605 s: CarData renews 10 minutes ahead, so nearly every REST call refreshes (rotates)."""
    yield from _simulator("--token-lifetime", "605", "--quota", "100000")


@pytest.fixture
def still_simulator() -> Iterator[str]:
    """The simulator's clock held still: everything it counts falls in one hour of its quota."""
    yield from _simulator("--speed", "0")


def cli(url: str, *argv: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evclient.cli", "--simulator", url, *argv], capture_output=True,
                          text=True, timeout=timeout, env=env, check=False)


def state_of(folder: Path, brand: str) -> dict:
    [path] = folder.glob(f"{brand}-*.json")
    return json.loads(path.read_text())


# -- SIGKILL: nothing is lost (1) -------------------------------------------------------------------------------


def test_sigkill_at_any_point_of_a_cardata_watch_loses_no_token_and_no_request(short_token_simulator, tmp_path):
    url = short_token_simulator
    env = {**os.environ, "EVCLIENT_STATE_DIR": str(tmp_path)}
    login = cli(url, "--brand", "bmw-cardata", "login", env=env)
    assert login.returncode == 0, login.stderr
    refreshes_seen = []
    for point in range(20):
        watch = subprocess.Popen([sys.executable, "-m", "evclient.cli", "--simulator", url, "--brand", "bmw-cardata",
                                  "watch", "--for", "120"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        time.sleep(0.8 + 0.15 * point)  # spread over start-up, listing, reads, refreshes and the stream
        watch.send_signal(signal.SIGKILL)
        watch.wait(timeout=20)
        seen = _requests(url, "bmw-cardata")
        saved = state_of(tmp_path, "bmw-cardata")
        logged = saved["budget"]["windows"]
        # Every request the server saw is in the budget log, REST and login alike.
        rest = [r for r in seen if r["path"].startswith("/bmw-cardata/api")]
        auth = [r for r in seen if r["path"].startswith("/bmw-cardata/auth")]
        assert len(logged["rest"]) >= len(rest), (point, len(logged["rest"]), len(rest))
        assert len(logged["login"]) >= len(auth), (point, len(logged["login"]), len(auth))
        refreshes_seen.append(sum(1 for r in auth if r["route"].endswith(".token")))
    # The kills fell among token refreshes (each rotated the refresh token; one lives 5 s before the next) ...
    assert refreshes_seen[-1] - refreshes_seen[0] >= 6, refreshes_seen
    # ... and the next run needs no login: the saved refresh token is the one the server accepts.
    done = cli(url, "--brand", "bmw-cardata", "--no-wait", "login", env=env)
    assert done.returncode == 0, done.stderr
    assert sum(1 for r in _requests(url, "bmw-cardata") if r["route"].endswith("device-code")) == 1


# -- a wall-clock step loses no admission (5) -----------------------------------------------------------------


def _kamereon(url: str) -> list[float]:
    return [r["t"] for r in _requests(url, "renault") if "/kamereon/" in r["path"]]


def test_a_wall_clock_step_either_way_never_hands_out_a_fresh_budget(still_simulator, tmp_path):
    url = still_simulator
    offset = tmp_path / "offset"
    offset.write_text("0")
    env = {**os.environ, "EVCLIENT_STATE_DIR": str(tmp_path / "state"), "EVCLIENT_TEST_WALL_OFFSET": str(offset)}

    def stepped(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(HERE / "wallclock.py"), "--simulator", url, "--brand", "renault",
                               *argv], capture_output=True, text=True, timeout=60, env=env, check=False)

    assert stepped("fingerprint", "--out", str(tmp_path / "fp")).returncode == 0
    spent = len(_kamereon(url))
    assert spent >= 30
    watch = subprocess.Popen([sys.executable, str(HERE / "wallclock.py"), "--simulator", url, "--brand", "renault",
                              "watch", "--for", "4"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    time.sleep(2)
    offset.write_text("7200")  # two hours forward, mid-run (a resume from suspend)
    _, err = watch.communicate(timeout=30)
    assert watch.returncode == 0, err
    for step in ("7200", "7200", "-7200", "-7200", "0"):
        offset.write_text(step)
        done = stepped("--no-wait", "status", "--fresh")
        # Each run reads what the budget allows, then is refused at once (--no-wait), spending nothing more.
        assert done.returncode == 0 or "BudgetExhausted" in done.stderr, done.stderr
    # The server's clock stood still: everything it saw is in one hour, and never above its 60.
    assert most_in_any_window(_kamereon(url), 3600) <= 60
    assert not [r for r in _requests(url, "renault") if r["status"] == 429]


# -- SIGTERM during the device wait says only what is true (4) ---------------------------------------------------


def test_sigterm_during_the_device_wait_says_only_what_is_true(still_simulator, tmp_path):
    env = {**os.environ, "EVCLIENT_STATE_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "evclient.cli", "--simulator", still_simulator, "--brand",
                             "bmw-cardata", "login"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 20
    while not any(r["route"].endswith("device-code") for r in _requests(still_simulator, "bmw-cardata")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 143
    files = list(tmp_path.glob("bmw-cardata-*.json"))
    if "the state is saved" in err:
        [path] = files
        saved = json.loads(path.read_text())
        assert saved["budget"]["windows"]["login"]  # the device-code request is what was saved
        assert not (saved.get("tokens") or {}).get("refresh_token")
    else:
        assert "nothing was saved" in err and not files


# -- --json never crashes; a status costs only what it is built from (16) ---------------------------------------


async def test_a_cardata_status_in_json_reads_only_telematics_and_a_second_costs_nothing(sim, capsys, tmp_path,
                                                                                        monkeypatch):
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path))
    assert await run_cli(sim, "--brand", "bmw-cardata", "login") == 0
    sim.log.clear()
    capsys.readouterr()
    assert await run_cli(sim, "--brand", "bmw-cardata", "--json", "status") == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {IX, MINI}
    # What the status is built from: the telematics, and the daily keys the stream never sends (the lock).
    assert all(set(car["endpoints"]) == {"telematics", "daily"} for car in report.values())
    rest = [e.route for e in sim.requests(brand="bmw-cardata") if e.path.startswith("/bmw-cardata/api")]
    # The listing (and the containers) the first time, then two telematics calls per car (one per container):
    # no basic data, image, tyres or settings.
    assert sorted(r for r in rest if r.endswith("telematics")) == ["bmw-cardata.telematics"] * 4
    assert set(rest) <= {"bmw-cardata.telematics", "bmw-cardata.mappings", "bmw-cardata.containers",
                         "bmw-cardata.create-container"}
    sim.log.clear()
    assert await run_cli(sim, "--brand", "bmw-cardata", "--json", "status") == 0
    again = json.loads(capsys.readouterr().out)
    assert [e for e in sim.requests(brand="bmw-cardata") if e.path.startswith("/bmw-cardata/api")] == []
    assert again[IX]["status"]["battery_percent"] == report[IX]["status"]["battery_percent"]
    assert await run_cli(sim, "--brand", "bmw-cardata", "--json", "status", "--fresh") == 0
    capsys.readouterr()
    assert len([e for e in sim.requests(brand="bmw-cardata") if e.path.startswith("/bmw-cardata/api")]) == 4


async def test_an_image_goes_to_a_file_never_to_the_terminal(sim, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path / "state"))
    assert await run_cli(sim, "--brand", "bmw-cardata", "login") == 0
    capsys.readouterr()
    sim.log.clear()

    with pytest.raises(InvalidInputError, match="--output"):
        await run_cli(sim, "--brand", "bmw-cardata", "--json", "fetch", IX, "image")
    assert sim.log == []  # refused before any of the 50 calls
    out = tmp_path / "ix.png"
    assert await run_cli(sim, "--brand", "bmw-cardata", "--json", "fetch", IX, "image", "--output", str(out)) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {"endpoint": "image", "file": str(out), "bytes": out.stat().st_size}
    assert out.read_bytes().startswith(b"\x89PNG")


# -- watch: the stream's state at once; the budget notice only when a request waits (11, 22) --------------------


async def test_a_watch_says_at_once_that_the_stream_is_down_and_polls_meanwhile(sim, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path))
    assert await run_cli(sim, "--brand", "bmw-cardata", "login") == 0
    from evclient.simulator.brands.bmw_cardata import DEMO_GCID

    sim.brands["bmw-cardata"].account_by_gcid(DEMO_GCID).extra["refuse_connect"] = True  # type: ignore[attr-defined]
    capsys.readouterr()
    sim.log.clear()
    assert await run_cli(sim, "--brand", "bmw-cardata", "watch", "--for", "600") == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    down = [line for line in lines if line.startswith("stream: down")]
    assert down and "refused the connection" in down[0] and "polled within the budget meanwhile" in down[0]
    assert "waiting for the budget" not in out.err
    reads = [e.t for e in sim.requests(brand="bmw-cardata") if "telematicData" in e.path]
    assert reads and reads[0] - sim.requests(brand="bmw-cardata")[0].t <= 300  # the first read within 5 min


async def test_a_normal_watch_never_says_it_waits_for_the_budget(sim, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path))
    assert await run_cli(sim, "--brand", "renault", "watch", "--for", "7200") == 0
    assert "waiting for the budget" not in capsys.readouterr().err


async def test_no_wait_watch_goes_on_through_a_token_renewal_and_ends_non_zero_when_it_cannot(sim, capsys, tmp_path,
                                                                                            monkeypatch):
    """``--no-wait`` bounds the run's own requests, not what it starts: the polls go on past the token's ten
    hours. A login the server refuses for good ends the run with an error, not a silent watch of nothing."""
    monkeypatch.setenv("EVCLIENT_STATE_DIR", str(tmp_path))
    sim.brands["renault-ze"].token_lifetime = 3600.0  # type: ignore[attr-defined] # an hour, not ten
    assert await run_cli(sim, "--brand", "renault-ze", "--no-wait", "watch", "--for", str(3 * 3600)) == 0
    start = sim.requests(brand="renault-ze")[0].t
    assert "token-refresh" in sim.routes() or sim.routes().count("login") >= 2  # renewed after the hour ...
    assert [e for e in sim.requests(brand="renault-ze") if e.t - start > 2.5 * 3600]  # ... and still polling
    capsys.readouterr()
    loop = asyncio.get_running_loop()
    # An hour in, the server forgets every token, and the password given is not the account's.
    loop.call_later(3600, functools.partial(sim.world.revoke, "renault-ze", "demo@evclient.dev", refresh=True))
    with pytest.raises(AuthenticationError):
        await run_cli(sim, "--brand", "renault-ze", "--no-wait", "--username", "demo@evclient.dev", "--password",
                      "not-it", "watch", "--for", str(6 * 3600))
    assert saved_states()


def test_the_cli_streams_over_tls_with_the_ca_it_is_given(tmp_path):
    """``--server stream=mqtts://…`` on top of ``--simulator`` and ``--ca-file``: the CLI's production path."""
    from tests.test_peers import tls_simulator

    env = {**os.environ, "EVCLIENT_STATE_DIR": str(tmp_path)}
    with tls_simulator() as said:
        tls = ["--brand", "bmw-cardata", "--server", f"stream={said['bmw-cardata stream']}", "--ca-file",
               said["tls ca"]]
        assert cli(said["base"], *tls, "login", env=env).returncode == 0
        watched = cli(said["base"], *tls, "--json", "watch", "--for", "6", env=env)
        assert watched.returncode == 0, watched.stderr
        lines = [json.loads(line) for line in watched.stdout.splitlines()]
        assert {"stream": {"connected": True, "error": None, "next_attempt_at": None}} in lines
        untrusted = cli(said["base"], "--brand", "bmw-cardata", "--server", f"stream={said['bmw-cardata stream']}",
                        "--json", "watch", "--for", "6", env=env)
        told = [json.loads(line)["stream"] for line in untrusted.stdout.splitlines() if '"stream"' in line]
        assert told and "certificate is not trusted" in (told[0]["error"] or "")
    bad = cli("http://127.0.0.1:9", "--ca-file", str(tmp_path / "missing.pem"), "vehicles", env=env)
    assert bad.returncode == 2 and "--ca-file" in bad.stderr
