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

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)
_CREATED_TABLE = re.compile(r"CREATE TABLE (\w+)")


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
    expected = {name for script in MIGRATIONS[:version] for name in _CREATED_TABLE.findall(script)}
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
