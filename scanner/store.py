"""The service's state on disk: facts, lifecycles, stream progress and scan history in SQLite.

One connection, WAL journal, driven from async code through one anyio worker thread (a
`CapacityLimiter(1)`), so that every statement runs on the same thread, one at a time. A page's
facts, its slice progress and its counters commit in one transaction: a restart after SIGKILL
resumes from the last committed page, with nothing lost and nothing counted twice (facts are keyed
by EventId; a duplicate event changes nothing). Nothing is ever expired: the store remembers
leftovers that CloudTrail's 90-day history has forgotten.

The schema is versioned with `PRAGMA user_version` and migrates forward through `MIGRATIONS`.
A file that is not a SQLite database, or one written by a newer version, is refused with a
`StateError` and left untouched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import orjson

from scanner.errors import LeftoversError
from scanner.lifecycle import Actor, Change, Fact, Lifecycle, ResourceKey
from scanner.pairing import merge
from scanner.plan import Slice, StreamId, Work
from scanner.scan import Page

T = TypeVar("T")

_SQLITE_MAGIC = b"SQLite format 3\x00"


class StateError(LeftoversError):
    """The state file cannot be used; the message names the file and the reason."""


# ---------------------------------------------------------------------------------------------
# Schema: MIGRATIONS[n] brings a database from version n to n + 1.

_V1 = """
CREATE TABLE events (
    event_id    TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    event_time  TEXT NOT NULL,
    event_name  TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE facts (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    event_id      TEXT NOT NULL REFERENCES events (event_id),
    change        TEXT NOT NULL,
    event_time    TEXT NOT NULL,
    body          BLOB NOT NULL,
    PRIMARY KEY (account_id, region, resource_type, resource_id, event_id, change)
) WITHOUT ROWID;
CREATE TABLE lifecycles (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    body          BLOB NOT NULL,
    PRIMARY KEY (account_id, region, resource_type, resource_id)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    checkpoint  TEXT,
    PRIMARY KEY (account_id, region)
) WITHOUT ROWID;
CREATE TABLE pending (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    stream      TEXT NOT NULL,
    start       TEXT NOT NULL,
    "end"       TEXT NOT NULL,
    PRIMARY KEY (account_id, region, stream, start, "end")
) WITHOUT ROWID;
CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT,
    stats       BLOB,
    errors      BLOB
);
"""

_V2 = """
CREATE TABLE counters (
    name        TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    label       TEXT NOT NULL,
    value       REAL NOT NULL,
    PRIMARY KEY (name, account_id, region, label)
) WITHOUT ROWID;
ALTER TABLE checkpoints ADD COLUMN target_end TEXT;
ALTER TABLE checkpoints ADD COLUMN last_success TEXT;
CREATE INDEX facts_by_event ON facts (event_id);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(connection: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database forward to `target`, one migration per transaction; return the version."""
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StateError(
            f"schema version {version} is newer than this program's ({SCHEMA_VERSION})"
        )
    while version < target:
        script = MIGRATIONS[version]
        statements = [s.strip() for s in script.split(";") if s.strip()]
        with connection:
            connection.execute("BEGIN IMMEDIATE")
            for statement in statements:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version + 1}")
        version += 1
    return version


# ---------------------------------------------------------------------------------------------
# Serialisation of domain values (JSON, stable across versions).


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _key_dict(key: ResourceKey) -> dict[str, str]:
    return {
        "account_id": key.account_id,
        "region": key.region,
        "resource_type": key.resource_type,
        "resource_id": key.resource_id,
    }


def _key_of(data: Mapping[str, str]) -> ResourceKey:
    return ResourceKey(
        data["account_id"], data["region"], data["resource_type"], data["resource_id"]
    )


def fact_to_dict(fact: Fact) -> dict[str, Any]:
    """A Fact as plain JSON values."""
    return {
        "key": _key_dict(fact.key),
        "change": fact.change.value,
        "time": _time(fact.time),
        "event_id": fact.event_id,
        "event_name": fact.event_name,
        "actor": {
            "arn": fact.actor.arn,
            "user_name": fact.actor.user_name,
            "source_ip": fact.actor.source_ip,
            "user_agent": fact.actor.user_agent,
        },
        "state": fact.state,
        "name": fact.name,
        "arn": fact.arn,
        "attributes": [list(pair) for pair in fact.attributes],
        "renamed_from": _key_dict(fact.renamed_from) if fact.renamed_from else None,
    }


def fact_from_dict(data: Mapping[str, Any]) -> Fact:
    """The Fact written by `fact_to_dict`."""
    renamed = data.get("renamed_from")
    return Fact(
        key=_key_of(data["key"]),
        change=Change(data["change"]),
        time=_parse(data["time"]),
        event_id=data["event_id"],
        event_name=data["event_name"],
        actor=Actor(**data["actor"]),
        state=data.get("state"),
        name=data.get("name"),
        arn=data.get("arn"),
        attributes=tuple((str(k), str(v)) for k, v in data.get("attributes", ())),
        renamed_from=_key_of(renamed) if renamed else None,
    )


def _lifecycle_blob(lifecycle: Lifecycle) -> bytes:
    return orjson.dumps(
        {
            "key": _key_dict(lifecycle.key),
            "created": fact_to_dict(lifecycle.created) if lifecycle.created else None,
            "deleted": fact_to_dict(lifecycle.deleted) if lifecycle.deleted else None,
            "state_change": fact_to_dict(lifecycle.state_change)
            if lifecycle.state_change
            else None,
        }
    )


def _lifecycle_of(blob: bytes) -> Lifecycle:
    data = orjson.loads(blob)
    return Lifecycle(
        key=_key_of(data["key"]),
        created=fact_from_dict(data["created"]) if data["created"] else None,
        deleted=fact_from_dict(data["deleted"]) if data["deleted"] else None,
        state_change=fact_from_dict(data["state_change"]) if data["state_change"] else None,
    )


# ---------------------------------------------------------------------------------------------
# What the store gives back.


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


# ---------------------------------------------------------------------------------------------


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
        connection = await anyio.to_thread.run_sync(_connect, path)
        return cls(path, connection)

    async def close(self) -> None:
        """Checkpoint the WAL and close the connection."""
        await self._run(_close, self._connection)

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(
            partial(function, *args), limiter=self._limiter, abandon_on_cancel=False
        )

    async def writable(self) -> bool:
        """True when a write transaction can be taken (the disk is not read-only or locked)."""
        try:
            await self._run(_probe_write, self._connection)
        except sqlite3.Error:
            return False
        return True

    async def schema_version(self) -> int:
        """The schema version of the open file."""
        return await self._run(_user_version, self._connection)

    # --- progress (the scan's Sink) -----------------------------------------------------------

    async def regions(self) -> dict[tuple[str, str], RegionState]:
        """Every known (account, region)'s progress."""
        return await self._run(_regions, self._connection)

    async def begin_region(
        self, account_id: str, region: str, target_end: datetime, work: Sequence[Work]
    ) -> None:
        """Record the work a scan adds for (account, region), reading it up to `target_end`.

        Work left pending by an unfinished scan stays pending; the checkpoint moves to the
        target once no work is left.
        """
        await self._run(
            _begin_region, self._connection, account_id, region, target_end, tuple(work)
        )

    async def apply(self, page: Page) -> None:
        """Write one page in one transaction: new facts, lifecycles, progress and counters."""
        await self._run(_apply_page, self._connection, page)

    # --- scans, counters, regions --------------------------------------------------------------

    async def begin_scan(self, started_at: datetime) -> int:
        """Add a scan to the history; return its id."""
        return await self._run(_begin_scan, self._connection, started_at)

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
            _finish_scan,
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
        return await self._run(_scans, self._connection, limit)

    async def last_finished_scan(self) -> ScanRecord | None:
        """The latest scan that finished (with any outcome)."""
        return await self._run(_last_finished_scan, self._connection)

    async def counters(self) -> list[CounterValue]:
        """Every persisted counter series."""
        return await self._run(_counters, self._connection)

    # --- resources -----------------------------------------------------------------------------

    async def lifecycles(self) -> list[Lifecycle]:
        """Every stored lifecycle (alive or not)."""
        return await self._run(_lifecycles, self._connection)

    async def facts(self, key: ResourceKey) -> list[Fact]:
        """The facts of one resource, oldest first."""
        return await self._run(_facts, self._connection, key)

    async def all_facts(self) -> list[Fact]:
        """Every stored fact (for checks and rebuilds)."""
        return await self._run(_all_facts, self._connection)

    async def lifecycle(self, key: ResourceKey) -> Lifecycle | None:
        """One resource's lifecycle, if known."""
        return await self._run(_lifecycle, self._connection, key)


# ---------------------------------------------------------------------------------------------
# The blocking side, run on the store's worker thread.


def _connect(path: Path) -> sqlite3.Connection:
    path = Path(path)
    if path.exists():
        if path.is_dir():
            raise StateError(f"state file {path}: is a folder")
        try:
            with path.open("rb") as handle:
                header = handle.read(len(_SQLITE_MAGIC))
        except OSError as error:
            raise StateError(f"state file {path}: cannot read ({error.strerror})") from None
        if header and header != _SQLITE_MAGIC:
            raise StateError(f"state file {path}: not a SQLite database; refusing to touch it")
    elif not path.parent.is_dir():
        raise StateError(f"state file {path}: folder {path.parent} does not exist")
    try:
        connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10
        )
    except sqlite3.Error as error:
        raise StateError(f"state file {path}: cannot open ({error})") from None
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        problem = connection.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise StateError(f"damaged ({problem}); refusing to touch it")
        migrate(connection)
    except StateError as error:
        connection.close()
        raise StateError(f"state file {path}: {error}") from None
    except sqlite3.Error as error:
        connection.close()
        raise StateError(f"state file {path}: unusable ({error}); refusing to touch it") from None
    return connection


def _close(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _user_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _probe_write(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("ROLLBACK")


def _regions(connection: sqlite3.Connection) -> dict[tuple[str, str], RegionState]:
    pending: dict[tuple[str, str], list[Work]] = {}
    for account_id, region, stream, start, end in connection.execute(
        'SELECT account_id, region, stream, start, "end" FROM pending ORDER BY 1, 2, 3, 4'
    ):
        pending.setdefault((account_id, region), []).append(
            Work(StreamId(account_id, region, stream), Slice(_parse(start), _parse(end)))
        )
    return {
        (account_id, region): RegionState(
            account_id,
            region,
            _parse(checkpoint) if checkpoint else None,
            _parse(target_end) if target_end else None,
            _parse(last_success) if last_success else None,
            tuple(pending.get((account_id, region), ())),
        )
        for account_id, region, checkpoint, target_end, last_success in connection.execute(
            "SELECT account_id, region, checkpoint, target_end, last_success FROM checkpoints"
        )
    }


def _add_work(connection: sqlite3.Connection, work: Iterable[Work]) -> None:
    connection.executemany(
        'INSERT OR IGNORE INTO pending (account_id, region, stream, start, "end")'
        " VALUES (?, ?, ?, ?, ?)",
        [
            (
                w.stream.account_id,
                w.stream.region,
                w.stream.name,
                _time(w.slice.start),
                _time(w.slice.end),
            )
            for w in work
        ],
    )


def _begin_region(
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
            (account_id, region, _time(target_end)),
        )
        _add_work(connection, work)
        _close_region_if_done(connection, account_id, region)


def _close_region_if_done(connection: sqlite3.Connection, account_id: str, region: str) -> None:
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


def _add_counter(connection: sqlite3.Connection, counter: CounterValue) -> None:
    connection.execute(
        "INSERT INTO counters (name, account_id, region, label, value) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (name, account_id, region, label)"
        " DO UPDATE SET value = value + excluded.value",
        (counter.name, counter.account_id, counter.region, counter.label, counter.value),
    )


def _merge_facts(connection: sqlite3.Connection, facts: Sequence[Fact]) -> None:
    by_key: dict[ResourceKey, list[Fact]] = {}
    for fact in facts:
        by_key.setdefault(fact.key, []).append(fact)
    for key, new in by_key.items():
        row = connection.execute(
            "SELECT body FROM lifecycles WHERE account_id = ? AND region = ?"
            " AND resource_type = ? AND resource_id = ?",
            (key.account_id, key.region, key.resource_type, key.resource_id),
        ).fetchone()
        lifecycle = _lifecycle_of(row[0]) if row else None
        for fact in new:
            lifecycle = merge(lifecycle, fact)
        assert lifecycle is not None
        connection.execute(
            "INSERT INTO lifecycles (account_id, region, resource_type, resource_id, body)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET body = excluded.body",
            (
                key.account_id,
                key.region,
                key.resource_type,
                key.resource_id,
                _lifecycle_blob(lifecycle),
            ),
        )


def _apply_page(connection: sqlite3.Connection, page: Page) -> int:
    """Apply one page; return how many of its matched events were new."""
    by_event: dict[str, list[Fact]] = {}
    for fact in page.facts:
        by_event.setdefault(fact.event_id, []).append(fact)
    new_facts: list[Fact] = []
    stream = page.stream
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        for event_id, facts in by_event.items():
            first = facts[0]
            inserted = connection.execute(
                "INSERT OR IGNORE INTO events (event_id, account_id, region, event_time,"
                " event_name) VALUES (?, ?, ?, ?, ?)",
                (
                    event_id,
                    first.key.account_id,
                    first.key.region,
                    _time(first.time),
                    first.event_name,
                ),
            ).rowcount
            if not inserted:
                continue
            for fact in facts:
                connection.execute(
                    "INSERT OR IGNORE INTO facts (account_id, region, resource_type, resource_id,"
                    " event_id, change, event_time, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        fact.key.account_id,
                        fact.key.region,
                        fact.key.resource_type,
                        fact.key.resource_id,
                        event_id,
                        fact.change.value,
                        _time(fact.time),
                        orjson.dumps(fact_to_dict(fact)),
                    ),
                )
                new_facts.append(fact)
        _merge_facts(connection, new_facts)
        connection.execute(
            "DELETE FROM pending WHERE account_id = ? AND region = ? AND stream = ? AND start = ?"
            ' AND "end" = ?',
            (
                stream.account_id,
                stream.region,
                stream.name,
                _time(page.slice.start),
                _time(page.slice.end),
            ),
        )
        rest = [Work(stream, page.remaining)] if page.remaining else []
        _add_work(connection, [*rest, *page.spawned])
        touched = {(stream.account_id, stream.region)} | {
            (w.stream.account_id, w.stream.region) for w in page.spawned
        }
        for account_id, region in sorted(touched):
            _close_region_if_done(connection, account_id, region)
        _add_counter(
            connection, CounterValue("lookup_requests", stream.account_id, stream.region, "ok", 1)
        )
        _add_counter(
            connection,
            CounterValue("events", stream.account_id, stream.region, "", page.events_read),
        )
    return len({f.event_id for f in new_facts})


def _begin_scan(connection: sqlite3.Connection, started_at: datetime) -> int:
    with connection:
        cursor = connection.execute(
            "INSERT INTO scans (started_at) VALUES (?)", (_time(started_at),)
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _finish_scan(  # noqa: PLR0917 (positional: called through to_thread.run_sync)
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
            (_time(finished_at), outcome, orjson.dumps(stats), orjson.dumps(errors), scan_id),
        )
        for counter in counters:
            _add_counter(connection, counter)
        connection.executemany(
            "INSERT INTO checkpoints (account_id, region, last_success) VALUES (?, ?, ?)"
            " ON CONFLICT DO UPDATE SET last_success = excluded.last_success",
            [(account, region, _time(finished_at)) for account, region in succeeded],
        )


def _scans(connection: sqlite3.Connection, limit: int) -> list[ScanRecord]:
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
        _parse(started),
        _parse(finished) if finished else None,
        outcome,
        orjson.loads(stats) if stats else {},
        orjson.loads(errors) if errors else [],
    )


def _last_finished_scan(connection: sqlite3.Connection) -> ScanRecord | None:
    row = connection.execute(
        "SELECT id, started_at, finished_at, outcome, stats, errors FROM scans"
        " WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return _scan_of(row) if row else None


def _counters(connection: sqlite3.Connection) -> list[CounterValue]:
    return [
        CounterValue(*row)
        for row in connection.execute(
            "SELECT name, account_id, region, label, value FROM counters ORDER BY 1, 2, 3, 4"
        )
    ]


def _lifecycles(connection: sqlite3.Connection) -> list[Lifecycle]:
    return [
        _lifecycle_of(blob)
        for (blob,) in connection.execute("SELECT body FROM lifecycles ORDER BY 1")
    ]


def _lifecycle(connection: sqlite3.Connection, key: ResourceKey) -> Lifecycle | None:
    row = connection.execute(
        "SELECT body FROM lifecycles WHERE account_id = ? AND region = ?"
        " AND resource_type = ? AND resource_id = ?",
        (key.account_id, key.region, key.resource_type, key.resource_id),
    ).fetchone()
    return _lifecycle_of(row[0]) if row else None


def _facts(connection: sqlite3.Connection, key: ResourceKey) -> list[Fact]:
    return [
        fact_from_dict(orjson.loads(blob))
        for (blob,) in connection.execute(
            "SELECT body FROM facts WHERE account_id = ? AND region = ?"
            " AND resource_type = ? AND resource_id = ? ORDER BY event_time, event_id",
            (key.account_id, key.region, key.resource_type, key.resource_id),
        )
    ]


def _all_facts(connection: sqlite3.Connection) -> list[Fact]:
    return [
        fact_from_dict(orjson.loads(blob))
        for (blob,) in connection.execute("SELECT body FROM facts ORDER BY event_time, event_id")
    ]
