"""The fault matrix: every brand × route class × fault, against the simulator, in virtual time.

Each case starts a fresh simulator and account, injects one fault on one route class, runs the action that
reaches it and records what the caller saw: ``ok`` (recovered transparently) or the evclient exception.
It also checks what must hold whatever the outcome: the fault was really met, no rolling hour went over
the brand's budget (from the simulator's own log), nothing hung past the time-outs, no exception other
than evclient's escaped, and the account works again afterwards.

``python benchmarks/reliability.py --docs docs/reliability.md`` writes the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs

import evclient
import evclient.brands
from evclient.clock import Clock
from evclient.simulator import Simulator
from evclient.simulator.brands import ROUTE_CLASSES, Rehearsal, all_brands
from evclient.state import FileStore

from .accounts import demo_login, demo_secrets, demo_settings, rehearsed_brands
from .budget import over_budget
from .leaks import leaked

TIMEOUTS = evclient.Timeouts(connect=5.0, total=20.0)
#: Longer than any honest case takes: retries with their back-off, a command's deadline, a quota pause.
HANG_LIMIT = 2 * 3600.0


@attrs.frozen
class BrandCase:
    """One brand's row of the matrix, as its simulator rehearses it (:class:`~evclient.simulator.Rehearsal`)."""

    brand: str
    rehearsal: Rehearsal


def brand_cases() -> tuple[BrandCase, ...]:
    """Every rehearsed brand (see :func:`~evclient.testing.accounts.rehearsed_brands`)."""
    return tuple(BrandCase(name, rehearsal) for name, rehearsal in rehearsed_brands().items())


BRANDS = brand_cases()

#: Fault name → the simulator fault (``None``: connection refused, made by closing the simulator's port).
FAULTS: dict[str, dict[str, Any] | None] = {
    "HTTP 500": {"kind": "status", "status": 500},
    "HTTP 502": {"kind": "status", "status": 502},
    "HTTP 503": {"kind": "status", "status": 503},
    "HTML error page": {"kind": "html", "status": 502},
    "time-out": {"kind": "delay", "delay": 60.0},
    "slow body": {"kind": "slow_body", "delay": 60.0},
    "connection reset": {"kind": "drop"},
    "truncated JSON": {"kind": "truncated"},
    "JSON of the wrong shape": {"kind": "status", "status": 200, "body": {"unexpected": ["shape"]}},
    "empty body": {"kind": "empty"},
    "401, token revoked": {"kind": "revoke"},
    "429 with Retry-After": {"kind": "status", "status": 429, "headers": {"Retry-After": "120"}, "body": {}},
    "429 without Retry-After": {"kind": "status", "status": 429, "body": {}},
    "the brand's quota error": {"kind": "quota", "retry_after": 600.0},
    "429, Retry-After 1e12 s": {"kind": "status", "status": 429, "headers": {"Retry-After": "1e12"}, "body": {}},
    "429, Retry-After -5 s": {"kind": "status", "status": 429, "headers": {"Retry-After": "-5"}, "body": {}},
    "redirect to another origin": {"kind": "status", "status": 307, "body": {},
                                   "headers": {"Location": "http://127.0.0.1:9/elsewhere"}},
    "connection refused": None,
    "HTML 400 page (a proxy)": {"kind": "html", "status": 400},
    "200 KB of nested brackets": {"kind": "raw", "status": 200, "body": "[" * 100_000 + "]" * 100_000,
                                  "headers": {"Content-Type": "application/json"}},
}

#: Cells outside the route × fault grid: the stream's (brands that stream) and a restart across a wall-clock
#: step (every brand).
EXTRA_CELLS = ("poison stream messages", "refused stream connections", "wall-clock step ±2 h")



@attrs.define
class CaseResult:
    brand: str
    route_class: str
    fault: str
    outcome: str = "n/a"  # "ok" or the evclient exception's class name
    met: bool = False  # the fault was really injected (or the port really closed)
    over_budget: bool = False
    hung: bool = False
    foreign: str | None = None  # an exception type that is not evclient's
    leak: bool = False  # the error's message or repr held a password, token or full VIN
    recovered: bool = False  # the account worked again afterwards
    pause: float = 0.0  # the longest pause the account took (never beyond MAX_PAUSE, whatever the server said)
    requests: int = 0
    elapsed: float = 0.0

    @property
    def sound(self) -> bool:
        """Everything that must hold, whatever the outcome."""
        if self.outcome == "n/a":
            return True
        longest = evclient.brands.get(self.brand).max_pause
        return (self.met and not self.over_budget and not self.hung and self.foreign is None and self.recovered
                and not self.leak and self.pause <= longest + 1e-3)


def applicable(case: BrandCase, route_class: str) -> bool:
    return case.rehearsal.routes.get(route_class) is not None


async def run_case(case: BrandCase, route_class: str, fault_name: str) -> CaseResult:
    """One cell of the matrix (call inside a virtual-time loop)."""
    result = CaseResult(case.brand, route_class, fault_name)
    route = case.rehearsal.routes.get(route_class)
    if route is None:
        return result
    sim = Simulator(brands=[case.brand])
    url = await sim.start()
    port = int(url.rsplit(":", 1)[1])
    loop = asyncio.get_running_loop()
    started = loop.time()
    account: evclient.Account | None = None
    spec = FAULTS[fault_name]

    def inject() -> None:
        if spec is not None:
            sim.fault(route, times=1, **spec)

    async def refuse_until(seconds: float) -> None:
        """Close the port now (connection refused) and open it again ``seconds`` later."""
        await sim.close()
        result.met = True

        async def reopen() -> None:
            await asyncio.sleep(seconds)
            await sim.start(port=port)

        tasks.append(asyncio.ensure_future(reopen()))

    tasks: list[asyncio.Future[Any]] = []

    async def attempt(action: Callable[[], Awaitable[Any]]) -> None:
        try:
            await asyncio.wait_for(action(), HANG_LIMIT)
            result.outcome = "ok"
        except TimeoutError:
            result.hung = True
            result.outcome = "hung"
        except evclient.EVClientError as err:
            result.outcome = type(err).__name__
            text = f"{err!s} {err!r} {err.__cause__!r}"
            secrets = (*demo_secrets(case.brand), *sim.world.tokens)
            result.leak = leaked(text, secrets)
        except Exception as err:
            result.foreign = f"{type(err).__module__}.{type(err).__name__}"
            result.outcome = result.foreign

    async def connect() -> evclient.Account:
        return await open_account(case, sim, url)

    try:
        if route_class == "login":
            if spec is None:
                await refuse_until(60.0)
            inject()

            async def log_in() -> None:
                nonlocal account
                account = await connect()
                await account.vehicles()

            await attempt(log_in)
        else:
            account = await connect()
            if route_class == "listing":
                if spec is None:
                    await refuse_until(60.0)
                inject()
                await attempt(account.vehicles)
            else:
                car = await account.vehicle(case.rehearsal.vin)
                if route_class == "token refresh":
                    await asyncio.sleep(11 * 3600)  # every brand's access token has expired by now (ZE: 10 h)
                if route_class in ("token refresh", "poll"):
                    if spec is None:
                        await refuse_until(60.0)
                    inject()
                    await attempt(lambda: car.refresh(case.rehearsal.poll))
                elif case.rehearsal.action is None:
                    raise AssertionError("a brand without commands has no command cells")  # see applicable()
                elif route_class == "command submit":
                    if spec is None:
                        await refuse_until(60.0)
                    inject()
                    action = case.rehearsal.action
                    await attempt(lambda: car.act(action))
                else:  # command status: the fault meets the first status read
                    action = case.rehearsal.action
                    if spec is None:
                        async def command_then_refuse() -> None:
                            name, params = account.brand.command_for(car.info, action)
                            handle = await car.start_command(name, **params)
                            await refuse_until(60.0)
                            await handle
                        await attempt(command_then_refuse)
                    else:
                        inject()
                        await attempt(lambda: car.act(action))
        result.elapsed = loop.time() - started
        for task in tasks:
            await task
        if spec is not None:
            result.met = len(sim.faults) == 0  # taken by a request (a fault with times=1 leaves the book)
        if account is not None:
            result.pause = account.budget.paused_for
        result.recovered = await _recovers(case, account, connect)
        result.over_budget = bool(over_budget(sim, case.brand))
        result.requests = len(sim.log)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if account is not None:
            await account.close()
        await sim.close()
    return result


async def open_account(case: BrandCase, sim: Simulator, url: str, **settings: Any) -> evclient.Account:
    """The demo account of ``case.brand`` on ``sim`` (``settings`` go to ``connect()``, e.g. a ``store``)."""
    return await demo_login(sim, case.brand, base_url=url, timeouts=TIMEOUTS, **settings)


async def _recovers(case: BrandCase, account: evclient.Account | None, connect: Callable[[], Any]) -> bool:
    """Whether the account (or a new login, if the first never finished) reads the car again."""
    try:
        if account is None:
            fresh = await connect()
            try:
                await (await fresh.vehicle(case.rehearsal.vin)).refresh(case.rehearsal.poll)
            finally:
                await fresh.close()
            return True
        pause = account.budget.paused_for
        if pause:
            await asyncio.sleep(pause + 1)
        await (await account.vehicle(case.rehearsal.vin)).refresh(case.rehearsal.poll)
        return True
    except evclient.EVClientError:
        return False


async def run_matrix(brands: tuple[BrandCase, ...] = BRANDS) -> list[CaseResult]:
    results = []
    for case in brands:
        for route_class in ROUTE_CLASSES:
            for fault in FAULTS:
                results.append(await run_case(case, route_class, fault))
        for cell in EXTRA_CELLS:
            results.append(await run_extra(case, cell))
    return results


#: What a stream's poison looks like: a timestamp no date survives, a number with 401 digits, a value that
#: is a structure, a message of nested brackets, a message that is not JSON at all.
POISON = (
    b'{"vin": "%(vin)s", "data": {"k": {"timestamp": 1e15, "value": 1}}}',
    b'{"vin": "%(vin)s", "data": {"k": {"timestamp": 1e300, "value": 2}}}',
    b'{"vin": "%(vin)s", "data": {"k": {"timestamp": ' + b"9" * 401 + b', "value": 3}}}',
    b'{"vin": "%(vin)s", "data": {"k": {"timestamp": "2026-01-01T00:00:00Z", "value": [[[4]]]}}}',
    b"[" * 100_000 + b"]" * 100_000,
    b"not JSON",
)


def extra_applicable(case: BrandCase, cell: str) -> bool:
    return cell == "wall-clock step ±2 h" or all_brands()[case.brand].streams


async def run_extra(case: BrandCase, cell: str) -> CaseResult:
    """One of :data:`EXTRA_CELLS` (call inside a virtual-time loop): ``ok`` when the account went on as it must."""
    result = CaseResult(case.brand, "stream" if "stream" in cell else "restart", cell)
    if not extra_applicable(case, cell):
        return result
    sim = Simulator(brands=[case.brand])
    url = await sim.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    sim_brand = sim.brands[case.brand]
    username = case.rehearsal.account
    account: evclient.Account | None = None
    folder = tempfile.TemporaryDirectory()  # the wall-clock cell's file store
    store = FileStore(case.brand, "matrix", {}, root=Path(folder.name))
    try:
        # The account writes its state through to a file store, as the CLI's does: the restarts read it.
        account = await open_account(case, sim, url, store=store)
        car = await account.vehicle(case.rehearsal.vin)
        if cell == "poison stream messages":
            await account.start()
            await asyncio.sleep(60)
            reconnects = account.stream_state.reconnects
            for payload in POISON:
                await sim_brand.stream_raw(username, case.rehearsal.vin, payload % {b"vin": case.rehearsal.vin.encode()}
                                           if b"%(vin)s" in payload else payload)
            await asyncio.sleep(5)
            state = account.stream_state
            result.met = state.rejected_messages + state.rejected_fields >= len(POISON)
            car.status  # noqa: B018 - must not raise
            await car.refresh(case.rehearsal.poll)
            result.outcome = "ok" if state.connected and state.reconnects == reconnects else "StreamEnded"
        elif cell == "refused stream connections":
            sim_brand.refuse_stream(username)
            since, before = sim.world.clock.wall(), len(sim.log)
            await account.start()
            await asyncio.sleep(2 * 3600)
            later = sim.requests(brand=case.brand)[before:]
            renewals = sum(1 for e in later if e.route == case.rehearsal.routes["token refresh"])
            reads = [e.t - since for e in later if e.route == case.rehearsal.routes["poll"]]
            result.met = account.stream_state.last_error is not None and not account.stream_state.connected
            # One renewal per access token's hour, one more at most for the refusals; REST takes over at once.
            result.outcome = "ok" if renewals <= 3 and reads and reads[0] <= 300 else \
                f"StreamEnded ({renewals} renewals, first read after {reads[0] if reads else None} s)"
            sim_brand.refuse_stream(username, refuse=False)
        else:
            result.outcome = await _wall_clock_step(case, sim, url, account, car, store)
            result.met = True
        result.elapsed = loop.time() - started
        result.recovered = await _recovers(case, account, lambda: open_account(case, sim, url))
        result.over_budget = bool(over_budget(sim, case.brand))
        result.requests = len(sim.log)
    except evclient.EVClientError as err:
        result.outcome = type(err).__name__
    except Exception as err:
        result.foreign = f"{type(err).__module__}.{type(err).__name__}"
        result.outcome = result.foreign
    finally:
        if account is not None:
            await account.close()
        await sim.close()
        folder.cleanup()
    return result


async def _wall_clock_step(case: BrandCase, sim: Simulator, url: str, account: evclient.Account,
                           car: evclient.Vehicle, store: FileStore) -> str:
    """Spend the polls' share of the budget (the account writes it through to ``store``), then restart twice
    with the wall clock two hours ahead and two hours behind: the restarted account must find the budget spent
    (``ok``), never fresh."""
    polled = _poll_windows(account)
    limit = min(w.poll_limit for w in account.budget.windows if w.name in polled)
    with contextlib.suppress(evclient.RateLimited):
        while max(w.used for w in account.budget.windows if w.name in polled) < limit:
            with evclient.within(0):
                await car.refresh(case.rehearsal.poll)
    for step in (7200.0, -7200.0):
        clock = Clock(epoch=account.clock.wall() + step)
        saved = FileStore(case.brand, "matrix", {}, root=store.path.parent).load(clock.wall())
        again = await evclient.connect(case.brand, servers=sim.servers(case.brand, url), clock=clock,
                                       budget=evclient.Budget(state=saved["budget"]), tokens=account.tokens,
                                       vehicles=account.vehicle_listing(), timeouts=TIMEOUTS, login=False,
                                       **demo_settings(case.brand))
        try:
            with evclient.within(0):
                await (await again.vehicle(case.rehearsal.vin)).refresh(case.rehearsal.poll)
        except evclient.BudgetExhausted:
            continue  # the budget the first run spent is still spent
        finally:
            await again.close()
        return "fresh budget"
    return "ok"


def _poll_windows(account: evclient.Account) -> set[str]:
    return {w.name for w in account.scheduler.windows_for(account.brand.poll_server)}


def markdown(results: list[CaseResult]) -> str:
    """The matrix as Markdown: one table per brand, route classes across, faults down."""
    lines = [
        "# Reliability: the fault matrix",
        "",
        "Generated by `python benchmarks/reliability.py --docs docs/reliability.md`; the same cases run in",
        "`tests/test_fault_matrix.py`. Each cell is one fresh account against the simulator with one fault",
        "injected once on that route class: **ok** means the caller never saw it (evclient retried a read,",
        "renewed a token, or read a command's status again); otherwise the cell names the evclient exception",
        "the caller got. In every cell the fault was met, no window of the brand's budget held more than its",
        "limit (counted from the simulator's log), nothing hung, no other exception type escaped, and the",
        "account worked again afterwards (after the pause a server asked for). Writes (login, command",
        "submit) are not retried on their own: a command the server may have taken must not be sent twice.",
        "*n/a*: the brand has no such call (a listing that comes with the login answer, a read-only brand's",
        "commands). A cell marked ✗ breaks the rules above.",
        "",
        "The rules the test holds every cell to: a revoked token is renewed once, unseen; 429s and the",
        "brand's quota answer raise `QuotaExceeded` and pause the account (a command's status read waits out",
        "a pause that ends before its deadline); a refused connection raises `ConnectionFailed`; lost or",
        "garbled answers to reads (listing, poll) are retried, a body that is not the expected JSON raises",
        "`ResponseError`; a command's status read that fails is read again, so the outcome is not lost;",
        "a `Retry-After` is held to [1 s, one hour] (the pause is checked in every cell); a redirect is never",
        "followed and raises `RedirectRefused`; a proxy's HTML page with a 400 is never taken for the server's",
        "refusal (a login is kept), and a body of nested brackets is a `ResponseError`, never a crash.",
        "",
        "Beyond one request: **poison stream messages** (timestamps of 1e15, 1e300 and 401 digits, a structure",
        "where a value belongs, nested brackets, no JSON) are skipped and counted with the stream still connected;",
        "**refused stream connections** cost at most one renewal beyond those due over two hours while REST",
        "reads take over at once; a **restart across a wall-clock step** of two hours either way finds the budget",
        "as spent as the server counts it (through the file store), never fresh.",
        "",
    ]
    for brand in dict.fromkeys(r.brand for r in results):
        lines += [f"## {brand}", "", "| fault | " + " | ".join(ROUTE_CLASSES) + " |",
                  "|---|" + "---|" * len(ROUTE_CLASSES)]
        for fault in FAULTS:
            cells = []
            for route_class in ROUTE_CLASSES:
                r = next(x for x in results if (x.brand, x.route_class, x.fault) == (brand, route_class, fault))
                cell = r.outcome if r.outcome != "ok" else "**ok**"
                good = r.sound and (r.outcome == "n/a" or r.outcome in expected(route_class, fault, brand))
                cells.append(cell if good else f"{cell} ✗")
            lines.append(f"| {fault} | " + " | ".join(cells) + " |")
        lines.append("")
        extra = [r for r in results if r.brand == brand and r.fault in EXTRA_CELLS]
        if extra:
            lines += ["| beyond one request | outcome |", "|---|---|"]
            for r in extra:
                good = r.outcome == "ok" and r.sound
                cell = "*n/a*" if r.outcome == "n/a" else "**ok**" if good else f"{r.outcome} ✗"
                lines.append(f"| {r.fault} | {cell} |")
            lines.append("")
    return "\n".join(lines)


TRANSIENT = ("HTTP 500", "HTTP 502", "HTTP 503", "HTML error page", "time-out", "slow body", "connection reset")
GARBLED = ("truncated JSON", "JSON of the wrong shape", "empty body", "200 KB of nested brackets")
READS = ("listing", "poll")
WRITES = ("login", "token refresh", "command submit")
ERRORS_OF = {"HTTP 500": {"ServerError"}, "HTTP 502": {"ServerError"}, "HTTP 503": {"ServerError"},
             "HTML error page": {"ServerError"}, "time-out": {"RequestTimeout"}, "slow body": {"RequestTimeout"},
             "connection reset": {"ConnectionFailed"}}


def _polls_its_login(brand: str) -> bool:
    return "device-code" in evclient.brands.get(brand).login_challenges


def expected(route_class: str, fault: str, brand: str | None = None) -> set[str]:
    """The documented outcomes of a cell (see ``markdown``)."""
    if fault in EXTRA_CELLS:
        return {"ok"}  # the account went on as it must (see run_extra)
    if brand is not None and _polls_its_login(brand) and route_class == "login" and fault in TRANSIENT:
        # A device login polls the token endpoint anyway: a hiccup there is looked at again at the next
        # interval, while the code is still pending. An answer lost after the server handed the tokens out has
        # used the code up: the owner starts again (never a second poll of a used code).
        return {"ok", "TwoFactorExpired"}
    if fault == "401, token revoked":
        return {"ok"}  # one renewal of the token, then the same request again
    if fault in ("429 with Retry-After", "429 without Retry-After", "the brand's quota error",
                 "429, Retry-After 1e12 s", "429, Retry-After -5 s"):
        # A status read waits out a pause that ends before the command's deadline (Retry-After is held to
        # [1 s, the brand's longest pause], so -5 s pauses 1 s and 1e12 s an hour).
        short = fault in ("429 with Retry-After", "429, Retry-After -5 s") and route_class == "command status"
        return {"ok"} if short else {"QuotaExceeded"}
    if fault == "redirect to another origin":
        # Never followed: the next hop would skip the budget and might carry credentials elsewhere. A status
        # read is read again (the outcome is not lost).
        return {"ok"} if route_class == "command status" else {"RedirectRefused"}
    if fault == "connection refused":
        return {"ok"} if route_class == "command status" else {"ConnectionFailed"}
    if fault == "HTML 400 page (a proxy)":
        # Not the server's own refusal: never an ended login (the cell's recovery proves the tokens were kept).
        if route_class == "command status":
            return {"ok"}
        return {"ResponseError", "ServerError"} if route_class in WRITES else {"ResponseError"}
    if route_class == "command status":
        return {"ok"}  # a lost or garbled status answer is read again: the outcome is not lost
    if fault in TRANSIENT:
        if route_class in READS:
            return {"ok"}  # idempotent reads are retried (twice, within the budget)
        # Writes are not repeated on their own; a submit whose answer carries nothing may still pass.
        return ERRORS_OF[fault] | ({"ok"} if route_class == "command submit" else set())
    assert fault in GARBLED
    if route_class == "command submit":
        # The server said 200: the command counts as sent, and its status reads tell the rest.
        return {"ok", "ResponseError", "CommandTimedOut"}
    # Not the expected JSON: surfaced, not retried (a garbling server tends to keep garbling; the next
    # poll reads again in its turn). Gigya's 200-without-JSON counts as server trouble.
    return {"ResponseError", "ServerError"} if route_class in WRITES else {"ResponseError"}
