"""`leftovers athena ddl`: print the Athena table (partition projection) over the trail bucket."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from scanner.errors import SettingsError
from scanner.settings import load_settings
from scanner.sources.athena_sql import table_ddl, trail_table
from scanner.sources.s3 import S3Location


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`athena ddl` and its options; each overrides the config file and the environment."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ddl = actions.add_parser(
        "ddl",
        help="print CREATE EXTERNAL TABLE for the trail bucket",
        description="Print the Athena table over an organization (or account) trail's bucket, "
        "with partition projection: account injected, region an enum, day a date.",
    )
    ddl.add_argument("--config", type=Path, metavar="FILE", help="YAML settings file")
    ddl.add_argument("--location", metavar="s3://BUCKET/PREFIX", help="default trail_bucket.url")
    ddl.add_argument("--organization-id", metavar="o-ID", help="default athena.organization_id")
    ddl.add_argument("--database", metavar="NAME", help="default athena.database")
    ddl.add_argument("--table", metavar="NAME", help="default athena.table")
    ddl.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="R",
        help="the region enum (repeatable; default: the settings' regions, else every region "
        "CloudTrail has)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the DDL; 0, or 2 with one line on a bad setting."""
    if args.location is not None:
        try:
            S3Location.parse(args.location)
        except SettingsError as error:
            raise SettingsError(f"--location: {error}") from None
    flags: dict[str, object] = {
        "trail_bucket.url": args.location,
        "athena.organization_id": args.organization_id,
        "athena.database": args.database,
        "athena.table": args.table,
    }
    if args.region:
        flags["regions"] = [r for value in args.region for r in value.split(",") if r]
    settings = load_settings(args.config, os.environ, flags)
    sys.stdout.write(table_ddl(trail_table(settings)) + ";\n")
    return 0
