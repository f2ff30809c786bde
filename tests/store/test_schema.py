"""The schema: migrations forward from every version, and refusing files that are not ours."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from scanner.lifecycle import Change, Fact, Lifecycle, ResourceKey
from scanner.pairing import merge
from scanner.plan import Work
from scanner.store import MIGRATIONS, SCHEMA_VERSION, StateError, Store, migrate
from scanner.store.codec import time_text
from tests.store.builders import (
    KEY,
    STREAM,
    T0,
    WHERE,
    WINDOW,
    fact,
    fact_order,
    lifecycle_blob,
    page,
)


async def test_migrates_forward_from_v1(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    connection = sqlite3.connect(path, isolation_level=None)
    assert migrate(connection, target=1) == 1
    connection.execute(
        "INSERT INTO checkpoints (account_id, region, checkpoint) VALUES (?, ?, ?)",
        (KEY.account_id, KEY.region, WINDOW.end.isoformat()),
    )
    connection.close()
    store = await Store.open(path)
    assert await store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    state = (await store.regions())[WHERE]
    assert state.checkpoint == WINDOW.end
    assert state.target_end is None
    assert state.last_success is None
    assert await store.counters() == []
    await store.close()


async def test_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is somebody's notes, not a database\n" * 100)
    before = path.read_bytes()
    with pytest.raises(StateError, match="not a SQLite database"):
        await Store.open(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("version", [0, 1])
async def test_refuses_another_programs_database_without_changing_it(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "app.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    connection.execute("INSERT INTO notes (text) VALUES ('keep me')")
    connection.execute(f"PRAGMA user_version = {version}")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StateError, match=r"not a leftovers state file .*tables: notes"):
        await Store.open(path)
    assert path.read_bytes() == before
    assert not path.with_name("app.db-wal").exists()


async def test_refuses_a_damaged_database(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = await Store.open(path)
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    await store.close()
    raw = bytearray(path.read_bytes())
    raw[100:] = b"\xff" * (len(raw) - 100)
    path.write_bytes(bytes(raw))
    with pytest.raises(StateError, match=str(path)):
        await Store.open(path)
    assert path.read_bytes() == bytes(raw)


async def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(StateError, match="newer"):
        await Store.open(path)


async def test_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="does not exist"):
        await Store.open(tmp_path / "nope" / "state.db")


async def test_migrates_forward_from_v2_with_facts_and_lifecycles(tmp_path: Path) -> None:
    from scanner.store.codec import fact_json

    other = ResourceKey(KEY.account_id, KEY.region, "ec2.volume", "vol-2")
    written = [
        fact("e0", Change.CREATE, minutes=1),
        fact("e1", Change.CREATE, minutes=2),
        fact("e2", Change.STATE, minutes=3, state="in-use"),
        fact("e3", Change.DELETE, minutes=4),
        fact("e4", Change.CREATE, minutes=5, key=other),
    ]
    path = tmp_path / "state.db"
    connection = sqlite3.connect(path, isolation_level=None)
    assert migrate(connection, target=2) == 2
    paired: dict[ResourceKey, Lifecycle] = {}
    for one in written:
        paired[one.key] = merge(paired.get(one.key), one)
        connection.execute(
            "INSERT INTO events (event_id, account_id, region, event_time, event_name)"
            " VALUES (?, ?, ?, ?, ?)",
            (one.event_id, one.key.account_id, one.key.region, time_text(one.time), "X"),
        )
        connection.execute(
            "INSERT INTO facts (account_id, region, resource_type, resource_id, event_id,"
            " change, event_time, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                one.key.account_id,
                one.key.region,
                one.key.resource_type,
                one.key.resource_id,
                one.event_id,
                one.change.value,
                time_text(one.time),
                fact_json(one),
            ),
        )
    for key, lifecycle in paired.items():
        connection.execute(
            "INSERT INTO lifecycles (account_id, region, resource_type, resource_id, body)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                key.account_id,
                key.region,
                key.resource_type,
                key.resource_id,
                lifecycle_blob(lifecycle),
            ),
        )
    connection.close()

    store = await Store.open(path)
    assert await store.schema_version() == SCHEMA_VERSION
    assert {lc.key: lc for lc in await store.lifecycles()} == paired
    assert await store.lifecycle(other) == paired[other]
    assert await store.facts(KEY) == written[:4]
    assert len(await store.all_facts()) == len(written)
    # The migrated file takes new facts: a known event changes nothing, a new one merges.
    later = fact("e5", Change.STATE, minutes=6, key=other, state="in-use")
    await store.apply(page([written[4], later], WINDOW))
    assert await store.lifecycle(other) == merge(paired[other], later)
    assert await store.facts(other) == [written[4], later]
    await store.close()


async def test_migrates_forward_from_v3_keeping_facts_and_known_events(tmp_path: Path) -> None:
    from scanner.store.codec import fact_json

    other = ResourceKey(KEY.account_id, KEY.region, "ec2.volume", "vol-2")
    created = Fact(
        key=KEY,
        change=Change.CREATE,
        time=T0 + timedelta(seconds=5, microseconds=500),
        event_id="e0",
        event_name="CreateVolume",
    )
    written = [created, fact("e1", Change.STATE, 2, state="in-use"), fact("e2", key=other)]
    path = tmp_path / "state.db"
    connection = sqlite3.connect(path, isolation_level=None)
    assert migrate(connection, target=3) == 3
    paired: dict[ResourceKey, Lifecycle] = {}
    lifecycle_ids = {KEY: 1, other: 2}
    for key, row_id in lifecycle_ids.items():
        connection.execute(
            "INSERT INTO lifecycles (id, account_id, region, resource_type, resource_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (row_id, key.account_id, key.region, key.resource_type, key.resource_id),
        )
    for fact_id, one in enumerate(written, start=1):
        paired[one.key] = merge(paired.get(one.key), one)
        connection.execute(
            "INSERT INTO events (event_id, account_id, region, event_time, event_name)"
            " VALUES (?, ?, ?, ?, ?)",
            (one.event_id, one.key.account_id, one.key.region, time_text(one.time), "X"),
        )
        connection.execute(
            "INSERT INTO facts (id, lifecycle, event_id, change, event_time, body)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                fact_id,
                lifecycle_ids[one.key],
                one.event_id,
                one.change.value,
                time_text(one.time),
                fact_json(one),
            ),
        )
        column = {"create": "created", "delete": "deleted", "state": "state_change"}
        connection.execute(
            f"UPDATE lifecycles SET {column[one.change.value]} = ? WHERE id = ?",
            (fact_id, lifecycle_ids[one.key]),
        )
    connection.close()

    store = await Store.open(path)
    assert await store.schema_version() == SCHEMA_VERSION
    assert {lc.key: lc for lc in await store.lifecycles()} == paired
    assert sorted(await store.all_facts(), key=fact_order) == sorted(written, key=fact_order)
    # Known events are still known (a page reading them again stores nothing), and a new fact
    # merges with the migrated ones by their stored times.
    earlier = Fact(
        key=KEY,
        change=Change.CREATE,
        time=T0 + timedelta(seconds=5),
        event_id="e9",
        event_name="CreateVolume",
    )
    await store.apply(page([*written, earlier], WINDOW))
    assert len(await store.all_facts()) == len(written) + 1
    assert await store.lifecycle(KEY) == merge(paired[KEY], earlier) == paired[KEY]
    await store.close()
    connection = sqlite3.connect(path)
    try:
        tables = {n for (n,) in connection.execute("SELECT name FROM sqlite_master")}
    finally:
        connection.close()
    assert "events" not in tables
    assert "facts_by_event" in tables
