"""The blocking side of the store: every statement, run on the store's one worker thread."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from scanner.lifecycle import Change, Fact, Lifecycle, ResourceKey
from scanner.pages import Page
from scanner.store.codec import fact_from_dict, fact_json, time_text
from scanner.store.progress import (
    CounterValue,
    add_counters,
    advance,
)
from scanner.store.schema import SQLITE_MAGIC, StateError, check_ours, migrate

#: Page size of a new state file (bytes): rows are small since schema v3, and a batch dirties
#: pages at random places in the lifecycles' b-trees; each costs its size in the WAL (README,
#: "Performance", has how the other sizes compared).
PAGE_SIZE = 4096
#: SQLite's page cache (KiB): the lifecycles' b-tree pages a batch revisits stay in memory
#: instead of being read back through the WAL index.
CACHE_KIB = 65536
#: WAL pages before an automatic checkpoint (1,000 by default): fewer checkpoints, and a page
#: written by many batches is copied into the database once (128 MiB of 4 KiB pages).
CHECKPOINT_PAGES = 32768


def connect(path: Path) -> sqlite3.Connection:
    path = Path(path)
    if path.exists():
        if path.is_dir():
            raise StateError(f"state file {path}: is a folder")
        try:
            with path.open("rb") as handle:
                header = handle.read(len(SQLITE_MAGIC))
        except OSError as error:
            raise StateError(f"state file {path}: cannot read ({error.strerror})") from None
        if header and header != SQLITE_MAGIC:
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
        check_ours(connection)
        problem = connection.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise StateError(f"damaged ({problem}); refusing to touch it")
        if user_version(connection) == 0:
            # A new file: the page size is fixed once the file is written.
            connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        connection.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        migrate(connection)
    except StateError as error:
        connection.close()
        raise StateError(f"state file {path}: {error}") from None
    except sqlite3.Error as error:
        connection.close()
        raise StateError(f"state file {path}: unusable ({error}); refusing to touch it") from None
    return connection


def close(connection: sqlite3.Connection) -> None:
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def user_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


#: Keys per lifecycle lookup (4 bound values each, far below SQLite's 32766).
_KEYS_PER_SELECT = 500

#: A lifecycle row with its facts' bodies: the key columns, then the created, deleted and state
#: change facts' bodies.
LIFECYCLE_COLUMNS = "l.account_id, l.region, l.resource_type, l.resource_id, c.body, d.body, s.body"
LIFECYCLE_JOINS = (
    " LEFT JOIN facts AS c ON c.id = l.created"
    " LEFT JOIN facts AS d ON d.id = l.deleted"
    " LEFT JOIN facts AS s ON s.id = l.state_change"
)


def _fact_of(blob: bytes | None) -> Fact | None:
    return fact_from_dict(orjson.loads(blob)) if blob is not None else None


def lifecycle_row(row: Sequence[Any]) -> Lifecycle:
    account_id, region, resource_type, resource_id = row[:4]
    key = ResourceKey(account_id, region, resource_type, resource_id)
    return Lifecycle(key, _fact_of(row[4]), _fact_of(row[5]), _fact_of(row[6]))


#: The slot of a lifecycle each change fills: created, deleted, state change.
_SLOTS = {Change.CREATE: 0, Change.DELETE: 1, Change.STATE: 2}

#: A fact's place within its slot: its time as stored (`time_text`) and its event id.
#: `Fact.order` is (time, change rank, event id) and a slot holds one change, so this orders a
#: slot's facts as `pairing.merge` does. The text orders as the times do: it is UTC `isoformat`,
#: fixed-width up to the seconds, then either "+00:00" or six digits of fraction after a "."
#: (which sorts after "+", as a time with a fraction comes after the whole second). Two facts of
#: one slot never tie: a fact is stored once per (event, resource, change), and an event has one
#: time.
_SlotOrder = tuple[str, str]


#: A held fact: its order in its slot and its rowid.
_HeldFact = tuple[_SlotOrder, int]


@dataclass(slots=True)
class _Held:
    """A lifecycle as the write path sees it: its row id and, per slot, the fact it holds (None:
    empty). Enough to merge facts in without reading their bodies."""

    row_id: int
    slots: list[_HeldFact | None]


def _held_fact(fact_id: int | None, event_time: str, event_id: str) -> _HeldFact | None:
    return None if fact_id is None else ((event_time, event_id), fact_id)


def _joined(
    connection: sqlite3.Connection, keys: Sequence[tuple[Any, ...]], query: str
) -> Iterator[Any]:
    """The rows `query` gives for `keys`, `_KEYS_PER_SELECT` keys a statement. `query` reads the
    keys from `(VALUES {keys}) AS k` and CROSS JOINs the table to them: the join keeps that order,
    so each key is looked up by its index (a row-value `IN (VALUES ...)` would scan the table)."""
    for start in range(0, len(keys), _KEYS_PER_SELECT):
        chunk = keys[start : start + _KEYS_PER_SELECT]
        marks = "(" + ", ".join(["?"] * len(chunk[0])) + ")"
        bound = [part for key in chunk for part in key]
        yield from connection.execute(query.format(keys=", ".join([marks] * len(chunk))), bound)


def _stored_lifecycles(
    connection: sqlite3.Connection, keys: Sequence[ResourceKey]
) -> dict[ResourceKey, _Held]:
    found: dict[ResourceKey, _Held] = {}
    for row in _joined(
        connection,
        [key_parts(key) for key in keys],
        "SELECT l.account_id, l.region, l.resource_type, l.resource_id, l.id,"
        " l.created, c.event_time, c.event_id, l.deleted, d.event_time, d.event_id,"
        " l.state_change, s.event_time, s.event_id"
        " FROM (VALUES {keys}) AS k CROSS JOIN lifecycles AS l"
        " ON l.account_id = k.column1 AND l.region = k.column2"
        " AND l.resource_type = k.column3 AND l.resource_id = k.column4" + LIFECYCLE_JOINS,
    ):
        found[ResourceKey(*row[:4])] = _Held(
            row[4], [_held_fact(*row[5:8]), _held_fact(*row[8:11]), _held_fact(*row[11:14])]
        )
    return found


def key_parts(key: ResourceKey) -> tuple[str, str, str, str]:
    return (key.account_id, key.region, key.resource_type, key.resource_id)


def _next_id(connection: sqlite3.Connection, table: str) -> int:
    return int(connection.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])


def _fact_rows(
    facts: Sequence[Fact],
    first_fact: int,
    held: Mapping[ResourceKey, _Held],
    times: Mapping[datetime, str],
) -> list[tuple[Any, ...]]:
    """The facts' rows: rowids in order from `first_fact`, each with its lifecycle's rowid and
    its time as text (from `times`)."""
    return [
        (
            fact_id,
            held[fact.key].row_id,
            fact.event_id,
            fact.change.value,
            times[fact.time],
            fact_json(fact),
        )
        for fact_id, fact in enumerate(facts, start=first_fact)
    ]


def _store_facts(
    connection: sqlite3.Connection, facts: Sequence[Fact], times: Mapping[datetime, str]
) -> None:
    """Append new facts (rowids in order) and merge them into their lifecycles; write only the
    lifecycles that changed, as their key and the rowids of the facts they hold.

    The merge is `pairing.merge` on slot orders (see `_SlotOrder`): each slot keeps its latest
    fact, so the facts' bodies are never read back."""
    first_fact = _next_id(connection, "facts")
    # Rowids in page order (not grouped by resource): batches store what pages one by one do.
    by_key: dict[ResourceKey, list[tuple[int, Fact]]] = {}
    for fact_id, fact in enumerate(facts, start=first_fact):
        by_key.setdefault(fact.key, []).append((fact_id, fact))
    stored = _stored_lifecycles(connection, list(by_key))
    # New lifecycles are numbered in order of their first fact, as pages one by one number them.
    next_lifecycle = _next_id(connection, "lifecycles")
    held: dict[ResourceKey, _Held] = {}
    for key in by_key:
        known = stored.get(key)
        if known is None:
            known = _Held(next_lifecycle, [None, None, None])
            next_lifecycle += 1
        held[key] = known
    connection.executemany(
        "INSERT INTO facts (id, lifecycle, event_id, change, event_time, body)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        _fact_rows(facts, first_fact, held, times),
    )
    inserted = []
    updated = []
    for key, new in by_key.items():
        lifecycle = held[key]
        changed = False
        for fact_id, fact in new:
            slot = _SLOTS[fact.change]
            current = lifecycle.slots[slot]
            order = (times[fact.time], fact.event_id)
            if current is None or order > current[0]:
                lifecycle.slots[slot] = (order, fact_id)
                changed = True
        refs = tuple(None if one is None else one[1] for one in lifecycle.slots)
        if key not in stored:
            inserted.append((lifecycle.row_id, *key_parts(key), *refs))
        elif changed:
            updated.append((*refs, lifecycle.row_id))
    connection.executemany(
        "INSERT INTO lifecycles (id, account_id, region, resource_type, resource_id,"
        " created, deleted, state_change) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        inserted,
    )
    connection.executemany(
        "UPDATE lifecycles SET created = ?, deleted = ?, state_change = ? WHERE id = ?", updated
    )


def _known_events(connection: sqlite3.Connection, events: Sequence[tuple[str, str]]) -> set[str]:
    """The ids of the events, given as (time text, event id), that have facts stored."""
    return {
        event_id
        for (event_id,) in _joined(
            connection,
            events,
            "SELECT f.event_id FROM (VALUES {keys}) AS k"
            " CROSS JOIN facts AS f ON f.event_time = k.column1 AND f.event_id = k.column2",
        )
    }


def _new_facts(
    connection: sqlite3.Connection, pages: Sequence[Page], times: dict[datetime, str]
) -> list[Fact]:
    """The facts of the events not stored yet, in page order: an event's facts are those of the
    first page that reads it, once per (resource, change). An event's id and time identify it
    (CloudTrail never changes a recorded event's time). Fills `times` with the facts' time text."""
    by_event: dict[str, list[Fact]] = {}
    for page in pages:
        first_seen: set[str] = set()  # an event read again by a later page brings nothing new
        for fact in page.facts:
            facts = by_event.get(fact.event_id)
            if facts is None:
                first_seen.add(fact.event_id)
                by_event[fact.event_id] = [fact]
            elif fact.event_id in first_seen:
                facts.append(fact)
    events = []
    for event_id, facts in by_event.items():
        for fact in facts:
            if fact.time not in times:
                times[fact.time] = time_text(fact.time)
        events.append((times[facts[0].time], event_id))
    known = _known_events(connection, events)
    new_facts: list[Fact] = []
    for event_id, facts in by_event.items():
        if event_id in known:
            continue
        if len(facts) == 1:  # most events state one fact: nothing to de-duplicate
            new_facts.append(facts[0])
            continue
        seen: set[tuple[ResourceKey, Change]] = set()  # one fact per (resource, change)
        for fact in facts:
            if (fact.key, fact.change) not in seen:
                seen.add((fact.key, fact.change))
                new_facts.append(fact)
    return new_facts


def apply_pages(connection: sqlite3.Connection, pages: Sequence[Page]) -> int:
    """Apply pages, in order, in one transaction; return how many of their matched events were
    new. Facts are keyed by EventId, so an event seen twice (in one batch or across batches) is
    stored once; every lifecycle is the merge of all its facts, whatever their order."""
    calls: dict[tuple[str, str], int] = {}
    events: dict[tuple[str, str], int] = {}
    for page in pages:
        region = (page.stream.account_id, page.stream.region)
        if page.called:  # a cut made while a call was out is no request
            calls[region] = calls.get(region, 0) + 1
        events[region] = events.get(region, 0) + page.events_read
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        times: dict[datetime, str] = {}
        new_facts = _new_facts(connection, pages, times)
        _store_facts(connection, new_facts, times)
        for page in pages:
            advance(connection, page)
        add_counters(
            connection,
            [
                *(CounterValue("lookup_requests", *region, "ok", n) for region, n in calls.items()),
                *(CounterValue("events", *region, "", n) for region, n in events.items()),
            ],
        )
    return len({f.event_id for f in new_facts})


def apply_page(connection: sqlite3.Connection, page: Page) -> int:
    """Apply one page in one transaction; return how many of its matched events were new."""
    return apply_pages(connection, [page])


def lifecycle(connection: sqlite3.Connection, key: ResourceKey) -> Lifecycle | None:
    row = connection.execute(
        "SELECT "
        + LIFECYCLE_COLUMNS
        + " FROM lifecycles AS l"
        + LIFECYCLE_JOINS
        + " WHERE l.account_id = ? AND l.region = ? AND l.resource_type = ? AND l.resource_id = ?",
        key_parts(key),
    ).fetchone()
    return lifecycle_row(row) if row else None


def facts(connection: sqlite3.Connection, key: ResourceKey) -> list[Fact]:
    return [
        fact_from_dict(orjson.loads(blob))
        for (blob,) in connection.execute(
            "SELECT f.body FROM lifecycles AS l JOIN facts AS f ON f.lifecycle = l.id"
            " WHERE l.account_id = ? AND l.region = ? AND l.resource_type = ?"
            " AND l.resource_id = ? ORDER BY f.event_time, f.event_id, f.change",
            key_parts(key),
        )
    ]


def all_facts(connection: sqlite3.Connection) -> list[Fact]:
    return [
        fact_from_dict(orjson.loads(blob))
        for (blob,) in connection.execute(
            "SELECT body FROM facts ORDER BY event_time, event_id, change"
        )
    ]
