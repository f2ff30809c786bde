"""`leftovers emulate`: serve the CloudTrail/STS emulator on loopback until stopped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys
from pathlib import Path

from emulator import DEFAULT_LATENCY, DEFAULT_RATE, Emulator, Running, generate, parse_spec
from scanner.errors import SettingsError

DEFAULT_PORT = 4599


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's options."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (0: any free one)")
    parser.add_argument(
        "--history",
        nargs="+",
        action="extend",
        default=[],
        type=Path,
        metavar="FILE_OR_DIR",
        help="CloudTrail records to serve: trail logs (.json/.json.gz), S3 delivery folders, "
        "JSONL, LookupEvents responses, EventBridge events",
    )
    parser.add_argument(
        "--generate",
        metavar="SPEC",
        help="serve a generated demo history: accounts=N,regions=R1,R2,...,seed=S,days=D,"
        "resources=N,noise=READS_PER_WRITE,leftover_rate=P,now=ISO_TIME (every key optional)",
    )
    parser.add_argument(
        "--account",
        metavar="ID",
        help="account of callers whose keys AssumeRole did not issue "
        "(default: the account with the most records)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="LookupEvents requests/s per account-region",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply rates and divide latencies by X",
    )
    parser.add_argument(
        "--latency",
        default=DEFAULT_LATENCY,
        metavar="SPEC",
        help=f"'off' or [REGION=]MEDIAN[:SIGMA],... (default {DEFAULT_LATENCY})",
    )
    parser.add_argument(
        "--faults",
        default="",
        metavar="SPEC",
        help="KIND[=ARG][@ACCOUNT][/REGION][:PROB],... kinds: throttle 500 503 5xx slow hang "
        "drop denied expired down",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for faults, latency, keys")
    parser.add_argument(
        "--horizon-days",
        type=float,
        default=90.0,
        help="serve events this many days back (0: no horizon, e.g. for old samples)",
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0..65535)")
    return port


def build(args: argparse.Namespace) -> Emulator:
    """An emulator configured from the command line."""
    for flag, value in (("--rate", args.rate), ("--time-scale", args.time_scale)):
        if not (math.isfinite(value) and value > 0):
            raise SettingsError(f"{flag}: {value} is not a positive number")
    if not (math.isfinite(args.horizon_days) and args.horizon_days >= 0):
        raise SettingsError(f"--horizon-days: {args.horizon_days} is not 0 or a positive number")
    try:
        emulator = Emulator(
            account=args.account,
            rate=args.rate,
            time_scale=args.time_scale,
            latency=args.latency,
            faults=args.faults,
            seed=args.seed,
            horizon_days=args.horizon_days or None,
        )
    except ValueError as error:  # a --latency or --faults spec
        raise SettingsError(str(error)) from None
    generated = generate(parse_spec(args.generate)) if args.generate is not None else ()
    emulator.load(args.history, generated)
    if args.account is not None and not emulator.knows_account(args.account):
        raise SettingsError(
            f"--account: {args.account!r} is neither a 12-digit AWS account id "
            "nor an account of the history"
        )
    return emulator


def _announce(running: Running) -> None:
    emulator = running.emulator
    loaded = emulator.load_stats
    regions = emulator.history.regions()
    print(f"CloudTrail/STS emulator listening on {running.endpoint_url}")
    print(
        f"events: {len(emulator.history)} served in {len(emulator.history.accounts())} accounts "
        f"x {len(regions)} regions (read {loaded.read}, duplicates {loaded.duplicates}, "
        f"not records {loaded.skipped}); default account {emulator.default_account}"
    )
    print("point AWS clients at it with:")
    region = "us-east-1" if "us-east-1" in regions or not regions else regions[0]
    for name, value in running.env(region).items():
        print(f"  export {name}={value}")
    sys.stdout.flush()


async def _serve(emulator: Emulator, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with emulator.running(host, port) as running:
            _announce(running)
            await stop.wait()
    except OSError as error:
        raise SettingsError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM."""
    emulator = build(args)
    asyncio.run(_serve(emulator, args.host, args.port))
    print("emulator stopped")
    return 0
