"""What the service keeps of itself besides the snapshot: its health and readiness (what
`/readyz` answers from), a scan's counters and error items, and the totals per scan."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from scanner.errors import one_line
from scanner.pages import ScanProgress, StreamFailure
from scanner.snapshot import Snapshot
from scanner.store import CounterValue, ScanTotal, account_totals

WallClock = Callable[[], datetime]


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
        self.store_error = None if error is None else one_line(error)


@dataclass(frozen=True, slots=True)
class Readiness:
    """What the service knows of its last scan beyond the snapshot: whether the store took its
    writes, and whether it read any region at all."""

    store_writable: bool = True
    all_regions_failed: bool = False


def scan_totals(snapshot: Snapshot) -> list[ScanTotal]:
    """A snapshot's totals per account, for the overview's chart over time."""
    return account_totals(
        snapshot.scan_id,
        snapshot.generated_at,
        ((e.key.account_id, e.hourly_cost) for e in snapshot.entries),
        accounts={account for account, _ in snapshot.metrics.last_success},
    )


def counters(progress: ScanProgress) -> list[CounterValue]:
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


def store_error(error: BaseException) -> sqlite3.Error | None:
    """The state file's error behind a crash (perhaps inside a task group's exception group)."""
    if isinstance(error, sqlite3.Error):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := store_error(inner)) is not None:
                return found
    return None


def error_item(failure: StreamFailure) -> dict[str, str | int]:
    """A failure as the scan record (and `/results`) list it: its first line, cut at 300."""
    reason = failure.reason.splitlines()[0] if failure.reason else ""
    return {
        "account_id": failure.account_id,
        "region": failure.region,
        "stream": failure.stream,
        "reason": reason[:300],
        "count": failure.count,
    }
