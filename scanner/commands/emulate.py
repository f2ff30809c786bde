"""`leftovers emulate`: serve the CloudTrail/STS emulator on loopback until stopped."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from scanner.emulator.faults import parse_faults
from scanner.emulator.latency import DEFAULT_LATENCY, parse_latency
from scanner.emulator.limits import DEFAULT_RATE
from scanner.emulator.runtime import Emulator, Running
from scanner.errors import InputError, SettingsError

DEFAULT_PORT = 4599


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's options."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free one)")
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
        "--generate", metavar="SPEC", help="generate a demo history, e.g. accounts=3,seed=7"
    )
    parser.add_argument("--account", help="account of callers not issued keys by AssumeRole")
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


def _generated(spec_text: str) -> Iterable[object]:
    try:
        module = importlib.import_module("scanner.emulator.generator")
    except ImportError:
        raise InputError(
            "--generate needs the demo history generator (scanner.emulator.generator), "
            "which this build does not include"
        ) from None
    parse_spec = cast(Callable[[str], Any], module.parse_spec)
    generate = cast(Callable[[Any], Iterable[object]], module.generate)
    try:
        spec = parse_spec(spec_text)
    except ValueError as error:
        raise SettingsError(f"--generate {spec_text!r}: {error}") from None
    return generate(spec)


def build(args: argparse.Namespace) -> Emulator:
    """An emulator configured from the command line."""
    if args.rate <= 0 or args.time_scale <= 0:
        raise SettingsError("--rate and --time-scale must be positive")
    try:
        latency = parse_latency(args.latency)
        faults = parse_faults(args.faults)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    emulator = Emulator(
        history=args.history,
        account=args.account,
        rate=args.rate,
        time_scale=args.time_scale,
        latency=latency,
        faults=faults,
        seed=args.seed,
        horizon_days=args.horizon_days or None,
    )
    if args.generate:
        stats = emulator.add_records(_generated(args.generate))
        emulator.load_stats.read += stats.read
        emulator.load_stats.added += stats.added
        emulator.load_stats.duplicates += stats.duplicates
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
