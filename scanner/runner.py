"""Wiring a scan from settings: accounts and regions, the window and plan, the source, the run.

`run_lookup` is the one place a LookupEvents scan is built and run, for `leftovers scan`
(`scan_aws`: the whole window) and for the service (`plan_scan`: from each region's checkpoint).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

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
from scanner.sources import Category, Source, SourceError
from scanner.sources.aws import AccountSession, AwsClients, account_sessions, enabled_regions
from scanner.sources.duck import DuckFilesSource
from scanner.sources.lookup import LookupSource, classify
from scanner.store import RegionState
from scanner.throttle import Timer

log = get_logger("runner")


#: Container allocations between two young-generation collections (CPython's default is 700).
#: A scan allocates a record's JSON tree per watched event and a page's worth at a time, so the
#: default threshold runs the collector far more often than it finds anything (README,
#: "Performance", has the measured figures).
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
    """The catalog's event names, regional and global: a global type's event stays global when a
    regional type shares its name (CloudFront's and Lightsail's CreateDistribution)."""
    regional = catalog.event_names_in(region_is_global_home=False)
    global_ = frozenset(
        rule.event_name
        for resource_type in catalog.types.values()
        if resource_type.is_global
        for rule in resource_type.rules
    )
    return EventSet(regional=regional, global_=global_)


def extractor(
    catalog: Catalog, targets: Iterable[tuple[str, str]] | None = None
) -> Callable[[Record], Sequence[Fact]]:
    """Record -> facts for the selected catalog; with `targets` (account, region), facts of
    regional types elsewhere are dropped (a global event's stream in us-east-1, read for an
    account that does not list it, also brings regional types' events of the same name)."""
    if targets is None:

        def run(record: Record) -> Sequence[Fact]:
            return extract(record, catalog)

        return run
    wanted = frozenset(targets)
    types = catalog.types

    def run_targeted(record: Record) -> Sequence[Fact]:
        return [
            fact
            for fact in extract(record, catalog)
            if (fact.key.account_id, fact.key.region) in wanted
            or types[fact.key.resource_type].is_global
        ]

    return run_targeted


def scan_options(settings: Settings, catalog: Catalog, *, limited: bool = True) -> ScanOptions:
    """Rate, chains, retries and the deadline from the settings; the `auto` switch from the
    catalog."""
    events = event_set(catalog)

    def switch(stream: StreamId) -> Sequence[StreamId]:
        return event_streams_for(stream, events)

    return ScanOptions(
        rate=settings.rate if limited else None,
        burst=settings.burst,
        concurrency=settings.concurrency,
        retry=settings.retry,
        switch_to=switch if settings.stream_strategy == "auto" else None,
        deadline=settings.deadline_seconds,
    )


class DiscoveryError(LeftoversError):
    """The accounts to scan cannot be listed; `category` says what failed (a metric label)."""

    def __init__(self, message: str, category: Category) -> None:
        super().__init__(message)
        self.category: Category = category


@dataclass(frozen=True, slots=True)
class Targets:
    """What one scan reads: account sessions, (account, region) pairs, discovery failures; and
    the clients the sessions' clients are kept in."""

    sessions: Mapping[str, AccountSession]
    regions: tuple[tuple[str, str], ...]
    failures: tuple[StreamFailure, ...] = ()
    clients: AwsClients | None = field(default=None, compare=False)


async def discover(settings: Settings, clients: AwsClients) -> Targets:
    """Resolve accounts (`clients`' sessions, assumed roles, the Organization) and their regions;
    a region list that cannot be read is that account's failure, as data."""
    try:
        sessions = await account_sessions(settings, clients=clients)
    except Exception as error:  # no credentials, no organization access, unreachable endpoint
        found = error if isinstance(error, SourceError) else classify(error)
        message = f"cannot list the accounts to scan: {found.reason}"
        raise DiscoveryError(message, found.category) from None
    targets: list[tuple[str, str]] = []
    failures: list[StreamFailure] = []
    for account in sessions:
        if settings.regions is not None:
            targets.extend((account.account_id, region) for region in settings.regions)
            continue
        try:
            regions = await enabled_regions(clients, account.session, settings.endpoint_url)
        except Exception as error:  # any failure to list regions is that account's failure
            found = error if isinstance(error, SourceError) else classify(error)
            failures.append(
                StreamFailure(
                    account.account_id, "*", "ec2:DescribeRegions", found.reason, found.category
                )
            )
            continue
        targets.extend((account.account_id, region) for region in regions)
    return Targets({a.account_id: a for a in sessions}, tuple(targets), tuple(failures), clients)


def window_start(
    state: RegionState | None, now: datetime, lookback: timedelta, overlap: timedelta
) -> datetime:
    """Where new work for a region starts: where its reading is covered to, minus the overlap,
    within the lookback. An unfinished scan's pending work covers up to its `target_end`."""
    oldest = now - lookback
    covered = None if state is None else (state.target_end or state.checkpoint)
    if covered is None:
        return oldest
    return min(now, max(oldest, covered - overlap))


def plan_scan(
    targets: Sequence[tuple[str, str]],
    known: Mapping[tuple[str, str], RegionState],
    now: datetime,
    settings: Settings,
    events: EventSet,
) -> dict[tuple[str, str], list[Work]]:
    """New work per (account, region): the window from where each is covered (minus the
    overlap) to `now`. Regions sharing a window start are planned together (global types need
    that)."""
    lookback = timedelta(days=settings.lookback_days)
    overlap = timedelta(minutes=settings.service.overlap_minutes)
    by_start: dict[datetime, list[tuple[str, str]]] = {}
    for where in targets:
        start = window_start(known.get(where), now, lookback, overlap)
        by_start.setdefault(start, []).append(where)
    work: dict[tuple[str, str], list[Work]] = {where: [] for where in targets}
    strategy = settings.stream_strategy
    for start, group in sorted(by_start.items()):
        for item in build_plan(group, Slice(start, now), events, strategy):
            work.setdefault((item.stream.account_id, item.stream.region), []).append(item)
    return work


class LookupLike(Source, Protocol):
    """What `run_lookup` needs of its source: LookupSource, or a test's wrapper of one."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def warm(self, keys: Iterable[tuple[str, str]]) -> None: ...


SourceFactory = Callable[[Targets], LookupLike]


def lookup_source(settings: Settings, catalog: Catalog, targets: Targets) -> LookupSource:
    """LookupEvents for the targets' accounts (their clients kept where the targets' are), a
    connection pool as large as the chains."""
    return LookupSource(
        {account: s.session for account, s in targets.sessions.items()},
        catalog.watches,
        settings.endpoint_url,
        pool=settings.concurrency + 2,
        clients=targets.clients,
    )


async def run_lookup(
    settings: Settings,
    catalog: Catalog,
    targets: Targets,
    work: Sequence[Work],
    sink: Sink,
    *,
    progress: ScanProgress | None = None,
    timer: Timer | None = None,
    source_factory: SourceFactory | None = None,
) -> ScanResult:
    """Read `work` with LookupEvents into `sink`: open the source for the targets, warm its
    sessions and clients, run the scan; the targets' discovery failures come first."""
    source = (source_factory or (lambda t: lookup_source(settings, catalog, t)))(targets)
    async with source:
        await source.warm((w.stream.account_id, w.stream.region) for w in work)
        result = await run_scan(
            source,
            work,
            sink,
            extractor(catalog, targets.regions),
            scan_options(settings, catalog),
            timer=timer,
            progress=progress,
        )
    return ScanResult(result.stats, (*targets.failures, *result.failures))


async def scan_aws(
    settings: Settings,
    catalog: Catalog,
    sink: Sink,
    window: Slice,
    *,
    work: Sequence[Work] | None = None,
    progress: ScanProgress | None = None,
    timer: Timer | None = None,
    base: aioboto3.Session | None = None,
) -> ScanResult:
    """Scan the accounts and regions of the settings over `window` (or resume `work`), with
    sessions and clients for this scan only."""
    async with AwsClients(base) as clients:
        targets = await discover(settings, clients)
        if work is None:
            events = event_set(catalog)
            work = build_plan(targets.regions, window, events, settings.stream_strategy)
        return await run_lookup(
            settings, catalog, targets, work, sink, progress=progress, timer=timer
        )


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
        max_file_bytes=settings.max_file_mb * 2**20,
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
    return ScanResult(replace(result.stats, api_calls=0), result.failures)
