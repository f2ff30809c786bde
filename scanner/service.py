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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta

import anyio

from scanner.catalog import Catalog
from scanner.lifecycle import ResourceKey
from scanner.logs import get_logger
from scanner.pages import ScanProgress, ScanResult, ScanStats, StreamFailure
from scanner.rebuild import build_snapshot
from scanner.runner import SourceFactory, Targets, discover, event_set, plan_scan, run_lookup
from scanner.settings import Settings
from scanner.snapshot import Snapshot
from scanner.sources.aws import AwsClients
from scanner.store import CounterValue, ScanTotal, Store, account_totals

log = get_logger("service")

WallClock = Callable[[], datetime]


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
class Health:
    """What the service knows of itself beyond the snapshot (for `/readyz`).

    `store_write_ok`: whether the last scan stored everything it read (False when a write
    failed, even if the scan's closing record then fit; None before any scan); `store_error`
    is that failure's one line."""

    store_write_ok: bool | None = None
    store_error: str | None = None
    last_scan_all_failed: bool = False  # every region of the last scan failed, or it crashed
    crashes: Counter[str] = field(default_factory=Counter)  # crashed scans, by reason

    def wrote(self, error: sqlite3.Error | None = None) -> None:
        """Note a write to the state file: done, or failed with `error`."""
        self.store_write_ok = error is None
        self.store_error = None if error is None else _one_line(error)


@dataclass(frozen=True, slots=True)
class Readiness:
    """What the service knows of its last scan beyond the snapshot: whether the store took its
    writes, and whether it read any region at all."""

    store_writable: bool = True
    all_regions_failed: bool = False


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
        try:
            targets = await discover(self.settings, clients)
        except Exception as error:  # discovery failures are reported, the service goes on
            reason = _one_line(error)
            log.warning("discovery_failed", reason=reason)
            finished = self.clock()
            await self.store.finish_scan(
                scan_id,
                finished_at=finished,
                outcome="failed",
                stats=asdict(ScanStats(0, 0, 0, 0, (finished - started).total_seconds())),
                errors=[{"account_id": "", "region": "", "stream": "", "reason": reason}],
            )
            self.health.wrote()
            self.health.last_scan_all_failed = True
            await self.refresh()
            return ScanSummary(scan_id, "failed", None, 0, 0)
        run.regions = targets.regions
        known = await self.store.regions()
        now = self.clock()
        fresh = plan_scan(targets.regions, known, now, self.settings, self._events)
        resumed = [w for state in known.values() for w in state.pending]
        for (account_id, region), work in fresh.items():
            await self.store.begin_region(account_id, region, now, work)
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
        counters = [*_counters(progress), *self._unsaved]
        counters += [  # accounts whose regions could not be listed
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
            errors=[_error_item(f) for f in result.failures],
            counters=counters,
            succeeded=sorted(scanned - failed),
        )
        self._unsaved = []
        self.health.wrote()
        self.health.last_scan_all_failed = outcome == "failed"
        snapshot = await self.refresh(targets.regions, await self.expire())
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
        stored = _store_error(error)
        reason = "store" if stored is not None else "other"
        if stored is not None:
            self.health.wrote(stored)
            log.error("scan_crashed", scan_id=run.scan_id, reason=reason, error=_one_line(stored))
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
                    errors=[{**problem, "reason": _one_line(stored or error)[:300]}],
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


def scan_totals(snapshot: Snapshot) -> list[ScanTotal]:
    """A snapshot's totals per account, for the overview's chart over time."""
    return account_totals(
        snapshot.scan_id,
        snapshot.generated_at,
        ((e.key.account_id, e.hourly_cost) for e in snapshot.entries),
        accounts={account for account, _ in snapshot.metrics.last_success},
    )


def _counters(progress: ScanProgress) -> list[CounterValue]:
    """A scan's counter increments per region: throttled and failed LookupEvents calls, and
    its errors by category (every failed call, retried or not, and chains given up)."""
    counters: list[CounterValue] = []
    for (account, region), live in progress.regions.items():
        for outcome, value in (("throttled", live.throttled), ("error", live.failed_calls)):
            if value:
                counters.append(CounterValue("lookup_requests", account, region, outcome, value))
        counters += [
            CounterValue("scan_errors", account, region, category, value)
            for category, value in sorted(live.errors.items())
        ]
    return counters


def _store_error(error: BaseException) -> sqlite3.Error | None:
    """The state file's error behind a crash (perhaps inside a task group's exception group)."""
    if isinstance(error, sqlite3.Error):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := _store_error(inner)) is not None:
                return found
    return None


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


def _error_item(failure: StreamFailure) -> dict[str, str | int]:
    reason = failure.reason.splitlines()[0] if failure.reason else ""
    return {
        "account_id": failure.account_id,
        "region": failure.region,
        "stream": failure.stream,
        "reason": reason[:300],
        "count": failure.count,
    }
