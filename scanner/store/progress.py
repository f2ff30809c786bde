"""Bookkeeping in the state file: pending work and checkpoints per region, counters, scans."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from scanner.pages import Page
from scanner.plan import Slice, StreamId, Work
from scanner.store.codec import time_from_text, time_text

ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class RegionState:
    """An (account, region)'s progress: all its streams are read up to `checkpoint`; an unfinished
    scan aiming at `target_end` still has `pending` work (stream slices) to read."""

    account_id: str
    region: str
    checkpoint: datetime | None
    target_end: datetime | None
    last_success: datetime | None
    pending: tuple[Work, ...]

    @property
    def unread(self) -> str | None:
        """Why this region's window is not read in full (None: it is): its first read has not
        finished, or a scan that failed left a gap (pending work) after its checkpoint."""
        if not self.pending:
            return None if self.checkpoint is not None else "the first read has not finished"
        start = min(w.slice.start for w in self.pending)
        end = max(w.slice.end for w in self.pending)
        span = f"{start:%Y-%m-%dT%H:%M:%SZ} .. {end:%Y-%m-%dT%H:%M:%SZ}"
        if self.checkpoint is None:
            return f"the first read has not finished: {span} not read yet"
        return f"a gap after a failed scan: {span} not read yet"


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """One scan in the history."""

    scan_id: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    stats: Mapping[str, Any]
    errors: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class CounterValue:
    """One persisted counter series: metric name, account, region, one free label."""

    name: str
    account_id: str
    region: str
    label: str
    value: float


def regions(connection: sqlite3.Connection) -> dict[tuple[str, str], RegionState]:
    pending: dict[tuple[str, str], list[Work]] = {}
    for account_id, region, stream, start, end in connection.execute(
        'SELECT account_id, region, stream, start, "end" FROM pending ORDER BY 1, 2, 3, 4'
    ):
        pending.setdefault((account_id, region), []).append(
            Work(
                StreamId(account_id, region, stream),
                Slice(time_from_text(start), time_from_text(end)),
            )
        )
    return {
        (account_id, region): RegionState(
            account_id,
            region,
            time_from_text(checkpoint) if checkpoint else None,
            time_from_text(target_end) if target_end else None,
            time_from_text(last_success) if last_success else None,
            tuple(pending.get((account_id, region), ())),
        )
        for account_id, region, checkpoint, target_end, last_success in connection.execute(
            "SELECT account_id, region, checkpoint, target_end, last_success FROM checkpoints"
        )
    }


def add_work(connection: sqlite3.Connection, work: Iterable[Work]) -> None:
    connection.executemany(
        'INSERT OR IGNORE INTO pending (account_id, region, stream, start, "end")'
        " VALUES (?, ?, ?, ?, ?)",
        [
            (
                w.stream.account_id,
                w.stream.region,
                w.stream.name,
                time_text(w.slice.start),
                time_text(w.slice.end),
            )
            for w in work
        ],
    )


def begin_region(
    connection: sqlite3.Connection,
    account_id: str,
    region: str,
    target_end: datetime,
    work: Sequence[Work],
) -> None:
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO checkpoints (account_id, region, target_end) VALUES (?, ?, ?)"
            " ON CONFLICT DO UPDATE SET target_end = excluded.target_end",
            (account_id, region, time_text(target_end)),
        )
        add_work(connection, work)
        coalesce(connection, account_id, region)
        close_region_if_done(connection, account_id, region)


def coalesce(connection: sqlite3.Connection, account_id: str, region: str) -> None:
    """Join each stream's pending slices that overlap or touch (ends are inclusive, in whole
    seconds: one second apart is touching) into one: scans that fail again and again (a long
    outage) each add a window overlapping the last, and pending work must not grow with them."""
    rows = connection.execute(
        'SELECT stream, start, "end" FROM pending WHERE account_id = ? AND region = ?',
        (account_id, region),
    ).fetchall()
    by_stream: dict[str, list[Slice]] = {}
    for stream, start, end in rows:
        by_stream.setdefault(stream, []).append(Slice(time_from_text(start), time_from_text(end)))
    joined: list[Work] = []
    for stream, slices in by_stream.items():
        slices.sort()
        kept = [slices[0]]
        for piece in slices[1:]:
            last = kept[-1]
            if piece.start <= last.end + ONE_SECOND:
                kept[-1] = Slice(last.start, max(last.end, piece.end))
            else:
                kept.append(piece)
        joined.extend(Work(StreamId(account_id, region, stream), piece) for piece in kept)
    if len(joined) == len(rows):
        return
    connection.execute(
        "DELETE FROM pending WHERE account_id = ? AND region = ?", (account_id, region)
    )
    add_work(connection, joined)


def close_region_if_done(connection: sqlite3.Connection, account_id: str, region: str) -> None:
    """When no work is left, the target becomes the checkpoint."""
    left = connection.execute(
        "SELECT count(*) FROM pending WHERE account_id = ? AND region = ?", (account_id, region)
    ).fetchone()[0]
    if left == 0:
        connection.execute(
            "UPDATE checkpoints SET checkpoint = target_end, target_end = NULL"
            " WHERE account_id = ? AND region = ? AND target_end IS NOT NULL",
            (account_id, region),
        )


def add_counters(connection: sqlite3.Connection, counters: Iterable[CounterValue]) -> None:
    connection.executemany(
        "INSERT INTO counters (name, account_id, region, label, value) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (name, account_id, region, label)"
        " DO UPDATE SET value = value + excluded.value",
        [(c.name, c.account_id, c.region, c.label, c.value) for c in counters],
    )


def advance(connection: sqlite3.Connection, page: Page) -> None:
    """Replace the page's slice in `pending` by what remains of it and the slices it spawned."""
    stream = page.stream
    connection.execute(
        "DELETE FROM pending WHERE account_id = ? AND region = ? AND stream = ? AND start = ?"
        ' AND "end" = ?',
        (
            stream.account_id,
            stream.region,
            stream.name,
            time_text(page.slice.start),
            time_text(page.slice.end),
        ),
    )
    rest = [Work(stream, page.remaining)] if page.remaining else []
    add_work(connection, [*rest, *page.spawned])
    touched = {(stream.account_id, stream.region)} | {
        (w.stream.account_id, w.stream.region) for w in page.spawned
    }
    for account_id, region in sorted(touched):
        close_region_if_done(connection, account_id, region)


def begin_scan(connection: sqlite3.Connection, started_at: datetime) -> int:
    with connection:
        cursor = connection.execute(
            "INSERT INTO scans (started_at) VALUES (?)", (time_text(started_at),)
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def finish_scan(  # noqa: PLR0917 (positional: called through to_thread.run_sync)
    connection: sqlite3.Connection,
    scan_id: int,
    finished_at: datetime,
    outcome: str,
    stats: Mapping[str, Any],
    errors: Sequence[Mapping[str, Any]],
    counters: Sequence[CounterValue],
    succeeded: Sequence[tuple[str, str]],
) -> None:
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "UPDATE scans SET finished_at = ?, outcome = ?, stats = ?, errors = ? WHERE id = ?",
            (time_text(finished_at), outcome, orjson.dumps(stats), orjson.dumps(errors), scan_id),
        )
        add_counters(connection, counters)
        connection.executemany(
            "INSERT INTO checkpoints (account_id, region, last_success) VALUES (?, ?, ?)"
            " ON CONFLICT DO UPDATE SET last_success = excluded.last_success",
            [(account, region, time_text(finished_at)) for account, region in succeeded],
        )


def scans(connection: sqlite3.Connection, limit: int) -> list[ScanRecord]:
    return [
        _scan_of(row)
        for row in connection.execute(
            "SELECT id, started_at, finished_at, outcome, stats, errors FROM scans"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
    ]


def _scan_of(row: tuple[Any, ...]) -> ScanRecord:
    scan_id, started, finished, outcome, stats, errors = row
    return ScanRecord(
        scan_id,
        time_from_text(started),
        time_from_text(finished) if finished else None,
        outcome,
        orjson.loads(stats) if stats else {},
        orjson.loads(errors) if errors else [],
    )


def last_finished_scan(connection: sqlite3.Connection) -> ScanRecord | None:
    row = connection.execute(
        "SELECT id, started_at, finished_at, outcome, stats, errors FROM scans"
        " WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return _scan_of(row) if row else None


def counters(connection: sqlite3.Connection) -> list[CounterValue]:
    return [
        CounterValue(*row)
        for row in connection.execute(
            "SELECT name, account_id, region, label, value FROM counters ORDER BY 1, 2, 3, 4"
        )
    ]
