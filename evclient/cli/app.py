"""``evclient``: the command line (install the ``cli`` extra).

Account commands keep the tokens, the budget log and the car listing between runs in the account's file store
(see :mod:`evclient.state.file`), written through as they change, so consecutive runs neither log in again, nor
list the cars again, nor forget the requests already spent this hour.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import math
import os
import signal
import ssl
import sys
from collections.abc import Sequence
from typing import Any

from .. import brands
from ..account import Account, Budget
from ..actions import ACTIONS, action_fields
from ..clock import Clock
from ..connect import connect
from ..demo import run_demo
from ..errors import EVClientError, InvalidInputError, TwoFactorRequired
from ..scheduler import Priority, within
from ..simulator import Simulator
from ..simulator.brands import all_brands
from ..simulator.quota import SlidingQuota
from ..simulator.server import servers_for
from ..state.file import FileStore, state_dir
from . import login
from .commands import ACCOUNT_COMMANDS, OFFLINE

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TERMINATED = 143
#: How often a run looks whether one of its requests waits for the budget (seconds).
ANNOUNCE_CHECK = 5.0


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


def warn(message: str) -> None:
    print(f"evclient: {message}", file=sys.stderr, flush=True)


# -- the account --------------------------------------------------------------------------------------------


def _servers(args: argparse.Namespace) -> dict[str, str]:
    servers: dict[str, str] = {}
    if args.simulator:
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


def _credentials(args: argparse.Namespace) -> dict[str, Any]:
    """The brand's settings (as it declares them) from options and environment; the simulator's demo account
    when no secret is given."""
    brand = brands.get(args.brand)
    given = {s.name: getattr(args, s.name, None) or os.environ.get(s.env) for s in brand.settings}
    given = {k: v for k, v in given.items() if v}
    secrets = {s.name for s in brand.settings if s.secret}
    if args.simulator and not given.get(brand.identity()) and not secrets & set(given):
        sims = all_brands()
        if args.brand in sims:
            return {**sims[args.brand].demo_credentials(), **given}
    return given


async def _open(args: argparse.Namespace, state: FileStore | None, saved: dict[str, Any],
                credentials: dict[str, Any], servers: dict[str, str], clock: Clock) -> Account:
    tokens = saved.get("tokens") if isinstance(saved.get("tokens"), dict) else None
    offline = args.command in OFFLINE
    brand = brands.get(args.brand)
    for setting in brand.settings:
        if not (setting.secret and setting.required) or setting.name in credentials or tokens is not None or offline:
            continue
        if not login.interactive():
            raise InvalidInputError(f"no {setting.name}: use {setting.option}, {setting.env} or a terminal to type it")
        who = credentials.get(brand.identity())
        credentials[setting.name] = getpass.getpass(f"{args.brand} {setting.name.replace('_', ' ')}"
                                                    f"{f' for {who}' if who else ''}: ")
    try:
        budget = Budget(state=saved["budget"]) if saved.get("budget") else None
    except InvalidInputError as err:
        where = f"in {state.path}; move it away to start afresh" if state else "in the state"
        raise InvalidInputError(f"{err} ({where})") from None
    listing = state.cached_listing(saved, clock.wall()) if state else None
    history = saved.get("commands") if isinstance(saved.get("commands"), dict) else None
    # Offline commands write nothing: they hold no lock, and another run may be writing.
    store = None if state is None or offline else state
    if args.ca_file:
        try:
            kwargs_tls: dict[str, Any] = {"ssl_context": ssl.create_default_context(cafile=args.ca_file)}
        except (OSError, ssl.SSLError) as err:
            raise InvalidInputError(f"--ca-file {args.ca_file}: not a CA file ({type(err).__name__})") from None
    else:
        kwargs_tls = {}
    kwargs: dict[str, Any] = {"servers": servers or None, "tokens": tokens, "budget": budget, "clock": clock,
                              "vehicles": listing, "login": not offline, "store": store, **kwargs_tls, **credentials}
    # Stale saved tokens need no second attempt here: each brand's auth falls back to the password by
    # itself, and retrying a refused login from here would only spend a second wrong-password attempt.
    try:
        try:
            account = await connect(args.brand, command_history=history, **kwargs)
        except InvalidInputError:
            if not history and not listing:
                raise
            # A damaged history or listing only costs a request or what was learnt of the cars' latency.
            kwargs["vehicles"] = None
            account = await connect(args.brand, **kwargs)
    except TwoFactorRequired as required:
        account = await login.two_factor(required)
    if listing and isinstance(saved.get("values"), dict):
        account.load_values(saved["values"])
    return account


async def _announce_waits(account: Account) -> None:
    """Say once, on stderr, when a request of the run really waits for the budget, and for how long at most
    (background polls waiting for their turn are the rhythm, not a wait)."""
    told = False
    while not told:
        await asyncio.sleep(ANNOUNCE_CHECK)
        if not account.scheduler.waiting_beyond(Priority.POLL):
            continue
        figures = account.budget
        full = [w for w in figures.windows if w.used >= w.poll_limit]
        if full:
            w = max(full, key=lambda w: w.next_free_s or 0.0)
            when = f"about {w.next_free_s / 60:.0f} min" if w.next_free_s else "a moment"
            warn(f"waiting for the budget: {w.used} of {w.limit} requests of the last {w.seconds / 3600:g} h "
                 f"are spent ({w.name}); the next slot frees in {when} (--no-wait fails at once instead)")
            told = True
        elif figures.pauses:
            server, seconds = max(figures.pauses.items(), key=lambda item: item[1])
            warn(f"waiting: the {server} server asked for a pause of another {seconds / 60:.0f} min")
            told = True


def _may_take_stream(args: argparse.Namespace) -> None:
    """``watch`` on a real account of a brand with one stream per owner asks before taking it from another app."""
    brand = brands.get(args.brand)
    if args.command != "watch" or args.simulator or args.take_stream or brand.stream is None:
        return
    question = (f"{brand.title or brand.name} allows one stream per owner: watching takes it from any other app "
                "using it (Home Assistant, say). Take it? [y/N] ")
    if not login.interactive():
        raise InvalidInputError("watch would take the account's only stream from any other app: pass --take-stream")
    if login.ask(question).strip().lower() not in ("y", "yes"):
        raise InvalidInputError("not watching: the stream stays with the other app")


async def run_account_command(args: argparse.Namespace) -> int:
    """Open the account (resuming from its file store, which it writes through), run one subcommand, close."""
    if not args.brand:
        known = ", ".join(brands.names())
        raise InvalidInputError(f"name the car cloud with --brand or EVCLIENT_BRAND: one of {known}")
    args.parsed_params = parse_params(getattr(args, "params", None) or [])  # bad parameters cost nothing
    _may_take_stream(args)
    if args.command == "fetch" and not args.output and any(
            spec.name == args.endpoint and spec.binary for spec in brands.get(args.brand).endpoints):
        raise InvalidInputError(f"{args.endpoint} is a file (an image): give --output FILE to write it to")
    servers = _servers(args)
    credentials = _credentials(args)
    identity = brands.get(args.brand).identity()
    state = None if args.no_state else FileStore(args.brand, credentials.get(identity), servers)
    args.state = state
    clock = Clock()
    if state is None:
        return await _run(args, None, {}, credentials, servers, clock)
    lock = state.locked(warn) if args.command not in OFFLINE else contextlib.nullcontext(False)
    async with lock:
        return await _run(args, state, state.load(clock.wall()), credentials, servers, clock)


async def _run(args: argparse.Namespace, state: FileStore | None, saved: dict[str, Any],
               credentials: dict[str, Any], servers: dict[str, str], clock: Clock) -> int:
    def bounded() -> contextlib.AbstractContextManager[None]:
        # The run's own requests are bounded by --no-wait; what it starts (a watch's polls) is not.
        return contextlib.nullcontext() if args.no_wait is False else within(0)

    account: Account | None = None
    watcher: asyncio.Task[None] | None = None
    try:
        with bounded():
            account = await _open(args, state, saved, credentials, servers, clock)
        watcher = asyncio.ensure_future(_announce_waits(account))
        with bounded():
            code: int = await ACCOUNT_COMMANDS[args.command](account, args)
        return code
    finally:
        if watcher is not None:
            watcher.cancel()
        if account is not None:
            await account.close()  # the account wrote its state through as it went; close() adds the last values
        if state is not None and state.error is not None:
            warn(f"could not save the state to {state.path} ({state.error.strerror or state.error}): the next run "
                 "will not know the requests this one spent")


async def run_simulator(host: str, port: int, speed: float, quota: int | None = None, *,
                        quota_window: str = "sliding", quota_counts_refused: bool = True,
                        token_lifetime: float | None = None, tls: bool = False) -> int:
    sim = Simulator(speed=speed, tls=tls)
    if token_lifetime is not None:
        for brand in sim.brands.values():
            if hasattr(brand, "access_lifetime"):
                brand.access_lifetime = token_lifetime
    # A raised quota serves benchmarks and side-by-side runs that must never wait for the servers' quota.
    sim.quotas = {name: SlidingQuota(quota or q.limit, q.seconds if quota is None else 3600.0, window=quota_window,
                                     counts_refused=quota_counts_refused)
                  for name, q in sim.quotas.items()}
    url = await sim.start(host, port)
    print(f"evclient simulator listening on {url}", flush=True)
    for name in sim.brands:
        for server, base in sim.servers(name).items():
            print(f"  {name} {server}: {base}", flush=True)
    print("  controls: " + url + "/_sim/", flush=True)
    if sim.tls_material is not None:
        print(f"  tls ca: {sim.tls_material.ca_file}", flush=True)
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


# -- options ------------------------------------------------------------------------------------------------


def _number(kind: type[int] | type[float], low: float, high: float = math.inf, *, low_open: bool = False) -> Any:
    """An argparse type: a finite ``kind`` within [low, high] (``low_open``: above low)."""
    def convert(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            bound = f"above {low:g}" if low_open else f"at least {low:g}"
            if high < math.inf:
                bound = f"from {low:g} to {high:g}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: give a number {bound}")
        return value

    return convert


def _default_brand() -> str | None:
    """``EVCLIENT_BRAND``, else the brand of the accounts kept in the state folder when they are all of one.
    There is no built-in default: every brand's servers may stop answering third parties one day."""
    named = os.environ.get("EVCLIENT_BRAND")
    if named:
        return named
    folder = state_dir()
    known = sorted(brands.names(), key=len, reverse=True)  # "bmw-cardata-…" is CarData's, not legacy BMW's
    kept = {next((b for b in known if path.name.startswith(f"{b}-")), None)
            for path in (folder.glob("*.json") if folder.is_dir() else ())}
    kept.discard(None)
    return kept.pop() if len(kept) == 1 else None


def _brand_from(argv: Sequence[str] | None) -> str | None:
    """The brand named on the command line (or found as :func:`_default_brand`), to tailor the subcommands' help."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--brand", default=None)
    known, _ = early.parse_known_args(list(argv) if argv is not None else sys.argv[1:])
    return str(known.brand) if known.brand else _default_brand()


def _brand_help(brand: str | None, what: str) -> str:
    """The ``fetch`` (``what="endpoints"``) or ``command`` help's list of what ``brand`` has."""
    if brand is None:
        return "name a brand (--brand) to list its " + what
    try:
        cls = brands.get(brand)
    except InvalidInputError:
        return ""
    if what == "endpoints":
        lines = [f"endpoints of {brand} (params after the name as key=value):"]
        for spec in cls.endpoints:
            params = " ".join(name if required else f"[{name}]" for name, required in spec.parameters())
            lines.append(f"  {spec.name:28} {params}".rstrip())
    else:
        lines = [f"typed actions {brand} maps (the same names and values for every brand):"]
        lines += [f"  {name:24} {ACTIONS[name].description}" for name in cls.actions]
        lines += [f"commands of {brand} itself (params as key=value; see each one's description):"]
        lines += [f"  {spec.name:24} {spec.description}".rstrip() for spec in cls.commands]
    return "\n".join(lines)


def _setting_options(parser: argparse.ArgumentParser) -> None:
    """An option for every setting any brand declares, with each brand's help (built from the brands'
    declarations: a new brand's settings appear here without an edit)."""
    group = parser.add_argument_group("brand settings", "each also read from its EVCLIENT_… environment variable")
    for name, uses in brands.all_settings().items():
        first = uses[0][1]
        helps = dict.fromkeys(setting.help for _, setting in uses)
        who = ", ".join(brand.name for brand, _ in uses)
        text = f"{who}: {'; '.join(helps)}"
        choices = sorted({c for _, setting in uses for c in setting.choices})
        if choices:
            text += f" ({', '.join(choices)})"
        group.add_argument(first.option, dest=name, metavar=name.upper(), help=f"{text} [{first.env}]")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    brand = _brand_from(argv)
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="evclient", description="Read and command electric cars politely.", formatter_class=raw,
        epilog=f"Tokens, the budget log and the car listing are kept between runs in {state_dir()} "
               "(EVCLIENT_STATE_DIR), one owner-only file per account; --no-state keeps nothing.")
    parser.add_argument("--brand", default=brand,
                        help=f"one of {', '.join(brands.names())} (EVCLIENT_BRAND; without either, the brand of "
                             "the accounts kept in the state folder when they are all of one)")
    parser.add_argument("--simulator", metavar="URL", help="use an evclient simulator (demo account by default)")
    parser.add_argument("--server", metavar="NAME=URL", action="append",
                        help="override one of the brand's servers (on top of --simulator's, e.g. a stream over TLS)")
    parser.add_argument("--ca-file", metavar="FILE",
                        help="trust this CA (PEM) for every server of the account, the stream's too (e.g. the one "
                             "'evclient simulator --tls' prints); verification stays on")
    _setting_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--no-state", action="store_true", help="do not keep tokens and budget between runs")
    parser.add_argument("--no-wait", action="store_true",
                        help="fail at once when the budget is spent instead of waiting for a slot "
                             "(a command still waits within its --deadline)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log what evclient does (-vv: each request)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("vehicles", help="list the account's cars")
    status = sub.add_parser("status", help="the cars' status, from what the account polls (kept values that are "
                                           "as fresh as polling would keep them cost nothing)")
    status.add_argument("vin", nargs="?")
    status.add_argument("--fresh", action="store_true", help="read every value now, however fresh the kept one")
    fetch = sub.add_parser("fetch", help="read one endpoint", formatter_class=raw,
                           epilog=_brand_help(brand, "endpoints"))
    fetch.add_argument("vin")
    fetch.add_argument("endpoint")
    fetch.add_argument("params", nargs="*", metavar="key=value")
    fetch.add_argument("--output", "-o", metavar="FILE", help="write a file the endpoint answers with (an image) here")
    command = sub.add_parser("command", help="send a command and follow it to its outcome", formatter_class=raw,
                             epilog=_brand_help(brand, "commands"))
    command.add_argument("vin")
    command.add_argument("name")
    command.add_argument("params", nargs="*", metavar="key=value")
    command.add_argument("--deadline", type=_number(float, 0, low_open=True), metavar="SECONDS",
                         help="give up following it after this long, waits for budget included "
                              "(default: the command's own)")
    typed = command.add_argument_group("typed actions' values", "e.g. climate-start --temperature 21 (the same "
                                       "for every brand that can; key=value works too)")
    for field, uses in action_fields().items():
        typed.add_argument("--" + field.replace("_", "-"), dest=f"action_{field}", metavar=field.upper(),
                           help=", ".join(uses))
    sub.add_parser("budget", help="the account's request budget (sends nothing)")
    sub.add_parser("login", help="log in (BMW CarData: shows the link and code to approve, and waits) and keep "
                                 "the tokens")
    watch = sub.add_parser("watch", help="print every change as it arrives (streamed where the brand pushes)")
    watch.add_argument("--for", dest="seconds", type=_number(float, 0, low_open=True), default=300.0,
                       metavar="SECONDS", help="how long to watch (default: %(default)s)")
    watch.add_argument("--take-stream", action="store_true",
                       help="take the brand's stream over without asking (BMW allows one stream per owner: "
                            "another app using it loses it)")
    fingerprint = sub.add_parser("fingerprint", help="read every endpoint once and write anonymised fixtures")
    fingerprint.add_argument("--out", default="evclient-fingerprint", help="the folder to write (default: %(default)s)")
    simulator = sub.add_parser("simulator", help="serve the simulated clouds")
    simulator.add_argument("--host", default="127.0.0.1")
    simulator.add_argument("--port", type=_number(int, 0, 65535), default=8765, help="0 picks a free port")
    simulator.add_argument("--speed", type=_number(float, 0, 1e6), default=1.0,
                           help="simulated seconds per real second (0 holds the clock still: POST /_sim/clock "
                                "{\"advance\": seconds} moves it)")
    simulator.add_argument("--quota", type=_number(int, 1), help="requests per hour each account may make "
                                                                  "(default: the brand's)")
    simulator.add_argument("--quota-window", choices=("sliding", "fixed"), default="sliding",
                           help="how the quota's period is laid: any period (sliding, the default) or clock "
                                "periods (fixed)")
    simulator.add_argument("--quota-ignores-refused", action="store_true",
                           help="refused requests do not count against the quota (by default they do)")
    simulator.add_argument("--tls", action="store_true",
                           help="also serve streams over TLS as the real clouds do (BMW CarData: MQTT on TLS 1.3), "
                                "under a test CA of the simulator's own (its file is printed)")
    simulator.add_argument("--token-lifetime", type=_number(float, 1, 86400), metavar="SECONDS",
                           help="how long access tokens live where a brand's simulator lets it be set (BMW CarData; "
                                "default: the brand's hour)")
    demo = sub.add_parser("demo", help="show evclient at work against the built-in simulator")
    demo.add_argument("--speed", type=_number(float, 0, 1e6, low_open=True), default=200.0,
                      help="simulated seconds per real second")
    return parser


def _logging(verbose: int) -> None:
    logger = logging.getLogger("evclient")
    if verbose <= 0:
        # The error line says what went wrong; Python's last-resort handler would print warnings a second time.
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)


async def _terminable(args: argparse.Namespace) -> int:
    """Run the account command; SIGTERM or SIGHUP cancel it, so the state is still saved on the way out."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    terminated: list[int] = []

    def stop(signum: int) -> None:
        terminated.append(signum)
        task.cancel()

    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop, sig)
    try:
        return await run_account_command(args)
    except asyncio.CancelledError:
        if terminated:
            state = getattr(args, "state", None)
            saved = ("the state is saved" if state is not None and state.wrote
                     else "nothing was saved (nothing had changed)" if state is not None
                     else "nothing is kept (--no-state)")
            warn(f"stopped by {signal.Signals(terminated[0]).name}; {saved}")
            return EXIT_TERMINATED
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    _logging(args.verbose)
    try:
        if args.command == "simulator":
            return asyncio.run(run_simulator(args.host, args.port, args.speed, args.quota,
                                             quota_window=args.quota_window,
                                             quota_counts_refused=not args.quota_ignores_refused,
                                             token_lifetime=args.token_lifetime, tls=args.tls))
        if args.command == "demo":
            return run_demo(speed=args.speed)
        return asyncio.run(_terminable(args))
    except EVClientError as err:
        print(f"evclient: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_USAGE if isinstance(err, InvalidInputError) else EXIT_ERROR
    except OSError as err:
        print(f"evclient: {err.strerror or err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
