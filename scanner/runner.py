"""Wiring a scan from settings: catalog events, accounts and regions, the plan, the source."""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import aioboto3

from scanner.catalog import Catalog
from scanner.errors import InputError, LeftoversError
from scanner.lifecycle import Fact
from scanner.logs import get_logger
from scanner.pages import ScanProgress, ScanResult, Sink, StreamFailure
from scanner.pairing import extract
from scanner.plan import EventSet, Slice, StreamId, Work, build_plan, event_streams_for
from scanner.records import Record
from scanner.scan import ScanOptions, run_scan
from scanner.settings import Settings
from scanner.sources import SourceError
from scanner.sources.aws import AccountSession, account_sessions, enabled_regions
from scanner.sources.duck import DuckFilesSource
from scanner.sources.lookup import LookupSource, classify
from scanner.throttle import Clock

log = get_logger("runner")


#: Container allocations between two young-generation collections (CPython's default is 700).
#: A scan allocates a record's JSON tree per watched event and a page's worth at a time: at 700,
#: the collector ran ~2,300 times over 1M events (1.25 s of CPU); at 10,000, ~220 times (0.1 s).
YOUNG_COLLECTION_THRESHOLD = 10_000


def freeze_start_up() -> None:
    """Move what start-up built (modules, the catalog, SDK models) out of the collector's sight:
    a long scan then collects only its own objects, not the whole heap again and again; and
    collect the young generation less often (`YOUNG_COLLECTION_THRESHOLD`)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


def event_set(catalog: Catalog) -> EventSet:
    """The catalog's event names, regional and global."""
    regional = catalog.event_names_in(region_is_global_home=False)
    everything = catalog.event_names_in(region_is_global_home=True)
    return EventSet(regional=regional, global_=everything - regional)


def extractor(catalog: Catalog) -> Callable[[Record], Sequence[Fact]]:
    """Record -> facts for the selected catalog."""

    def run(record: Record) -> Sequence[Fact]:
        return extract(record, catalog)

    return run


def scan_options(settings: Settings, catalog: Catalog, *, limited: bool = True) -> ScanOptions:
    """Rate, chains and retries from the settings; the `auto` switch from the catalog."""
    events = event_set(catalog)

    def switch(stream: StreamId) -> Sequence[StreamId]:
        return event_streams_for(stream, events)

    return ScanOptions(
        rate=settings.rate if limited else None,
        burst=settings.burst,
        concurrency=settings.concurrency,
        retry=settings.retry,
        switch_to=switch if settings.stream_strategy == "auto" else None,
    )


async def aws_targets(
    settings: Settings, base: aioboto3.Session | None = None
) -> tuple[list[AccountSession], list[tuple[str, str]], list[StreamFailure]]:
    """Accounts (with sessions) and their (account, region) pairs; discovery failures as data."""
    try:
        sessions = await account_sessions(settings, base)
    except Exception as error:  # no credentials, no organization access, unreachable endpoint
        reason = (error if isinstance(error, SourceError) else classify(error)).reason
        raise LeftoversError(f"cannot list the accounts to scan: {reason}") from None
    targets: list[tuple[str, str]] = []
    failures: list[StreamFailure] = []
    for account in sessions:
        if settings.regions is not None:
            targets.extend((account.account_id, region) for region in settings.regions)
            continue
        try:
            regions = await enabled_regions(account.session, settings.endpoint_url)
        except Exception as error:  # any failure to list regions is that account's failure
            reason = (error if isinstance(error, SourceError) else classify(error)).reason
            failures.append(StreamFailure(account.account_id, "*", "ec2:DescribeRegions", reason))
            continue
        targets.extend((account.account_id, region) for region in regions)
    return sessions, targets, failures


async def scan_aws(
    settings: Settings,
    catalog: Catalog,
    sink: Sink,
    window: Slice,
    *,
    work: Sequence[Work] | None = None,
    progress: ScanProgress | None = None,
    clock: Clock | None = None,
    base: aioboto3.Session | None = None,
) -> ScanResult:
    """Scan the accounts and regions of the settings with LookupEvents (or resume `work`)."""
    sessions, targets, failures = await aws_targets(settings, base)
    if work is None:
        work = build_plan(targets, window, event_set(catalog), settings.stream_strategy)
    by_account = {account.account_id: account.session for account in sessions}
    options = scan_options(settings, catalog)
    async with LookupSource(
        by_account, catalog.watches, settings.endpoint_url, pool=settings.concurrency + 2
    ) as source:
        await source.warm((w.stream.account_id, w.stream.region) for w in work)
        result = await run_scan(
            source, work, sink, extractor(catalog), options, clock=clock, progress=progress
        )
    return ScanResult(result.stats, (*failures, *result.failures))


def wanted_regions(settings: Settings) -> frozenset[str] | None:
    """The regions the settings name (None: all)."""
    return frozenset(settings.regions) if settings.regions is not None else None


def wanted_accounts(settings: Settings) -> frozenset[str] | None:
    """The account ids the settings list explicitly (None: all, as for an organization)."""
    ids = [target.account_id for target in settings.accounts.targets]
    explicit = settings.accounts.organization_role is None and all(ids)
    return frozenset(str(i) for i in ids) if explicit else None


async def scan_files(
    paths: Sequence[Path],
    settings: Settings,
    catalog: Catalog,
    sink: Sink,
    window: Slice,
    *,
    progress: ScanProgress | None = None,
) -> ScanResult:
    """Scan trail-log files offline (no network, so no API calls); the settings' regions and
    explicit account ids filter the records. Files holding JSON but no CloudTrail record at all
    are an InputError."""
    source = DuckFilesSource(
        paths,
        catalog.watches,
        catalog.events,
        accounts=wanted_accounts(settings),
        regions=wanted_regions(settings),
    )
    options = scan_options(settings, catalog, limited=False)
    result = await run_scan(
        source, source.work(window), sink, extractor(catalog), options, progress=progress
    )
    read = source.read
    if read.records == 0 and read.skipped and not result.failures:
        raise InputError(
            f"no CloudTrail records in {len(source.files)} file(s), only {read.skipped} "
            "JSON object(s) of another kind"
        )
    if read.skipped:
        log.warning("objects_skipped", objects=read.skipped, reason="not CloudTrail records")
    return ScanResult(replace(result.stats, api_calls=0), result.failures)
