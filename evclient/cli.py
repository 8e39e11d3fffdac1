"""``evclient``: the command line (install the ``cli`` extra).

Account commands keep the tokens and the budget log between runs in a private state file, so
consecutive runs neither log in again nor forget the requests already spent this hour.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import getpass
import hashlib
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import brands
from .account import Account, Budget
from .auth import CodeChallenge
from .command import StatusChange
from .connect import connect
from .errors import (
    AuthenticationError,
    EVClientError,
    InvalidInputError,
    TwoFactorCodeRejected,
    TwoFactorRequired,
)
from .models import plain
from .redact import mask_vin
from .status import VehicleStatus

EXIT_ERROR = 1
EXIT_USAGE = 2


# -- output -------------------------------------------------------------------------------------------------


def summary(value: Any, width: int = 100) -> str:
    """One line for a table cell."""
    data = plain(value)
    if isinstance(data, dict):
        text = ", ".join(f"{k}={_short(v)}" for k, v in data.items() if v is not None)
    elif isinstance(data, list):
        text = f"{len(data)} entries" + (f", newest {_short(data[0])}" if data else "")
    else:
        text = _short(data)
    return text if len(text) <= width else text[: width - 1] + "…"


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_short(v)}" for k, v in value.items() if v is not None) + "}"
    return json.dumps(value) if isinstance(value, list) else str(value)


def table(rows: Sequence[Sequence[str]], out: Any = None) -> None:
    out = out or sys.stdout
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out)


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``key=value`` arguments. Values starting with ``{`` or ``[`` and true/false/null are JSON;
    everything else stays a string (so ``0100`` keeps its leading zero)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"parameters are key=value, got {item!r}")
        if (value[:1] in "{[" and value) or value in {"true", "false", "null"}:
            try:
                params[key] = json.loads(value)
            except ValueError:
                raise InvalidInputError(f"{key}: {value!r} is not valid JSON") from None
        else:
            params[key] = value
    return params


# -- state between runs -------------------------------------------------------------------------------------


class StateFile:
    """Tokens, the budget log and each car's recent commands of one account, readable by the owner only."""

    def __init__(self, brand: str, username: str | None, servers: dict[str, str]) -> None:
        root = Path(os.environ.get("EVCLIENT_STATE_DIR") or Path.home() / ".local" / "state" / "evclient")
        key = hashlib.sha256(json.dumps([brand, username, sorted(servers.items())]).encode()).hexdigest()[:16]
        self.path = root / f"{brand}-{key}.json"

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, account: Account) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {"tokens": account.tokens, "budget": account.budget_state(), "commands": account.command_history()}
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)


# -- account commands ---------------------------------------------------------------------------------------


def _servers(args: argparse.Namespace) -> dict[str, str]:
    servers: dict[str, str] = {}
    if args.simulator:
        from .simulator.server import servers_for

        try:
            servers.update(servers_for(args.brand, args.simulator))
        except ValueError as err:
            raise InvalidInputError(str(err)) from None
    for item in args.server or ():
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise InvalidInputError(f"--server takes NAME=URL, got {item!r}")
        servers[name] = url
    return servers


#: Brand settings the CLI takes: option name → (connect() keyword, environment variable).
SETTINGS = {
    "username": ("username", "EVCLIENT_USERNAME"),
    "password": ("password", "EVCLIENT_PASSWORD"),
    "app_key": ("app_key", "EVCLIENT_APP_KEY"),
    "app_secret": ("app_secret", "EVCLIENT_APP_SECRET"),
    "security_answer": ("security_answer", "EVCLIENT_SECURITY_ANSWER"),
    "region": ("region", "EVCLIENT_REGION"),
    "locale": ("locale", "EVCLIENT_LOCALE"),
    "account_id": ("account_id", "EVCLIENT_ACCOUNT_ID"),
}


def _credentials(args: argparse.Namespace) -> dict[str, Any]:
    """The brand settings from options and environment; the simulator's demo account when none is given."""
    given = {key: getattr(args, option) or os.environ.get(env) for option, (key, env) in SETTINGS.items()}
    given = {k: v for k, v in given.items() if v}
    if args.simulator and not given.get("username") and not given.get("password"):
        from .simulator.brands import all_brands

        sims = all_brands()
        if args.brand in sims:
            kept = {k: v for k, v in given.items() if k in ("region", "locale", "account_id")}
            return {**sims[args.brand].demo_credentials(), **kept}
    return given


async def _open(args: argparse.Namespace) -> tuple[Account, StateFile | None]:
    servers = _servers(args)
    credentials = _credentials(args)
    state = None if args.no_state else StateFile(args.brand, credentials.get("username"), servers)
    saved = state.load() if state else {}
    tokens = saved.get("tokens") if isinstance(saved.get("tokens"), dict) else None
    if "password" not in credentials and tokens is None:
        if not sys.stdin.isatty():
            raise InvalidInputError("no password: use --password, EVCLIENT_PASSWORD or a terminal to type it")
        credentials["password"] = getpass.getpass(f"{args.brand} password for {credentials.get('username')}: ")
    budget = Budget(state=saved.get("budget")) if saved.get("budget") else None
    # Stale saved tokens need no second attempt here: each brand's auth falls back to the password by
    # itself, and retrying a refused login from here would only spend a second wrong-password attempt.
    history = saved.get("commands") if isinstance(saved.get("commands"), dict) else None
    try:
        try:
            account = await connect(args.brand, servers=servers or None, tokens=tokens, budget=budget,
                                    command_history=history, **credentials)
        except InvalidInputError:
            if not history:
                raise
            # A damaged history only costs what was learnt about the cars' latency; start again without it.
            account = await connect(args.brand, servers=servers or None, tokens=tokens, budget=budget,
                                    **credentials)
    except TwoFactorRequired as required:
        account = await _two_factor(required)
    return account, state


def _interactive() -> bool:
    return sys.stdin.isatty()


def _ask(prompt: str) -> str:
    return input(prompt)


#: Codes a user may mistype before the CLI gives up (the server allows a few more).
CODE_ATTEMPTS = 3


async def _two_factor(required: TwoFactorRequired) -> Account:
    """Walk the user through an e-mailed code: choose the address, send, type it (again if mistyped)."""
    challenge = required.challenge
    if not isinstance(challenge, CodeChallenge):
        raise required
    try:
        if not _interactive():
            raise TwoFactorRequired("this login needs the code the server e-mails; run the command in a terminal "
                                    "once (the device is then remembered)", None)
        addresses = await challenge.destinations()
        if not addresses:
            raise AuthenticationError("the server offers no address to send a code to")
        chosen = addresses[0]
        if len(addresses) > 1:
            for n, address in enumerate(addresses, 1):
                print(f"  {n}. {address.masked}")
            answer = _ask("send the code to which address? ").strip()
            if not answer.isdigit() or not 1 <= int(answer) <= len(addresses):
                raise InvalidInputError(f"choose 1 to {len(addresses)}")
            chosen = addresses[int(answer) - 1]
        await challenge.send_code(chosen.id)
        print(f"A code was e-mailed to {chosen.masked}.")
        for attempt in range(1, CODE_ATTEMPTS + 1):
            try:
                account: Account = await challenge.complete(_ask("code: "))
                return account
            except (TwoFactorCodeRejected, InvalidInputError) as err:
                if attempt == CODE_ATTEMPTS:
                    raise
                print(f"{err} — try again")
        raise AssertionError("unreachable")
    except BaseException:
        await challenge.close()
        raise


async def _vehicles(account: Account, args: argparse.Namespace) -> int:
    cars = await account.vehicles()
    if args.json:
        print(json.dumps([{"vin": c.vin, "model": c.model, "name": c.name, "commands": list(c.commands),
                           "endpoints": {n: e.supported for n, e in c.endpoints.items()}} for c in cars], indent=2))
        return 0
    rows = [["VIN", "MODEL", "NAME", "COMMANDS"]]
    rows += [[c.vin, c.model or "-", c.name or "-", ", ".join(c.commands)] for c in cars]
    table(rows)
    return 0


async def _status(account: Account, args: argparse.Namespace) -> int:
    cars = [await account.vehicle(args.vin)] if args.vin else await account.vehicles()
    report: dict[str, Any] = {}
    for car in cars:
        values: dict[str, Any] = {}
        for name, endpoint in car.endpoints.items():
            # Histories need a date range: ``fetch`` reads those.
            if endpoint.supported is False or endpoint.spec.needs_parameters(car.info.context):
                continue
            try:
                values[name] = await car.refresh(name)
            except EVClientError as err:
                if isinstance(err, InvalidInputError):
                    raise
                values[name] = err
        report[car.vin] = values
    statuses = {car.vin: car.status for car in cars}
    if args.json:
        print(json.dumps({vin: {
            "status": statuses[vin].to_json(),
            "endpoints": {n: ({"error": str(v)} if isinstance(v, EVClientError) else plain(v))
                          for n, v in values.items()},
        } for vin, values in report.items()}, indent=2))
        return 0
    for vin, values in report.items():
        print(vin)
        table(_status_rows(statuses[vin]))
        print("  endpoints:")
        table([["    " + n, f"error: {v}" if isinstance(v, EVClientError) else summary(v)] for n, v in values.items()])
    return 0


#: The unified status as the table shows it: field, label, unit.
STATUS_ROWS = (
    ("battery_percent", "battery", "%"), ("range_km", "range", "km"), ("charge_state", "charging", ""),
    ("plug_state", "plug", ""), ("charge_power_kw", "charge power", "kW"), ("minutes_to_full", "to full", "min"),
    ("odometer_km", "odometer", "km"), ("fuel_litres", "fuel", "l"), ("fuel_range_km", "fuel range", "km"),
    ("locked", "locked", ""), ("climate_on", "climate on", ""), ("inside_temperature_c", "inside", "°C"),
    ("outside_temperature_c", "outside", "°C"),
)


def _status_rows(status: VehicleStatus) -> list[list[str]]:
    rows = []
    for field, label, unit in STATUS_ROWS:
        value = getattr(status, field)
        if value is None:
            continue
        shown = value.value if isinstance(value, enum.Enum) else f"{value:g}" if isinstance(value, float) else value
        rows.append(["  " + label, f"{shown} {unit}".rstrip()])
    if status.position is not None:
        heading = "" if status.position.heading is None else f", heading {status.position.heading:g}°"
        rows.append(["  position", f"{status.position.latitude:.5f}, {status.position.longitude:.5f}{heading}"])
    if status.openings:
        opened = sorted(name for name, is_open in status.openings.items() if is_open)
        rows.append(["  open", ", ".join(opened) or f"nothing ({len(status.openings)} reported closed)"])
    if status.tyre_pressures_kpa:
        rows.append(["  tyres", ", ".join(f"{k} {v:g} kPa" for k, v in status.tyre_pressures_kpa.items())])
    return rows or [["  (no status reported)", ""]]


async def _fetch(account: Account, args: argparse.Namespace) -> int:
    car = await account.vehicle(args.vin)
    value = await car.refresh(args.endpoint, **parse_params(args.params))
    print(json.dumps(plain(value), indent=2) if args.json else _pretty(value))
    return 0


def _pretty(value: Any) -> str:
    data = plain(value)
    if isinstance(data, list):
        return "\n".join(summary(v) for v in value) or "(none)"
    if isinstance(data, dict):
        return "\n".join(f"{k}: {_short(v)}" for k, v in data.items())
    return str(data)


async def _command(account: Account, args: argparse.Namespace) -> int:
    car = await account.vehicle(args.vin)
    params = parse_params(args.params)
    before = account.budget.windows[0].used if account.budget.windows else 0

    def progress(change: StatusChange) -> None:
        if not args.json:
            print(f"  {change.elapsed:7.1f} s  {change.status}", flush=True)

    if not args.json:
        print(f"{args.name} on {mask_vin(car.vin)}:")
    result = await car.command(args.name, progress=progress, **params)
    spent = (account.budget.windows[0].used if account.budget.windows else 0) - before
    if args.json:
        print(json.dumps({**plain(result), "requests": spent}, indent=2))
    else:
        print(f"done: {result.status} after {result.elapsed:.1f} s, {spent} requests ({result.polls} status reads)")
    return 0


async def _budget(account: Account, args: argparse.Namespace) -> int:
    status = account.budget
    if args.json:
        print(json.dumps(plain(status), indent=2))
        return 0
    rows = [["WINDOW", "USED", "LIMIT", "POLLING MAY USE", "SPAN"]]
    rows += [[w.name, str(w.used), str(w.limit), str(w.poll_limit), f"{w.seconds / 3600:g} h"] for w in status.windows]
    table(rows)
    if status.paused_for:
        print(f"paused for another {status.paused_for:.0f} s after the server pushed back")
    return 0


async def _fingerprint(account: Account, args: argparse.Namespace) -> int:
    from .fingerprint import fingerprint

    before = account.budget.windows[0].used if account.budget.windows else 0
    written = await fingerprint(account, Path(args.out))
    spent = (account.budget.windows[0].used if account.budget.windows else 0) - before
    print(f"wrote {len(written)} anonymised answers under {Path(args.out) / account.brand.name} "
          f"({spent} requests); check them, then share the folder")
    return 0


ACCOUNT_COMMANDS: dict[str, Callable[[Account, argparse.Namespace], Any]] = {
    "vehicles": _vehicles,
    "status": _status,
    "fetch": _fetch,
    "command": _command,
    "budget": _budget,
    "fingerprint": _fingerprint,
}


async def run_account_command(args: argparse.Namespace) -> int:
    account, state = await _open(args)
    try:
        code: int = await ACCOUNT_COMMANDS[args.command](account, args)
        return code
    finally:
        if state is not None:
            with contextlib.suppress(OSError):
                state.save(account)
        await account.close()


# -- simulator and demo -------------------------------------------------------------------------------------


async def run_simulator(host: str, port: int, speed: float, quota: int | None = None) -> int:
    from .simulator import Simulator
    from .simulator.quota import SlidingQuota

    sim = Simulator(speed=speed)
    if quota is not None:  # e.g. for benchmarks that must never wait for the servers' quota
        sim.quotas = {name: SlidingQuota(quota, 3600.0) for name in sim.quotas}
    url = await sim.start(host, port)
    print(f"evclient simulator listening on {url}", flush=True)
    for name in sim.brands:
        for server, base in sim.servers(name).items():
            print(f"  {name} {server}: {base}", flush=True)
    print("  controls: " + url + "/_sim/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.close()
    return 0


# -- entry point --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evclient", description="Read and command electric cars politely.")
    parser.add_argument("--brand", default=os.environ.get("EVCLIENT_BRAND", "renault-ze"),
                        help=f"one of {', '.join(brands.names())} (default: %(default)s)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--simulator", metavar="URL", help="use an evclient simulator (demo account by default)")
    where.add_argument("--server", metavar="NAME=URL", action="append", help="override one of the brand's servers")
    parser.add_argument("--username", help="or EVCLIENT_USERNAME")
    parser.add_argument("--password", help="or EVCLIENT_PASSWORD (asked for when missing)")
    parser.add_argument("--app-key", dest="app_key", help="BMW: the i Remote app key (or EVCLIENT_APP_KEY)")
    parser.add_argument("--app-secret", dest="app_secret", help="BMW: the app secret (or EVCLIENT_APP_SECRET)")
    parser.add_argument("--security-answer", dest="security_answer",
                        help="BMW: the account's security answer, to unlock (or EVCLIENT_SECURITY_ANSWER)")
    parser.add_argument("--region", help="BMW: rest_of_world, usa or china (or EVCLIENT_REGION)")
    parser.add_argument("--locale", help="MyRenault: the account's locale, e.g. fr_FR (or EVCLIENT_LOCALE)")
    parser.add_argument("--account-id", dest="account_id",
                        help="MyRenault: the Kamereon account when the login has several (or EVCLIENT_ACCOUNT_ID)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--no-state", action="store_true", help="do not keep tokens and budget between runs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("vehicles", help="list the account's cars")
    status = sub.add_parser("status", help="every endpoint's latest value")
    status.add_argument("vin", nargs="?")
    fetch = sub.add_parser("fetch", help="read one endpoint")
    fetch.add_argument("vin")
    fetch.add_argument("endpoint")
    fetch.add_argument("params", nargs="*", metavar="key=value")
    command = sub.add_parser("command", help="send a command and follow it to its outcome")
    command.add_argument("vin")
    command.add_argument("name")
    command.add_argument("params", nargs="*", metavar="key=value")
    sub.add_parser("budget", help="the account's request budget")
    fingerprint = sub.add_parser("fingerprint", help="read every endpoint once and write anonymised fixtures")
    fingerprint.add_argument("--out", default="evclient-fingerprint", help="the folder to write (default: %(default)s)")
    simulator = sub.add_parser("simulator", help="serve the simulated clouds")
    simulator.add_argument("--host", default="127.0.0.1")
    simulator.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    simulator.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    simulator.add_argument("--quota", type=int, help="requests per hour each account may make (default: the brand's)")
    demo = sub.add_parser("demo", help="show evclient at work against the built-in simulator")
    demo.add_argument("--speed", type=float, default=200.0, help="simulated seconds per real second")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "simulator":
            return asyncio.run(run_simulator(args.host, args.port, args.speed, args.quota))
        if args.command == "demo":
            from .demo import run_demo

            return run_demo(speed=args.speed)
        return asyncio.run(run_account_command(args))
    except EVClientError as err:
        print(f"evclient: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_USAGE if isinstance(err, InvalidInputError) else EXIT_ERROR
    except OSError as err:
        print(f"evclient: {err.strerror or err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
