"""The long-running service: scans on a schedule into the store, snapshots, HTTP and metrics.

The first scan of an (account, region) reads the lookback window; later scans read from its
checkpoint minus an overlap (CloudTrail delivers late; EventIds de-duplicate what is read twice),
plus whatever an interrupted scan left pending. Scans run one after the other, never overlapping.
After each scan, lifecycles deleted longer ago than the retention expire, and a new `Snapshot` is
built from what changed in the store and swapped in whole.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from aiohttp import web

from scanner.catalog import Catalog
from scanner.lifecycle import ResourceKey
from scanner.logs import get_logger
from scanner.pages import ScanProgress, ScanResult, ScanStats, StreamFailure
from scanner.plan import EventSet, Slice, Work, build_plan
from scanner.rebuild import build_snapshot
from scanner.runner import aws_targets, event_set, extractor, scan_options
from scanner.scan import run_scan
from scanner.settings import Settings
from scanner.snapshot import Snapshot, reason_category
from scanner.sources.aws import AccountSession
from scanner.sources.lookup import LookupSource
from scanner.store import CounterValue, RegionState, Store
from scanner.web import Readiness

log = get_logger("service")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, whole seconds (LookupEvents' resolution)."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Targets:
    """What one scan reads: account sessions, (account, region) pairs, discovery failures."""

    sessions: Mapping[str, AccountSession]
    regions: tuple[tuple[str, str], ...]
    failures: tuple[StreamFailure, ...] = ()


SourceFactory = Callable[[Targets], Any]


async def discover(settings: Settings) -> Targets:
    """Resolve accounts (sessions, assumed roles, the Organization) and their regions."""
    sessions, regions, failures = await aws_targets(settings)
    return Targets({a.account_id: a for a in sessions}, tuple(regions), tuple(failures))


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


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """What one scan of the service did."""

    scan_id: int
    outcome: str
    result: ScanResult | None
    work: int
    resumed: int


class Service:
    """Scans into the store on a schedule and keeps the snapshot of the last finished scan."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        catalog: Catalog,
        *,
        clock: Clock = utc_now,
        source_factory: SourceFactory | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self._source_factory = source_factory or self._lookup_source
        self._snapshot: Snapshot | None = None
        self._events = event_set(catalog)
        self._extract = extractor(catalog)
        self._lock = anyio.Lock()
        #: The store error that ended the last scan (a write that failed: disk full, read-only
        #: file); None when its writes went through.
        self.last_store_write_error: str | None = None
        #: True when the last scan read no region at all (every one failed, or none was found).
        self.last_scan_all_regions_failed = False

    # --- the snapshot ---------------------------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        """The last finished scan's snapshot (None before the first)."""
        return self._snapshot

    def readiness(self) -> Readiness:
        """What `/readyz` says of the last scan, from this bookkeeping (no store call)."""
        return Readiness(
            store_writable=self.last_store_write_error is None,
            all_regions_failed=self.last_scan_all_regions_failed,
        )

    async def refresh(
        self, known: Sequence[tuple[str, str]] = (), expired: Sequence[ResourceKey] = ()
    ) -> Snapshot | None:
        """Build a snapshot from what changed in the store since the current one (`expired`:
        the lifecycles dropped since) and swap it in whole (if a scan ever finished)."""
        snapshot = await build_snapshot(
            self.store,
            self.catalog,
            self.settings,
            self.clock(),
            regions=known,
            previous=self._snapshot,
            expired=expired,
        )
        if snapshot is not None:
            self._snapshot = snapshot
            log.debug("snapshot_swapped", scan_id=snapshot.scan_id, leftovers=len(snapshot.entries))
        return snapshot

    # --- one scan ---------------------------------------------------------------------------------

    def _lookup_source(self, targets: Targets) -> LookupSource:
        return LookupSource(
            {account: s.session for account, s in targets.sessions.items()},
            self.catalog.watches,
            self.settings.endpoint_url,
            pool=self.settings.concurrency + 2,
        )

    async def scan_once(self) -> ScanSummary:
        """One scan (never two at once): plan, read into the store, record it, swap the
        snapshot."""
        async with self._lock:
            try:
                summary = await self._scan()
            except Exception as error:
                self.last_store_write_error = store_error(error) or self.last_store_write_error
                raise
            self.last_store_write_error = None
            self.last_scan_all_regions_failed = summary.outcome == "failed"
            return summary

    async def expire(self) -> list[ResourceKey]:
        """Drop the lifecycles deleted longer ago than the retention; their keys."""
        days = self.settings.service.deleted_retention_days
        expired = await self.store.expire(self.clock() - timedelta(days=days))
        if expired:
            log.info("lifecycles_expired", count=len(expired), retention_days=days)
        return expired

    async def _scan(self) -> ScanSummary:
        started = self.clock()
        scan_id = await self.store.begin_scan(started)
        log.info("scan_started", scan_id=scan_id)
        try:
            targets = await discover(self.settings)
        except Exception as error:  # discovery failures are reported, the service goes on
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            log.warning("discovery_failed", reason=reason)
            finished = self.clock()
            await self.store.finish_scan(
                scan_id,
                finished_at=finished,
                outcome="failed",
                stats=asdict(ScanStats(0, 0, 0, 0, (finished - started).total_seconds())),
                errors=[{"account_id": "", "region": "", "stream": "", "reason": reason}],
            )
            await self.refresh()
            return ScanSummary(scan_id, "failed", None, 0, 0)
        known = await self.store.regions()
        now = self.clock()
        fresh = plan_scan(targets.regions, known, now, self.settings, self._events)
        resumed = [w for state in known.values() for w in state.pending]
        for (account_id, region), work in fresh.items():
            await self.store.begin_region(account_id, region, now, work)
        work = sorted({*resumed, *(w for ws in fresh.values() for w in ws)})
        log.debug(
            "scan_planned",
            scan_id=scan_id,
            accounts=len(targets.sessions),
            regions=len(targets.regions),
            work=len(work),
            resumed=len(resumed),
        )
        progress = ScanProgress()
        source = self._source_factory(targets)
        async with source:
            result = await run_scan(
                source,
                work,
                self.store,
                self._extract,
                scan_options(self.settings, self.catalog),
                progress=progress,
            )
        result = ScanResult(result.stats, (*targets.failures, *result.failures))
        summary = await self._record(
            scan_id,
            started=started,
            targets=targets,
            result=result,
            progress=progress,
            work=len(work),
        )
        await self.refresh(targets.regions, await self.expire())
        return ScanSummary(scan_id, summary, result, len(work), len(resumed))

    async def _record(
        self,
        scan_id: int,
        *,
        started: datetime,
        targets: Targets,
        result: ScanResult,
        progress: ScanProgress,
        work: int,
    ) -> str:
        failed = {(f.account_id, f.region) for f in result.failures}
        scanned = set(targets.regions) | set(progress.regions)
        counters = [
            CounterValue("lookup_requests", account, region, "throttled", live.throttled)
            for (account, region), live in progress.regions.items()
            if live.throttled
        ]
        counters += [
            CounterValue("lookup_requests", f.account_id, f.region, "error", 1)
            for f in result.failures
        ]
        counters += [
            CounterValue("scan_errors", f.account_id, f.region, reason_category(f.reason), 1)
            for f in result.failures
        ]
        outcome = "ok" if not failed else ("failed" if failed >= scanned else "partial")
        stats = asdict(result.stats)
        finished = self.clock()
        await self.store.finish_scan(
            scan_id,
            finished_at=finished,
            outcome=outcome,
            stats=stats,
            errors=[_error_item(f) for f in result.failures],
            counters=counters,
            succeeded=sorted(scanned - failed),
        )
        log.info(
            "scan_completed",
            scan_id=scan_id,
            outcome=outcome,
            work=work,
            regions=len(scanned),
            failed_regions=len(failed),
            **stats,
        )
        return outcome

    # --- the loop ---------------------------------------------------------------------------------

    async def run_scans(self) -> None:
        """Scan now, then every interval (measured start to start), until cancelled."""
        interval = self.settings.service.interval_seconds
        while True:
            began = anyio.current_time()
            try:
                await self.scan_once()
            except Exception:  # a bug in one scan must not end the service
                log.exception("scan_crashed")
            elapsed = anyio.current_time() - began
            await anyio.sleep(max(1.0, interval - elapsed) if math.isfinite(elapsed) else interval)


def store_error(error: BaseException) -> str | None:
    """The store's error (SQLite's) in what ended a scan, if any, as one line."""
    if isinstance(error, BaseExceptionGroup):
        found = (store_error(inner) for inner in error.exceptions)
        return next((one for one in found if one), None)
    if isinstance(error, sqlite3.Error):
        return f"{type(error).__name__}: {error}"
    return None


def _error_item(failure: StreamFailure) -> dict[str, str]:
    reason = failure.reason.splitlines()[0] if failure.reason else ""
    return {
        "account_id": failure.account_id,
        "region": failure.region,
        "stream": failure.stream,
        "reason": reason[:300],
    }


async def serve_http(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start the HTTP server; the caller cleans the runner up."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner
