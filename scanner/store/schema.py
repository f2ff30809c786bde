"""The state file's schema: versioned with PRAGMA user_version, migrated forward step by step."""

from __future__ import annotations

import re
import sqlite3

from scanner.errors import LeftoversError

SQLITE_MAGIC = b"SQLite format 3\x00"


class StateError(LeftoversError):
    """The state file cannot be used; the message names the file and the reason."""


#: MIGRATIONS[n] brings a database from version n to n + 1.

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

#: Small rows, written mostly in sequence: facts become an append-only rowid table (dedup stays
#: with the events table: facts are inserted only for new events), and a lifecycle is its key and
#: the rowids of the (up to) three facts it holds, instead of full copies rewritten on each change.
_V3 = (
    """
CREATE TABLE lifecycles_v3 (
    id            INTEGER PRIMARY KEY,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    created       INTEGER,
    deleted       INTEGER,
    state_change  INTEGER
);
INSERT INTO lifecycles_v3 (account_id, region, resource_type, resource_id)
    SELECT account_id, region, resource_type, resource_id FROM lifecycles
    UNION SELECT account_id, region, resource_type, resource_id FROM facts
    ORDER BY 1, 2, 3, 4;
CREATE TABLE facts_v3 (
    id          INTEGER PRIMARY KEY,
    lifecycle   INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    change      TEXT NOT NULL,
    event_time  TEXT NOT NULL,
    body        BLOB NOT NULL
);
INSERT INTO facts_v3 (lifecycle, event_id, change, event_time, body)
    SELECT l.id, f.event_id, f.change, f.event_time, f.body
    FROM facts AS f JOIN lifecycles_v3 AS l
    ON l.account_id = f.account_id AND l.region = f.region
    AND l.resource_type = f.resource_type AND l.resource_id = f.resource_id
    ORDER BY f.event_time, f.event_id, f.change;
CREATE INDEX facts_by_lifecycle ON facts_v3 (lifecycle);
UPDATE lifecycles_v3 SET
"""
    + ",\n".join(
        f"""    {column} = (
        SELECT f.id FROM lifecycles AS o JOIN facts_v3 AS f
        ON f.lifecycle = lifecycles_v3.id AND f.change = '{change}'
        AND f.event_id = json_extract(o.body, '$.{column}.event_id')
        WHERE o.account_id = lifecycles_v3.account_id AND o.region = lifecycles_v3.region
        AND o.resource_type = lifecycles_v3.resource_type
        AND o.resource_id = lifecycles_v3.resource_id
    )"""
        for column, change in (
            ("created", "create"),
            ("deleted", "delete"),
            ("state_change", "state"),
        )
    )
    + """;
DROP TABLE lifecycles;
DROP TABLE facts;
ALTER TABLE lifecycles_v3 RENAME TO lifecycles;
ALTER TABLE facts_v3 RENAME TO facts;
CREATE UNIQUE INDEX lifecycles_by_key
    ON lifecycles (account_id, region, resource_type, resource_id);
"""
)

#: Events are told apart by their facts: every stored event has facts (an event is stored for
#: its facts), so the events table goes, and an index on the facts' (event_time, event_id) finds
#: a known event. Keyed by time first, new entries land near each other (a stream is read in time
#: order), where the events table put each one at a random place (its key was a random UUID).
_V4 = """
CREATE INDEX facts_by_event ON facts (event_time, event_id);
DROP TABLE events;
"""

#: One row of totals per finished scan and account (leftovers, known USD/hour), for the overview
#: page's chart over time: a few rows per scan, written once when its snapshot is built.
_V5 = """
CREATE TABLE scan_totals (
    scan_id     INTEGER NOT NULL,
    finished_at TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    leftovers   INTEGER NOT NULL,
    hourly_cost REAL NOT NULL,
    PRIMARY KEY (scan_id, account_id)
) WITHOUT ROWID;
CREATE INDEX scan_totals_by_time ON scan_totals (finished_at);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5)
SCHEMA_VERSION = len(MIGRATIONS)
_CREATED_TABLE = re.compile(r"CREATE TABLE (\w+)")
_DROPPED_TABLE = re.compile(r"DROP TABLE (\w+)")
_RENAMED_TABLE = re.compile(r"ALTER TABLE (\w+) RENAME TO (\w+)")


def _tables_at(version: int) -> set[str]:
    """The tables a database at `version` holds, following each migration's creates, drops and
    renames in order."""
    tables: set[str] = set()
    for script in MIGRATIONS[:version]:
        tables |= set(_CREATED_TABLE.findall(script))
        tables -= set(_DROPPED_TABLE.findall(script))
        for old, new in _RENAMED_TABLE.findall(script):
            tables.discard(old)
            tables.add(new)
    return tables


def check_ours(connection: sqlite3.Connection) -> None:
    """Refuse a database that is not a state file of ours (before anything writes to it): one
    without a version must be empty, one with a version must hold that version's tables."""
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StateError(
            f"schema version {version} is newer than this program's ({SCHEMA_VERSION})"
        )
    tables = {
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    expected = _tables_at(version)
    if (version == 0 and tables) or not expected <= tables:
        found = ", ".join(sorted(tables)) or "none"
        raise StateError(
            f"not a leftovers state file (schema version {version}, tables: {found}); "
            "refusing to touch it"
        )


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
