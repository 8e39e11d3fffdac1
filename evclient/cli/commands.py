"""The account subcommands: each takes the open account and the parsed options and prints its answer."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import enum
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..account import Account
from ..actions import ACTIONS, action_from
from ..command import StatusChange
from ..display import pretty, short, summary, table
from ..errors import EVClientError, InvalidInputError
from ..fingerprint import fingerprint
from ..models import plain
from ..status import VehicleStatus
from ..streams import StreamState
from ..vehicle import Vehicle


async def vehicles(account: Account, args: argparse.Namespace) -> int:
    cars = await account.vehicles(refresh=True)  # asked for: list them now, whatever is cached
    left_out = account.left_out()
    if args.json:
        print(dumps([{"vin": c.vin, "model": c.model, "name": c.name, "commands": list(c.commands),
                      "endpoints": {n: e.supported for n, e in c.endpoints.items()}} for c in cars]
                    + [{"vin": vin, "left_out": why} for vin, why in left_out.items()]))
        return 0
    rows = [["VIN", "MODEL", "NAME", "COMMANDS"]]
    rows += [[c.vin, c.model or "-", c.name or "-", ", ".join(c.commands)] for c in cars]
    table(rows)
    for vin, why in left_out.items():
        print(f"{vin}: left out, {why}")
    return 0


async def status(account: Account, args: argparse.Namespace) -> int:
    """The car's status: the endpoints it is built from (those the account polls), each read unless the value
    kept from an earlier run is as fresh as polling would keep it (``--fresh`` reads them all)."""
    cars = [await account.vehicle(args.vin)] if args.vin else await account.vehicles()
    report: dict[str, Any] = {}
    wall = account.clock.wall()
    for car in cars:
        values: dict[str, Any] = {}
        for name, endpoint in car.endpoints.items():
            # Settings, histories and images are ``fetch``'s: the status is built from what is polled.
            if not endpoint.spec.poll or endpoint.supported is False \
                    or endpoint.spec.needs_parameters(car.info.context):
                continue
            fresh = (endpoint.fetched_at is not None and endpoint.value is not None
                     and wall - endpoint.fetched_at < account.poll_period(car, name))
            if fresh and not getattr(args, "fresh", False):
                values[name] = endpoint.value
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
        print(dumps({vin: {
            "status": statuses[vin].to_json(),
            "endpoints": {n: ({"error": str(v)} if isinstance(v, EVClientError) else plain(v))
                          for n, v in values.items()},
        } for vin, values in report.items()}))
        return 0
    for vin, values in report.items():
        print(vin)
        table(status_rows(statuses[vin]))
        print("  endpoints:")
        table([["    " + n, f"error: {v}" if isinstance(v, EVClientError) else summary(v)] for n, v in values.items()])
    return 0


def dumps(data: Any) -> str:
    """JSON for the terminal; anything JSON has no form for is shown as text rather than crashing the run."""
    return json.dumps(data, indent=2, default=str)


#: The unified status as the table shows it: field, label, unit.
STATUS_ROWS = (
    ("battery_percent", "battery", "%"), ("range_km", "range", "km"), ("charge_state", "charging", ""),
    ("plug_state", "plug", ""), ("charge_power_kw", "charge power", "kW"), ("minutes_to_full", "to full", "min"),
    ("odometer_km", "odometer", "km"), ("fuel_litres", "fuel", "l"), ("fuel_range_km", "fuel range", "km"),
    ("locked", "locked", ""), ("climate_on", "climate on", ""), ("inside_temperature_c", "inside", "°C"),
    ("outside_temperature_c", "outside", "°C"),
)


def status_rows(vehicle_status: VehicleStatus) -> list[list[str]]:
    rows = []
    for field, label, unit in STATUS_ROWS:
        value = getattr(vehicle_status, field)
        if value is None:
            continue
        shown = value.value if isinstance(value, enum.Enum) else f"{value:g}" if isinstance(value, float) else value
        rows.append(["  " + label, f"{shown} {unit}".rstrip()])
    position = vehicle_status.position
    if position is not None:
        heading = "" if position.heading is None else f", heading {position.heading:g}°"
        rows.append(["  position", f"{position.latitude:.5f}, {position.longitude:.5f}{heading}"])
    if vehicle_status.openings:
        opened = sorted(name for name, is_open in vehicle_status.openings.items() if is_open)
        rows.append(["  open", ", ".join(opened) or f"nothing ({len(vehicle_status.openings)} reported closed)"])
    if vehicle_status.tyre_pressures_kpa:
        rows.append(["  tyres", ", ".join(f"{k} {v:g} kPa" for k, v in vehicle_status.tyre_pressures_kpa.items())])
    return rows or [["  (no status reported)", ""]]


async def fetch(account: Account, args: argparse.Namespace) -> int:
    car = await account.vehicle(args.vin)
    value = await car.refresh(args.endpoint, **args.parsed_params)
    if isinstance(value, bytes | bytearray):
        out = Path(args.output)  # given: a file endpoint without --output is refused before any request
        await asyncio.to_thread(out.write_bytes, value)
        print(dumps({"endpoint": args.endpoint, "file": str(out), "bytes": len(value)}) if args.json
              else f"wrote {len(value)} bytes to {out}")
        return 0
    print(dumps(plain(value)) if args.json else pretty(value))
    return 0


def _used(account: Account) -> int:
    return sum(w.used for w in account.budget.windows)


async def command(account: Account, args: argparse.Namespace) -> int:
    car = await account.vehicle(args.vin)
    before = _used(account)

    def progress(change: StatusChange) -> None:
        if not args.json:
            print(f"  {change.elapsed:7.1f} s  {change.status}", flush=True)

    typed = {key.removeprefix("action_"): value for key, value in vars(args).items()
             if key.startswith("action_") and value is not None}
    own = any(spec.name == args.name for spec in account.brand.commands)
    if args.name in ACTIONS and (typed or not own):
        # A typed action: the same name and values for every brand (the brand's own command of that name, if any,
        # is reached by giving its parameters as key=value).
        action = action_from(args.name, {**args.parsed_params, **typed})
        if not args.json:
            print(f"{args.name} on {car.vin}:")
        result = await car.act(action, progress=progress, deadline=args.deadline)
    else:
        if typed:
            raise InvalidInputError(f"--{next(iter(typed)).replace('_', '-')} is a typed action's value; "
                                    f"{args.name} takes key=value parameters")
        if not args.json:
            print(f"{args.name} on {car.vin}:")
        result = await car.command(args.name, progress=progress, deadline=args.deadline, **args.parsed_params)
    spent = _used(account) - before
    if args.json:
        print(dumps({**plain(result), "requests": spent}))
    else:
        reads = f"{result.polls} status read" + ("" if result.polls == 1 else "s")
        requests = f"{spent} request" + ("" if spent == 1 else "s")
        print(f"done: {result.status} after {result.elapsed:.1f} s, {requests} ({reads})")
    return 0


async def budget(account: Account, args: argparse.Namespace) -> int:
    figures = account.budget
    if args.json:
        print(dumps(plain(figures)))
        return 0
    wall = account.clock.wall()

    def at(seconds: float | None) -> str:
        if seconds is None:
            return "-"
        return dt.datetime.fromtimestamp(wall + seconds).astimezone().strftime("%a %H:%M")

    rows = [["WINDOW", "USED", "LIMIT", "LEFT", "POLLING MAY USE", "SPAN", "NEXT FREES"]]
    rows += [[w.name, str(w.used), str(w.limit), str(w.left), str(w.poll_limit), f"{w.seconds / 3600:g} h",
              at(w.next_free_s)] for w in figures.windows]
    table(rows)
    for server, seconds in sorted(figures.pauses.items()):
        print(f"requests to {server} are paused until {at(seconds)} ({seconds / 60:.0f} min) after the server "
              "pushed back")
    return 0


async def fingerprint_command(account: Account, args: argparse.Namespace) -> int:
    before = _used(account)
    written = await fingerprint(account, Path(args.out))
    spent = _used(account) - before
    print(f"wrote {len(written)} anonymised answers under {Path(args.out) / account.brand.name} "
          f"({spent} request{'' if spent == 1 else 's'}); check them, then share the folder")
    return 0


async def login_command(account: Account, args: argparse.Namespace) -> int:
    """The login itself happened on the way in (a device approval or a code when needed)."""
    print(f"logged in to {account.brand.name}; the tokens are kept for the next runs" if not args.no_state
          else f"logged in to {account.brand.name} (--no-state: nothing kept)")
    return 0


async def watch(account: Account, args: argparse.Namespace) -> int:
    """Print every change as it arrives (pushed where the brand streams, polled otherwise) for ``--for`` seconds,
    and the stream's state as it changes. A run whose background work cannot go on ends non-zero, saying why."""
    def changed(car: Vehicle, status: VehicleStatus, fields: frozenset[str]) -> None:
        for field in sorted(fields):
            value = getattr(status, field)
            shown = plain(value)
            when = status.measured_at.get(field)
            endpoint = car.endpoints.get(status.sources.get(field, ""))
            source = endpoint.source if endpoint is not None else None
            if args.json:
                print(json.dumps({"vin": car.vin, "field": field, "value": shown, "source": source,
                                  "measured_at": when.isoformat() if when else None}, default=str), flush=True)
            else:
                stamp = when.strftime("%H:%M:%S") if when else "--:--:--"
                print(f"{stamp}  {car.vin}  {field:22} {short(shown)}  ({source or '-'})", flush=True)

    told: list[tuple[bool, str | None]] = []

    def stream_changed(state: StreamState) -> None:
        key = (state.connected, state.last_error)
        if (told and told[-1] == key) or (not state.connected and not state.last_error):
            return  # the same news again (a counter moved), or nothing to say yet
        told.append(key)
        if args.json:
            print(json.dumps({"stream": {"connected": state.connected, "error": state.last_error,
                                         "next_attempt_at": state.next_attempt_at}}), flush=True)
        elif state.connected:
            print("stream: connected; changes arrive as the car sends them", flush=True)
        else:
            wait = "" if state.next_attempt_at is None else \
                f"; next attempt in {max(0.0, state.next_attempt_at - account.clock.wall()):.0f} s"
            print(f"stream: down ({state.last_error}){wait}; the cars are polled within the budget meanwhile",
                  flush=True)

    unsubscribe = account.subscribe_status(changed)
    unsubscribe_stream = account.subscribe_stream(stream_changed)
    try:
        await account.start()
        if not args.json:
            stream = account.stream_state
            how = ("pushed by the stream" if stream.supported and stream.available
                   else "polled within the budget")
            print(f"watching {len(account.cached_vehicles())} car(s) for {args.seconds:g} s, changes {how}",
                  flush=True)
        end = account.clock.now() + args.seconds
        while (left := end - account.clock.now()) > 0:
            await asyncio.sleep(min(left, WATCH_CHECK))
            stopped = account.pipeline.auth_error
            if stopped is not None:
                # Nothing more can be read until the owner logs in again: say so and end, not watch nothing.
                raise stopped
    finally:
        unsubscribe()
        unsubscribe_stream()
        await account.stop()
    return 0


#: How often a watch looks whether its background work can still go on (seconds).
WATCH_CHECK = 30.0


Handler = Callable[[Account, argparse.Namespace], Awaitable[int]]

ACCOUNT_COMMANDS: dict[str, Handler] = {
    "vehicles": vehicles,
    "status": status,
    "fetch": fetch,
    "command": command,
    "budget": budget,
    "fingerprint": fingerprint_command,
    "login": login_command,
    "watch": watch,
}
#: Subcommands that send no request: they read the saved state without logging in.
OFFLINE = frozenset({"budget"})
