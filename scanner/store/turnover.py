"""Lifecycles coming and going as a whole: those changed since a mark, and the expiry of old ones.

Facts are numbered in the order they are stored, so the lifecycles holding a fact numbered after
a mark are exactly those changed since it: a snapshot rebuilds only them. A lifecycle deleted
long ago (and not created again, nor renamed into another) expires with its facts once its last
fact is older than the retention: the state stops growing with resources that are gone.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from scanner.lifecycle import Change, Lifecycle, ResourceKey
from scanner.store.codec import time_text
from scanner.store.sql import LIFECYCLE_COLUMNS, LIFECYCLE_JOINS, lifecycle_row


def lifecycles_since(connection: sqlite3.Connection, mark: int) -> tuple[int, list[Lifecycle]]:
    """The newest fact's number, and the lifecycles holding a fact numbered after `mark` (every
    lifecycle for 0), read in one transaction so that they agree."""
    query = "SELECT " + LIFECYCLE_COLUMNS + " FROM lifecycles AS l" + LIFECYCLE_JOINS
    with connection:
        connection.execute("BEGIN")
        newest = int(connection.execute("SELECT coalesce(max(id), 0) FROM facts").fetchone()[0])
        if mark == 0:
            rows = connection.execute(query + " ORDER BY 1, 2, 3, 4")
        else:
            rows = connection.execute(
                query + " WHERE l.id IN (SELECT lifecycle FROM facts WHERE id > ?)"
                " ORDER BY 1, 2, 3, 4",
                (mark,),
            )
        return newest, [lifecycle_row(row) for row in rows]


#: Lifecycles whose delete and every fact they hold are older than the cutoff, not created
#: again since (a tie in time stays: its order is the change's and the event id's), whose delete
#: is no rename (an event that also created another resource, whose creation it passes on),
#: and that do not hold the newest fact (new facts are numbered after it).
_EXPIRED = f"""
SELECT l.id, l.account_id, l.region, l.resource_type, l.resource_id
FROM lifecycles AS l
JOIN facts AS d ON d.id = l.deleted
LEFT JOIN facts AS c ON c.id = l.created
LEFT JOIN facts AS s ON s.id = l.state_change
WHERE d.event_time < :cutoff
AND (c.id IS NULL OR c.event_time < d.event_time)
AND (s.id IS NULL OR s.event_time < :cutoff)
AND NOT EXISTS (
    SELECT 1 FROM facts AS r
    WHERE r.event_time = d.event_time AND r.event_id = d.event_id
    AND r.change = '{Change.CREATE.value}'
)
AND l.id != coalesce((SELECT lifecycle FROM facts ORDER BY id DESC LIMIT 1), 0)
"""


def expire(connection: sqlite3.Connection, cutoff: datetime) -> list[ResourceKey]:
    """Delete the lifecycles deleted before `cutoff` (see `_EXPIRED`) and their facts, in one
    transaction; return their keys."""
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        rows = connection.execute(_EXPIRED, {"cutoff": time_text(cutoff)}).fetchall()
        ids = [(row[0],) for row in rows]
        connection.executemany("DELETE FROM facts WHERE lifecycle = ?", ids)
        connection.executemany("DELETE FROM lifecycles WHERE id = ?", ids)
    return [ResourceKey(*row[1:]) for row in rows]
