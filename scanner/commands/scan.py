"""`leftovers scan`: scan once (AWS, the emulator, or trail-log files) and print the leftovers."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import orjson
from rich.console import Console
from rich.live import Live

from scanner import logs
from scanner.catalog import load_catalog, load_preferred_prices
from scanner.coverage import Coverage, CoverageSink
from scanner.errors import InputError, SettingsError
from scanner.pages import MemorySink, ScanProgress, ScanResult
from scanner.plan import Slice, window_for
from scanner.report import Report, ReportFilter, build_report
from scanner.runner import freeze_start_up, scan_aws, scan_files
from scanner.settings import Settings, accounts_from_flags, load_settings
from scanner.sources.athena_sql import trail_table
from scanner.sources.s3 import S3Location
from scanner.trails import scan_athena, scan_s3
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
        metavar=("aws|files|s3|athena", "PATH"),
        help="'aws' (default), 'files PATH...': trail-log files and folders, offline, "
        "'s3 [s3://BUCKET/PREFIX]': a trail's bucket (default: trail_bucket.url), or 'athena': "
        "a backfill through Athena (the athena settings)",
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
        "--show-ignored",
        action="store_true",
        help="list the leftovers the settings' ignore rules set apart, with each rule's reason",
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
    if args.source and args.source[0] == "s3" and len(args.source) == 2:
        flags["trail_bucket.url"] = args.source[1]
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
    if kind == "athena":
        if rest:
            raise SettingsError("--source athena: takes no paths (see the athena settings)")
        return kind, []
    if kind == "s3":
        if len(rest) > 1:
            raise SettingsError("--source s3: takes one s3://BUCKET/PREFIX")
        if rest:
            try:
                S3Location.parse(rest[0])
            except SettingsError as error:
                raise SettingsError(f"--source s3: {error}") from None
        return kind, []
    raise SettingsError(
        f"--source: {kind!r} is not allowed: use 'aws', 'files PATH...', 's3 [URL]' or 'athena'"
    )


#: Trail logs reach back as far as the trail: without --lookback-days, read them all.
CLOUDTRAIL_LAUNCH = datetime(2013, 11, 13, tzinfo=UTC)


async def _scan(
    settings: Settings, kind: str, paths: list[Path], live: bool, whole_files: bool
) -> tuple[Report, ScanResult, int | None]:
    """Scan; the report, the result, and how many files were read (None: LookupEvents)."""
    catalog = load_catalog(prices=load_preferred_prices(settings.price_file)).select(
        settings.resource_types
    )
    freeze_start_up()
    now = datetime.now(UTC)
    window = window_for(now, settings.lookback_days)
    if kind == "files" and whole_files:
        window = Slice(CLOUDTRAIL_LAUNCH, window.end)
    sink = MemorySink()
    progress = ScanProgress()
    coverage = Coverage(clock=lambda: datetime.now(UTC)) if kind == "aws" else None
    figures: dict[str, Any] = {}  # a source's own figures, beside the stats

    async def work() -> ScanResult:
        if kind == "files":
            return await scan_files(paths, settings, catalog, sink, window, progress=progress)
        observed = CoverageSink(sink, coverage) if coverage else sink
        if kind == "s3" and settings.trail_bucket.url is not None:
            url = settings.trail_bucket.url
            return await scan_s3(url, settings, catalog, sink, window, progress=progress)
        if kind == "athena":
            table = trail_table(settings)
            result, backfill = await scan_athena(
                settings, catalog, sink, window, table, progress=progress
            )
            figures["athena"] = backfill.to_json()
            return result
        return await scan_aws(settings, catalog, observed, window, progress=progress)

    result = await (_with_progress(progress, coverage, work) if live else work())
    only = ReportFilter.of(created_by=[settings.user_name] if settings.user_name else [])
    report = build_report(
        sink.lifecycles,
        catalog,
        window,
        failures=result.failures,
        stats=result.stats,
        generated_at=now,
        only=only,
        ignore=settings.ignore,
    )
    if figures:
        report = replace(report, extra={**report.extra, **figures})
    if settings.verify:
        subjects = [Subject(item.key, item.arn, item.name) for item in report.leftovers]
        report = report.verified(await check(subjects, catalog, settings, now))
    files = sum(p.pages + p.failed for p in progress.regions.values()) if kind == "files" else None
    return report, result, files


async def _with_progress(
    progress: ScanProgress, coverage: Coverage | None, work: Callable[[], Awaitable[ScanResult]]
) -> ScanResult:
    """Run `work` under a live progress table on stderr; its errors propagate as they are."""
    failure: Exception | None = None
    view = progress_view(progress, coverage)
    with Live(view, console=Console(stderr=True), transient=True) as display:
        async with anyio.create_task_group() as group:

            async def refresh() -> None:
                while True:
                    display.update(progress_view(progress, coverage))
                    await anyio.sleep(0.25)

            group.start_soon(refresh)
            try:
                result = await work()
            except Exception as error:
                # Raised inside the task group it would leave wrapped in an ExceptionGroup,
                # which the command line cannot tell from a crash.
                failure = error
            group.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result


def run(args: argparse.Namespace) -> int:
    """Scan once; exit 0 when nothing is left over, 1 when something is, 2 on errors."""
    kind, paths = _source(args)
    flags = _flags(args)
    settings = load_settings(args.config, os.environ, flags)
    if kind == "s3" and settings.trail_bucket.url is None:
        raise SettingsError("--source s3: give s3://BUCKET/PREFIX or set trail_bucket.url")
    if kind == "athena":
        trail_table(settings)  # the trail bucket must be set: a missing one is a SettingsError
        if settings.athena.output_location is None:
            raise SettingsError("--source athena: set athena.output_location (s3://...)")
    logs.configure(settings.log_level if args.verbose else "warning")
    output = args.format or ("table" if sys.stdout.isatty() else "json")
    live = sys.stderr.isatty() and not args.verbose
    whole_files = not settings.is_set("lookback_days")
    report, result, files = anyio.run(_scan, settings, kind, paths, live, whole_files)
    if output == "json":
        document: dict[str, Any] = report.to_json()
        sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.flush()
    else:
        console = Console()
        render_report(
            report,
            console if console.is_terminal else Console(width=160),
            files,
            show_ignored=args.show_ignored,
        )
    if result.failures:
        return EXIT_ERROR
    return EXIT_LEFTOVERS if report.leftovers else EXIT_OK
