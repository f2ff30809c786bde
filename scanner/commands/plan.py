"""`leftovers plan`: write the reviewed cleanup plan (a shell script) for a scan's leftovers."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import orjson

from scanner import logs
from scanner.catalog import load_catalog
from scanner.cleanup_plan import plan_script
from scanner.commands import scan
from scanner.errors import InputError
from scanner.settings import load_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The scan's options, plus where the leftovers come from and where the script goes."""
    scan.add_arguments(parser)
    parser.epilog = (
        "Writes a script and never runs it. Exit status: 0 written, 2 errors (bad input, or an "
        "account or region that could not be read: the plan then covers only the others)."
    )
    parser.add_argument(
        "--from",
        dest="from_file",
        type=Path,
        metavar="RESULT",
        help="plan from a saved `leftovers scan --format json` result instead of scanning",
    )
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write the script here (default: stdout)"
    )


def _saved(path: Path) -> tuple[list[dict[str, Any]], datetime]:
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None
    except orjson.JSONDecodeError as error:
        raise InputError(f"{path}: not JSON ({error})") from None
    items = document.get("leftovers") if isinstance(document, dict) else None
    if not isinstance(items, list) or not all(_is_item(item) for item in items):
        raise InputError(f"{path}: not a `leftovers scan --format json` result (no leftovers list)")
    try:
        when = datetime.fromisoformat(str(document.get("generated_at")))
    except ValueError:
        when = datetime.now(UTC)
    return items, when


def _is_item(item: object) -> bool:
    return (
        isinstance(item, dict)
        and all(isinstance(item.get(key), str) for key in ("account_id", "region", "resource_type"))
        and isinstance(item.get("resource_id"), str)
    )


def run(args: argparse.Namespace) -> int:
    """Write the plan; exit 0, or 2 when some account or region could not be read."""
    catalog = load_catalog()
    failed = False
    if args.from_file is not None:
        items, generated_at = _saved(args.from_file)
    else:
        settings = load_settings(args.config, os.environ, scan._flags(args))
        kind, paths = scan._source(args)
        logs.configure(settings.log_level if args.verbose else "warning")
        whole_files = not settings.is_set("lookback_days")
        report, result, _ = anyio.run(scan._scan, settings, kind, paths, False, whole_files)
        items = report.to_json()["leftovers"]
        generated_at, failed = report.generated_at, bool(result.failures)
    script = plan_script(items, catalog, generated_at)
    if args.output is not None:
        args.output.write_text(script, encoding="utf-8")
    else:
        sys.stdout.write(script)
        sys.stdout.flush()
    return scan.EXIT_ERROR if failed else scan.EXIT_OK
