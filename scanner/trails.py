"""Wiring the trail sources from settings: a trail's S3 bucket, and the Athena backfill."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import aioboto3

from scanner.catalog import Catalog
from scanner.errors import LeftoversError
from scanner.logs import get_logger
from scanner.pages import ScanProgress, ScanResult, ScanStats, Sink, StreamFailure
from scanner.plan import Slice
from scanner.runner import extractor, scan_files, scan_options, wanted_accounts, wanted_regions
from scanner.scan import run_scan
from scanner.settings import Settings
from scanner.sources import SourceError
from scanner.sources.athena import (
    PARALLEL_QUERIES,
    AthenaBackfill,
    BackfillStats,
    ParquetSource,
    plan_batches,
)
from scanner.sources.athena_sql import TrailTable
from scanner.sources.aws import account_sessions, assumed_role_session, client_config
from scanner.sources.lookup import classify
from scanner.sources.s3 import S3Location, TrailCache, TrailSync

log = get_logger("trails")


def trail_session(settings: Settings, base: aioboto3.Session) -> aioboto3.Session:
    """The session that reads the trail's bucket and runs Athena: `trail_bucket.role_arn`
    assumed (through STS at `endpoint_url`, as for LookupEvents), else the base session."""
    role = settings.trail_bucket.role_arn
    return assumed_role_session(base, role, settings.endpoint_url) if role else base


async def scan_s3(
    url: str,
    settings: Settings,
    catalog: Catalog,
    sink: Sink,
    window: Slice,
    *,
    progress: ScanProgress | None = None,
    base: aioboto3.Session | None = None,
) -> ScanResult:
    """Bring the local cache up to date with the trail's objects in S3 for the window, then scan
    the cached files as `scan_files` does; a partition that could not be read is a failure."""
    trail = settings.trail_bucket
    location = S3Location.parse(url)
    session = trail_session(settings, base or aioboto3.Session())
    accounts, regions = wanted_accounts(settings), wanted_regions(settings)
    async with session.client(
        "s3", region_name=trail.region, endpoint_url=trail.endpoint_url,
        config=client_config(trail.concurrency + 2),
    ) as client:  # fmt: skip
        sync = TrailSync(
            client, location, TrailCache(Path(trail.cache_dir), location.bucket),
            accounts=accounts, regions=regions, concurrency=trail.concurrency,
        )  # fmt: skip
        files = await sync.run(window)
    read = sync.stats
    log.info(
        "trail_synced", url=location.url, partitions=read.partitions, listed=read.listed,
        objects=read.objects, downloaded=read.downloaded, bytes=read.downloaded_bytes,
        skipped=read.skipped, failed=len(read.failures),
    )  # fmt: skip
    if read.skipped:
        log.warning("objects_skipped", objects=read.skipped, reason="not CloudTrail log files")
    failures = tuple(
        StreamFailure("*", "*", f"{location.url}{prefix[len(location.prefix) :]}", reason)
        for prefix, reason in read.failures
    )
    if not files:
        return ScanResult(ScanStats(read.calls, 0, 0, 0, 0.0), failures)
    result = await scan_files(files, settings, catalog, sink, window, progress=progress)
    stats = replace(result.stats, api_calls=read.calls)
    return ScanResult(stats, (*failures, *result.failures))


async def scan_athena(
    settings: Settings,
    catalog: Catalog,
    sink: Sink,
    window: Slice,
    table: TrailTable,
    *,
    progress: ScanProgress | None = None,
    base: aioboto3.Session | None = None,
) -> tuple[ScanResult, BackfillStats]:
    """Backfill the window from Athena (a query per batch of accounts and days, resumed from
    the checkpoint), then scan the Parquet it unloaded; a failed batch is a failure. Also
    returns the backfill's figures (queries, bytes scanned, estimated cost)."""
    athena = settings.athena
    if athena.output_location is None:
        raise LeftoversError("athena.output_location is not set: where UNLOAD writes (s3://...)")
    base = base if base is not None else aioboto3.Session()
    accounts = wanted_accounts(settings)
    if accounts is None:
        try:
            accounts = frozenset(a.account_id for a in await account_sessions(settings, base))
        except Exception as error:  # no credentials, no organization access, no endpoint
            reason = (error if isinstance(error, SourceError) else classify(error)).reason
            raise LeftoversError(f"cannot list the accounts to backfill: {reason}") from None
    session = trail_session(settings, base)
    batches = plan_batches(accounts, window, athena.batch_accounts, athena.batch_days)
    config = client_config(PARALLEL_QUERIES * 2)
    async with (
        session.client(
            "athena", region_name=athena.region, endpoint_url=athena.endpoint_url, config=config
        ) as client,
        session.client(
            "s3", region_name=athena.region, endpoint_url=settings.trail_bucket.endpoint_url,
            config=config,
        ) as s3,
    ):  # fmt: skip
        backfill = AthenaBackfill(
            client, s3, table, catalog.events, workgroup=athena.workgroup,
            output_location=athena.output_location, poll_seconds=athena.poll_seconds,
            cache_dir=Path(settings.trail_bucket.cache_dir) / "athena",
        )  # fmt: skip
        files = await backfill.run(batches)
    done = backfill.stats
    log.info(
        "athena_backfilled", batches=len(batches), queries=done.queries, resumed=done.resumed,
        bytes_scanned=done.bytes_scanned, cost_usd=round(done.cost_usd, 4), files=done.files,
        failed=len(done.failures),
    )  # fmt: skip
    failures = tuple(StreamFailure("*", "*", f"athena:{k}", r) for k, r in done.failures)
    source = ParquetSource(files, catalog.watches)
    options = scan_options(settings, catalog, limited=False)
    result = await run_scan(
        source, source.work(window), sink, extractor(catalog), options, progress=progress
    )
    stats = replace(result.stats, api_calls=done.queries)
    return ScanResult(stats, (*failures, *result.failures)), done
