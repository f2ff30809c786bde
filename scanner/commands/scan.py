"""`leftovers scan`: scan once (AWS, the emulator, or trail-log files) and print the leftovers."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import orjson
from rich.console import Console
from rich.live import Live

from scanner import logs
from scanner.catalog import load_catalog
from scanner.errors import InputError, SettingsError
from scanner.pages import MemorySink, ScanProgress, ScanResult
from scanner.plan import Slice, window_for
from scanner.report import Report, ReportFilter, build_report
from scanner.runner import freeze_start_up, scan_aws, scan_files
from scanner.settings import Settings, accounts_from_flags, load_settings
from scanner.verify import Subject, check
from scanner.view import progress_view, render_report

EXIT_OK = 0
EXIT_LEFTOVERS = 1
EXIT_ERROR = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The scan's options; each overrides the config file and the environment."""
    parser.epilog = (
        "Exit status: 0 nothing left over, 1 leftovers found, 2 errors (bad input, or an "
        "account or region that could not be read: the others are still reported)."
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="YAML settings file")
    parser.add_argument("--endpoint-url", metavar="URL", help="send AWS calls here (emulator)")
    parser.add_argument(
        "--region", action="append", default=[], metavar="R", help="region to read (repeatable)"
    )
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="ID[=ROLE_ARN]",
        help="account to read, through a role to assume (repeatable)",
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        help="report only resources this user created (user name, ARN or role session name); "
        "every event is still read, so a deletion by anyone else counts",
    )
    parser.add_argument(
        "--types", nargs="+", action="extend", metavar="TYPE", help="resource types (default all)"
    )
    parser.add_argument(
        "--lookback-days",
        type=int,
        metavar="N",
        help="days of history, 1..90 (default 90; --source files: all the files hold)",
    )
    parser.add_argument("--rate", type=float, metavar="R", help="requests/s per account-region")
    parser.add_argument(
        "--stream-strategy", choices=("auto", "read_only", "event_names"), help="streams per region"
    )
    parser.add_argument("--concurrency", type=int, metavar="N", help="chains per account-region")
    parser.add_argument(
        "--deadline",
        type=float,
        metavar="SECONDS",
        help="stop reading an account-region after this long; it is reported as an error "
        "and the others as read (default: no deadline)",
    )
    parser.add_argument(
        "--source",
        nargs="+",
        metavar=("aws|files", "PATH"),
        help="'aws' (default) or 'files PATH...': trail-log files and folders, offline",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        default=None,
        help="check each leftover live with one read-only call of its type (the setting "
        "`verify`): gone ones move to verified_gone, unchecked ones are flagged unknown",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        help="output format (default: table on a terminal, json otherwise)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log progress to stderr, at the settings' log_level (default info)",
    )


def _flags(args: argparse.Namespace) -> dict[str, object]:
    flags: dict[str, object] = {
        "endpoint_url": args.endpoint_url,
        "user_name": args.user,
        "lookback_days": args.lookback_days,
        "rate": args.rate,
        "stream_strategy": args.stream_strategy,
        "concurrency": args.concurrency,
        "deadline_seconds": args.deadline,
        "verify": args.verify,
    }
    if args.region:
        flags["regions"] = [r for value in args.region for r in value.split(",") if r]
    if args.account:
        flags["accounts"] = accounts_from_flags(
            [a for value in args.account for a in value.split(",") if a]
        )
    if args.types:
        flags["resource_types"] = [t for value in args.types for t in value.split(",") if t]
    return flags


def _source(args: argparse.Namespace) -> tuple[str, list[Path]]:
    values: list[str] = args.source or ["aws"]
    kind, rest = values[0], values[1:]
    if kind == "aws":
        if rest:
            raise SettingsError("--source aws: takes no paths (did you mean --source files ...?)")
        return kind, []
    if kind == "files":
        if not rest:
            raise SettingsError("--source files: give one or more trail-log files or folders")
        paths = [Path(p) for p in rest]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise InputError(f"--source files: no such file or folder: {', '.join(missing)}")
        return kind, paths
    raise SettingsError(f"--source: {kind!r} is not allowed: use 'aws' or 'files PATH...'")


#: Trail logs reach back as far as the trail: without --lookback-days, read them all.
CLOUDTRAIL_LAUNCH = datetime(2013, 11, 13, tzinfo=UTC)


async def _scan(
    settings: Settings, kind: str, paths: list[Path], live: bool, whole_files: bool
) -> tuple[Report, ScanResult]:
    catalog = load_catalog().select(settings.resource_types)
    freeze_start_up()
    now = datetime.now(UTC)
    window = window_for(now, settings.lookback_days)
    if kind == "files" and whole_files:
        window = Slice(CLOUDTRAIL_LAUNCH, window.end)
    sink = MemorySink()
    progress = ScanProgress()

    async def work() -> ScanResult:
        if kind == "files":
            return await scan_files(paths, settings, catalog, sink, window, progress=progress)
        return await scan_aws(settings, catalog, sink, window, progress=progress)

    if live:
        console = Console(stderr=True)
        with Live(progress_view(progress), console=console, transient=True) as display:
            async with anyio.create_task_group() as group:

                async def refresh() -> None:
                    while True:
                        display.update(progress_view(progress))
                        await anyio.sleep(0.25)

                group.start_soon(refresh)
                result = await work()
                group.cancel_scope.cancel()
    else:
        result = await work()
    only = ReportFilter.of(created_by=[settings.user_name] if settings.user_name else [])
    report = build_report(
        sink.lifecycles,
        catalog,
        window,
        failures=result.failures,
        stats=result.stats,
        generated_at=now,
        only=only,
    )
    if settings.verify:
        subjects = [Subject(item.key, item.arn, item.name) for item in report.leftovers]
        report = report.verified(await check(subjects, catalog, settings, now))
    return report, result


def run(args: argparse.Namespace) -> int:
    """Scan once; exit 0 when nothing is left over, 1 when something is, 2 on errors."""
    flags = _flags(args)
    settings = load_settings(args.config, os.environ, flags)
    kind, paths = _source(args)
    logs.configure(settings.log_level if args.verbose else "warning")
    output = args.format or ("table" if sys.stdout.isatty() else "json")
    live = sys.stderr.isatty() and not args.verbose
    whole_files = not settings.is_set("lookback_days")
    report, result = anyio.run(_scan, settings, kind, paths, live, whole_files)
    if output == "json":
        document: dict[str, Any] = report.to_json()
        sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.flush()
    else:
        console = Console()
        render_report(report, console if console.is_terminal else Console(width=160))
    if result.failures:
        return EXIT_ERROR
    return EXIT_LEFTOVERS if report.leftovers else EXIT_OK
