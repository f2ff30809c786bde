"""`leftovers prices refresh`: write a dated price file from the AWS Price List Query API."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import anyio

from scanner import logs
from scanner.cli import EXIT_ERROR, EXIT_OK
from scanner.prices_refresh import PRICING_REGIONS, refresh
from scanner.settings import load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`prices refresh` and its options."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    refresh_parser = actions.add_parser(
        "refresh",
        help="read current list prices (pricing:GetProducts) and write a dated price file",
        description="Read current on-demand list prices from the AWS Price List Query API "
        "(pricing:GetProducts, read-only) for the catalog's types and the settings' regions, and "
        "write a dated price file that scans prefer over the bundled one.",
    )
    refresh_parser.epilog = (
        "Exit status: 0 the price file was written (figures the API did not return keep the "
        "bundled value and are listed on stderr), 2 nothing could be read and nothing was written."
    )
    refresh_parser.add_argument("--config", type=Path, metavar="FILE", help="YAML settings file")
    refresh_parser.add_argument(
        "--endpoint-url", metavar="URL", help="send AWS calls here (emulator)"
    )
    refresh_parser.add_argument(
        "--region", action="append", default=[], metavar="R", help="region to price (repeatable)"
    )
    refresh_parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="where to write (default: the prices_path setting, else prices.yaml beside the "
        "state file)",
    )
    refresh_parser.add_argument(
        "--pricing-region",
        choices=PRICING_REGIONS,
        default=PRICING_REGIONS[0],
        help="the region of the Price List endpoint to ask (default us-east-1)",
    )
    refresh_parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress to stderr"
    )


def run(args: argparse.Namespace) -> int:
    """Refresh the price file; print what was written and every figure left at its bundled value."""
    flags: dict[str, object] = {"endpoint_url": args.endpoint_url}
    if args.region:
        flags["regions"] = [r for value in args.region for r in value.split(",") if r]
    if args.output is not None:
        flags["prices_path"] = str(args.output)
    settings = load_settings(args.config, os.environ, flags)
    logs.configure(settings.log_level if args.verbose else "warning")
    done = anyio.run(refresh, settings, settings.price_file, args.pricing_region)
    for line in done.lines:
        print(f"leftovers: prices: {line}", file=sys.stderr)
    if done.path is None:
        print(
            "leftovers: error: no price could be read from the Price List API: "
            "no price file written",
            file=sys.stderr,
        )
        return EXIT_ERROR
    print(
        f"wrote {done.path}: {done.refreshed} figures from the Price List API for "
        f"{len(done.regions)} regions; {done.kept} kept at the bundled value"
    )
    return EXIT_OK
