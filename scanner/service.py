"""The long-running service: scans on a schedule into the store, snapshots, HTTP and metrics.

The first scan of an (account, region) reads the lookback window; later scans read from its
checkpoint minus an overlap (CloudTrail delivers late; EventIds de-duplicate what is read twice),
plus whatever an interrupted scan left pending. Scans run one after the other, never overlapping.
After each scan, lifecycles deleted longer ago than the retention expire, and a new `Snapshot` is
built from what changed in the store and swapped in whole; and during a scan, as soon as every
region is read but some stalled ones (a hung region: no page for a call timeout), so that the
others are published without waiting for it.

A scan that crashes (a full disk, a bug) ends that scan, not the service: it is counted in
`leftovers_scan_errors_total` (reason `store` or `other`, for each region it was reading), and
`Service.health` says what the last store write did and whether the last scan failed everywhere:
`/readyz` answers from it (`Service.readiness`), never from the store.
"""

from __future__ import annotations

import gc
import math
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial

import anyio

from scanner.bookkeeping import (
    Health,
    Readiness,
    WallClock,
    counters,
    error_item,
    scan_totals,
    store_error,
)
from scanner.catalog import Catalog
from scanner.errors import one_line
from scanner.lifecycle import ResourceKey
from scanner.logs import get_logger
from scanner.pages import ScanProgress, ScanResult, ScanStats
from scanner.rebuild import build_snapshot
from scanner.runner import (
    DiscoveryError,
    SourceFactory,
    Targets,
    discover,
    event_set,
    plan_scan,
    run_lookup,
)
from scanner.settings import Settings
from scanner.snapshot import Snapshot
from scanner.sources.aws import AccountSession, AwsClients
from scanner.store import CounterValue, RegionState, Store
from scanner.verify import Subject
from scanner.verify.memory import VerdictMemory

log = get_logger("service")


def utc_now() -> datetime:
    """The current time, whole seconds (LookupEvents' resolution)."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """What one scan of the service did."""

    scan_id: int
    outcome: str
    result: ScanResult | None
    work: int
    resumed: int


@dataclass(slots=True)
class _Run:
    """How far a scan got, for the account of its crash."""

    started: datetime
    scan_id: int | None = None
    regions: tuple[tuple[str, str], ...] = ()


class Service:
    """Scans into the store on a schedule and keeps the snapshot of the last finished scan."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        catalog: Catalog,
        *,
        clock: WallClock = utc_now,
        source_factory: SourceFactory | None = None,
        clients: AwsClients | None = None,
    ) -> None:
        if settings.deadline_seconds is None:  # a scan never runs into the next one
            settings = replace(settings, deadline_seconds=settings.service.interval_seconds)
        self.settings = settings
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self._source_factory = source_factory
        self._clients = clients  # kept from scan to scan; None: each scan opens its own
        self._snapshot: Snapshot | None = None
        self._events = event_set(catalog)
        self._lock = anyio.Lock()
        self.health = Health()
        self._unsaved: list[CounterValue] = []  # counted by crashed scans, not yet stored
        self.verdicts = VerdictMemory(settings)

    # --- the snapshot ---------------------------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        """The last finished scan's snapshot (None before the first)."""
        return self._snapshot

    def readiness(self) -> Readiness:
        """What `/readyz` says of the last scan, from this bookkeeping (no store call)."""
        return Readiness(
            store_writable=self.health.store_write_ok is not False,
            all_regions_failed=self.health.last_scan_all_failed,
        )

    async def refresh(
        self,
        known: Sequence[tuple[str, str]] = (),
        expired: Sequence[ResourceKey] = (),
        sessions: Mapping[str, AccountSession] | None = None,
    ) -> Snapshot | None:
        """Build a snapshot from what changed in the store since the current one (`expired`:
        the lifecycles dropped since) and swap it in whole (if a scan ever finished); with
        `verify` set and the scan's `sessions`, check the leftovers whose verdict is due first."""
        verdicts = self.verdicts.verdicts if self.settings.verify else None
        build = partial(build_snapshot, self.store, self.catalog, self.settings)
        build = partial(build, regions=known, verdicts=verdicts)
        snapshot = await build(self.clock(), previous=self._snapshot, expired=expired)
        if snapshot is not None and verdicts is not None and sessions is not None:
            subjects = [Subject(e.key, e.leftover.arn, e.leftover.name) for e in snapshot.entries]
            if await self.verdicts.check_due(subjects, self.catalog, sessions, self.clock()):
                snapshot = await build(self.clock(), previous=snapshot)
        if snapshot is not None and verdicts is not None:
            counts = self.verdicts.counts
            snapshot = replace(snapshot, metrics=replace(snapshot.metrics, verifications=counts))
        if snapshot is not None and self._unsaved:
            errors = dict(snapshot.metrics.scan_errors)
            for counter in self._unsaved:
                where = (counter.account_id, counter.region, counter.label)
                errors[where] = errors.get(where, 0.0) + counter.value
            snapshot = replace(snapshot, metrics=replace(snapshot.metrics, scan_errors=errors))
        if snapshot is not None:
            self._snapshot = snapshot
            # The snapshot lives until the next scan: freeze it (and what start-up built) out
            # of the collector's sight, or the next full collection walks its millions of
            # objects on a request (a second at 100k leftovers). It holds no cycles: refcounts
            # free it when the next one replaces it.
            gc.collect(1)
            gc.freeze()
            await self.store.record_totals(snapshot.scan_id, scan_totals(snapshot))
            log.debug("snapshot_swapped", scan_id=snapshot.scan_id, leftovers=len(snapshot.entries))
        return snapshot

    # --- one scan ---------------------------------------------------------------------------------

    async def scan_once(self) -> ScanSummary:
        """One scan (never two at once): plan, read into the store, record it, swap the
        snapshot."""
        async with self._lock:
            run = _Run(self.clock())
            try:
                return await self._scan(run)
            except Exception as error:  # a full disk or a bug ends this scan, not the service
                return await self._crashed(run, error)

    async def expire(self) -> list[ResourceKey]:
        """Drop the lifecycles deleted longer ago than the retention; their keys."""
        days = self.settings.service.deleted_retention_days
        expired = await self.store.expire(self.clock() - timedelta(days=days))
        if expired:
            log.info("lifecycles_expired", count=len(expired), retention_days=days)
        return expired

    async def _scan(self, run: _Run) -> ScanSummary:
        if self._clients is not None:
            return await self._scan_with(run, self._clients)
        async with AwsClients() as clients:
            return await self._scan_with(run, clients)

    async def _scan_with(self, run: _Run, clients: AwsClients) -> ScanSummary:
        started = run.started
        scan_id = run.scan_id = await self.store.begin_scan(started)
        log.info("scan_started", scan_id=scan_id)
        known = await self.store.regions()
        try:
            targets = await discover(self.settings, clients)
        except Exception as error:  # discovery failures are reported, the service goes on
            reason = one_line(error)
            log.warning("discovery_failed", reason=reason)
            # No region is read: each one read before has a gap up to now, as a failed one has,
            # and counts the failure.
            await self._begin(tuple(known), known)
            category = error.category if isinstance(error, DiscoveryError) else "other"
            finished = self.clock()
            await self.store.finish_scan(
                scan_id,
                finished_at=finished,
                outcome="failed",
                stats=asdict(ScanStats(0, 0, 0, 0, (finished - started).total_seconds())),
                errors=[{"account_id": "", "region": "", "stream": "", "reason": reason}],
                counters=[CounterValue("scan_errors", *where, category, 1) for where in known],
            )
            self.health.wrote()
            self.health.last_scan_all_failed = True
            await self.refresh(tuple(known))
            return ScanSummary(scan_id, "failed", None, 0, 0)
        run.regions = targets.regions
        resumed = [w for state in known.values() for w in state.pending]
        await self._begin(targets.regions, known)
        # What is pending now: the new windows joined to the slices they overlap.
        work = sorted(w for state in (await self.store.regions()).values() for w in state.pending)
        log.debug(
            "scan_planned",
            scan_id=scan_id,
            accounts=len(targets.sessions),
            regions=len(targets.regions),
            work=len(work),
            resumed=len(resumed),
        )
        progress = ScanProgress()
        async with anyio.create_task_group() as group:
            group.start_soon(self._publish_early, progress, targets.regions)
            result = await run_lookup(
                self.settings,
                self.catalog,
                targets,
                work,
                self.store,
                progress=progress,
                source_factory=self._source_factory,
            )
            group.cancel_scope.cancel()
        summary = await self._record(
            scan_id,
            started=started,
            targets=targets,
            result=result,
            progress=progress,
            work=len(work),
        )
        return ScanSummary(scan_id, summary, result, len(work), len(resumed))

    async def _begin(
        self, regions: Sequence[tuple[str, str]], known: Mapping[tuple[str, str], RegionState]
    ) -> None:
        """Add each region's new window, from where it is read up to now, to its pending work."""
        now = self.clock()
        fresh = plan_scan(regions, known, now, self.settings, self._events)
        for (account_id, region), work in fresh.items():
            await self.store.begin_region(account_id, region, now, work)

    async def _publish_early(
        self, progress: ScanProgress, regions: Sequence[tuple[str, str]]
    ) -> None:
        """Once every region of the scan is done or stalled (no page for a call timeout) and one
        at least is done, swap in a snapshot of what the store holds: the regions read are not
        held back by a hung one until its calls and deadline run out. Once per scan."""
        stall = self.settings.retry.call_timeout_seconds
        last_page: dict[tuple[str, str], tuple[int, float]] = {}
        while True:
            await anyio.sleep(min(1.0, stall / 2))
            now = anyio.current_time()
            stalled = []
            for where, live in progress.regions.items():
                seen = last_page.get(where)
                if seen is None or seen[0] != live.pages:
                    last_page[where] = (live.pages, now)
                elif not live.done and now - seen[1] >= stall:
                    stalled.append(where)
            done = [where for where, live in progress.regions.items() if live.done]
            if stalled and done and len(stalled) + len(done) == len(progress.regions):
                log.info("snapshot_early", stalled=[f"{a}/{r}" for a, r in sorted(stalled)])
                await self.refresh(regions)
                return

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
        counted = [*counters(progress), *self._unsaved]
        counted += [  # accounts whose regions could not be listed
            CounterValue("scan_errors", f.account_id, f.region, f.category, f.count)
            for f in targets.failures
        ]
        outcome = "ok" if not failed else ("failed" if failed >= scanned else "partial")
        stats = asdict(result.stats)
        finished = self.clock()
        await self.store.finish_scan(
            scan_id,
            finished_at=finished,
            outcome=outcome,
            stats=stats,
            errors=[error_item(f) for f in result.failures],
            counters=counted,
            succeeded=sorted(scanned - failed),
        )
        self._unsaved = []
        self.health.wrote()
        self.health.last_scan_all_failed = outcome == "failed"
        snapshot = await self.refresh(targets.regions, await self.expire(), targets.sessions)
        log.info(
            "scan_completed",
            scan_id=scan_id,
            leftovers=len(snapshot.entries) if snapshot else 0,
            outcome=outcome,
            work=work,
            regions=len(scanned),
            failed_regions=len(failed),
            **stats,
        )
        return outcome

    async def _crashed(self, run: _Run, error: Exception) -> ScanSummary:
        """Count a crashed scan against each region it was reading, note a failed store write,
        record the scan as crashed if the store lets us, and swap in what the store holds."""
        stored = store_error(error)
        reason = "store" if stored is not None else "other"
        if stored is not None:
            self.health.wrote(stored)
            log.error("scan_crashed", scan_id=run.scan_id, reason=reason, error=one_line(stored))
        else:
            log.exception("scan_crashed", scan_id=run.scan_id, reason=reason)
        self.health.crashes[reason] += 1
        self.health.last_scan_all_failed = True
        regions = run.regions or tuple(await self.store.regions())
        self._unsaved += [CounterValue("scan_errors", *where, reason, 1) for where in regions]
        if run.scan_id is not None:
            finished = self.clock()
            problem = {"account_id": "", "region": "", "stream": "", "count": 1}
            try:
                await self.store.finish_scan(
                    run.scan_id,
                    finished_at=finished,
                    outcome="crashed",
                    stats=asdict(ScanStats(0, 0, 0, 0, (finished - run.started).total_seconds())),
                    errors=[{**problem, "reason": one_line(stored or error)[:300]}],
                    counters=self._unsaved,
                )
            except sqlite3.Error as again:
                self.health.wrote(again)
            else:
                self._unsaved = []
        await self.refresh(regions)
        return ScanSummary(run.scan_id or 0, "crashed", None, 0, 0)

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
