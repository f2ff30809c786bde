"""The service's state on disk: facts, lifecycles, stream progress and scan history in SQLite.

One connection, WAL journal, driven from async code through one anyio worker thread (a
`CapacityLimiter(1)`), so that every statement runs on the same thread, one at a time. A page's
facts, its slice progress and its counters commit in one transaction: a restart after SIGKILL
resumes from the last committed page, with nothing lost and nothing counted twice (facts are keyed
by EventId; a duplicate event changes nothing). Leftovers never expire: the store remembers those
that CloudTrail's 90-day history has forgotten. A lifecycle deleted longer ago than
`service.deleted_retention_days` expires with its facts (`expire`).

The schema is versioned with `PRAGMA user_version` and migrates forward through `MIGRATIONS`.
A file that is not a SQLite database, another program's database, a damaged one, or one written
by a newer version, is refused with a `StateError` and left untouched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from scanner.lifecycle import Fact, Lifecycle, ResourceKey
from scanner.pages import Page
from scanner.plan import Work
from scanner.store import progress, sql, totals, turnover
from scanner.store.codec import fact_from_dict, fact_to_dict
from scanner.store.progress import CounterValue, RegionState, ScanRecord
from scanner.store.schema import MIGRATIONS, SCHEMA_VERSION, StateError, migrate
from scanner.store.totals import ScanTotal, account_totals

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "CounterValue",
    "RegionState",
    "ScanRecord",
    "ScanTotal",
    "StateError",
    "Store",
    "account_totals",
    "fact_from_dict",
    "fact_to_dict",
    "migrate",
]

T = TypeVar("T")


class Store:
    """The SQLite state file, used from async code; open with `await Store.open(path)`."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection = connection
        self._limiter = anyio.CapacityLimiter(1)

    # --- opening and closing -----------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (creating if absent) and migrate the state file; refuse a file that is not ours."""
        connection = await anyio.to_thread.run_sync(sql.connect, path)
        return cls(path, connection)

    async def close(self) -> None:
        """Checkpoint the WAL and close the connection."""
        await self._run(sql.close, self._connection)

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(
            partial(function, *args), limiter=self._limiter, abandon_on_cancel=False
        )

    async def schema_version(self) -> int:
        """The schema version of the open file."""
        return await self._run(sql.user_version, self._connection)

    # --- progress (the scan's Sink) -----------------------------------------------------------

    async def regions(self) -> dict[tuple[str, str], RegionState]:
        """Every known (account, region)'s progress."""
        return await self._run(progress.regions, self._connection)

    async def begin_region(
        self, account_id: str, region: str, target_end: datetime, work: Sequence[Work]
    ) -> None:
        """Record the work a scan adds for (account, region), reading it up to `target_end`.

        Work left pending by an unfinished scan stays pending; the checkpoint moves to the
        target once no work is left.
        """
        await self._run(
            progress.begin_region, self._connection, account_id, region, target_end, tuple(work)
        )

    async def apply(self, page: Page) -> None:
        """Write one page in one transaction: new facts, lifecycles, progress and counters."""
        await self._run(sql.apply_page, self._connection, page)

    async def apply_many(self, pages: Sequence[Page]) -> None:
        """Write pages, in order, in one transaction (one worker-thread call): a crash keeps
        either all of them or none, each page's facts always with its progress."""
        if pages:
            await self._run(sql.apply_pages, self._connection, tuple(pages))

    # --- scans, counters, regions --------------------------------------------------------------

    async def begin_scan(self, started_at: datetime) -> int:
        """Add a scan to the history; return its id."""
        return await self._run(progress.begin_scan, self._connection, started_at)

    async def finish_scan(
        self,
        scan_id: int,
        *,
        finished_at: datetime,
        outcome: str,
        stats: Mapping[str, Any],
        errors: Sequence[Mapping[str, Any]],
        counters: Iterable[CounterValue] = (),
        succeeded: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Close a scan: its outcome, stats and errors, counter increments, and the (account,
        region) pairs that succeeded (their last success becomes `finished_at`)."""
        await self._run(
            progress.finish_scan,
            self._connection,
            scan_id,
            finished_at,
            outcome,
            stats,
            errors,
            tuple(counters),
            tuple(succeeded),
        )

    async def scans(self, limit: int = 20) -> list[ScanRecord]:
        """The latest scans, newest first."""
        return await self._run(progress.scans, self._connection, limit)

    async def last_finished_scan(self) -> ScanRecord | None:
        """The latest scan that finished (with any outcome)."""
        return await self._run(progress.last_finished_scan, self._connection)

    async def counters(self) -> list[CounterValue]:
        """Every persisted counter series."""
        return await self._run(progress.counters, self._connection)

    # --- resources -----------------------------------------------------------------------------

    async def lifecycles(self) -> list[Lifecycle]:
        """Every stored lifecycle (alive or not)."""
        return (await self.lifecycles_since(0))[1]

    async def lifecycles_since(self, mark: int) -> tuple[int, list[Lifecycle]]:
        """The newest fact's number (a mark), and the lifecycles changed since `mark` (a mark
        returned before; 0: every lifecycle)."""
        return await self._run(turnover.lifecycles_since, self._connection, mark)

    async def expire(self, deleted_before: datetime) -> list[ResourceKey]:
        """Drop the lifecycles deleted before `deleted_before`, with their facts (never a live
        one, nor the origin of a rename); return their keys."""
        return await self._run(turnover.expire, self._connection, deleted_before)

    async def facts(self, key: ResourceKey) -> list[Fact]:
        """The facts of one resource, oldest first."""
        return await self._run(sql.facts, self._connection, key)

    async def all_facts(self) -> list[Fact]:
        """Every stored fact (for checks and rebuilds)."""
        return await self._run(sql.all_facts, self._connection)

    async def lifecycle(self, key: ResourceKey) -> Lifecycle | None:
        """One resource's lifecycle, if known."""
        return await self._run(sql.lifecycle, self._connection, key)

    # --- totals over time ----------------------------------------------------------------------

    async def record_totals(self, scan_id: int, rows: Sequence[ScanTotal]) -> bool:
        """Keep one scan's totals per account (once: False when it has them already)."""
        return await self._run(totals.record, self._connection, scan_id, tuple(rows))

    async def totals_since(self, start: datetime) -> list[ScanTotal]:
        """The kept totals of the scans finished since `start`, oldest first."""
        return await self._run(totals.since, self._connection, start)
