"""The SQLite store: dedup by EventId, lifecycles equal to pairing over all facts, progress,
migrations, and refusing files that are not ours."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.lifecycle import Actor, Change, Fact, Lifecycle, ResourceKey
from scanner.pages import Page
from scanner.pairing import merge
from scanner.plan import Slice, StreamId, Work
from scanner.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    StateError,
    Store,
    fact_from_dict,
    fact_to_dict,
    migrate,
)
from scanner.store.codec import time_text

T0 = datetime(2025, 1, 1, tzinfo=UTC)
KEY = ResourceKey("111111111111", "eu-west-1", "ec2.volume", "vol-1")


def fact(
    event_id: str,
    change: Change = Change.CREATE,
    minutes: int = 0,
    key: ResourceKey = KEY,
    state: str | None = None,
) -> Fact:
    return Fact(
        key=key,
        change=change,
        time=T0 + timedelta(minutes=minutes),
        event_id=event_id,
        event_name={"create": "CreateVolume", "delete": "DeleteVolume"}.get(
            change.value, "ModifyVolume"
        ),
        actor=Actor(arn="arn:aws:iam::111111111111:user/alice", user_name="alice"),
        state=state,
        attributes=(("size", "100"),),
    )


STREAM = StreamId(KEY.account_id, KEY.region, "read_only=false")
WHERE = (KEY.account_id, KEY.region)


def page(
    facts: list[Fact],
    done: Slice,
    remaining: Slice | None = None,
    spawned: tuple[Work, ...] = (),
) -> Page:
    return Page(
        stream=STREAM,
        slice=done,
        facts=tuple(facts),
        events_read=len(facts) + 3,
        remaining=remaining,
        spawned=spawned,
    )


WINDOW = Slice(T0, T0 + timedelta(hours=1))


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    return await Store.open(tmp_path / "state.db")


def test_fact_round_trips_through_json() -> None:
    original = fact("e1", Change.STATE, 3, state="stopped")
    assert fact_from_dict(fact_to_dict(original)) == original


async def test_duplicate_events_are_stored_once(store: Store) -> None:
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    created = fact("e1")
    await store.apply(page([created], WINDOW, Slice(T0, T0)))
    await store.apply(page([created], Slice(T0, T0)))
    assert await store.facts(KEY) == [created]
    assert len(await store.all_facts()) == 1
    assert await store.lifecycle(KEY) == Lifecycle(KEY, created=created)
    await store.close()


async def test_checkpoint_moves_only_when_every_slice_is_read(store: Store) -> None:
    half = Slice(T0, T0 + timedelta(minutes=30))
    other = Slice(T0 + timedelta(minutes=30), WINDOW.end)
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    await store.apply(page([], WINDOW, half, (Work(STREAM, other),)))
    state = (await store.regions())[WHERE]
    assert state.checkpoint is None
    assert set(state.pending) == {Work(STREAM, half), Work(STREAM, other)}
    await store.apply(page([], half))
    assert (await store.regions())[WHERE].checkpoint is None
    await store.apply(page([], other))
    state = (await store.regions())[WHERE]
    assert state.checkpoint == WINDOW.end
    assert state.pending == ()
    assert state.target_end is None
    await store.close()


async def test_work_handed_to_other_streams_keeps_the_checkpoint_back(store: Store) -> None:
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    names = [StreamId(KEY.account_id, KEY.region, f"event_name={n}") for n in ("A", "B")]
    rest = Slice(T0, T0 + timedelta(minutes=50))
    await store.apply(page([], WINDOW, None, tuple(Work(n, rest) for n in names)))
    assert (await store.regions())[WHERE].checkpoint is None
    for name in names:
        await store.apply(Page(name, rest, (), 0, None))
    assert (await store.regions())[WHERE].checkpoint == WINDOW.end
    await store.close()


async def test_a_new_scan_keeps_work_left_by_an_unfinished_one(store: Store) -> None:
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    later = Slice(WINDOW.end - timedelta(minutes=15), WINDOW.end + timedelta(hours=1))
    await store.begin_region(KEY.account_id, KEY.region, later.end, [Work(STREAM, later)])
    state = (await store.regions())[WHERE]
    # The new window overlaps the work left pending: the two are read as one slice.
    joined = Slice(WINDOW.start, later.end)
    assert state.pending == (Work(STREAM, joined),)
    assert state.target_end == later.end
    await store.apply(page([], joined))
    assert (await store.regions())[WHERE].checkpoint == later.end
    await store.close()


async def test_counters_commit_with_pages_and_scans(store: Store) -> None:
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    await store.apply(page([fact("e1")], WINDOW))
    scan = await store.begin_scan(T0)
    await store.finish_scan(
        scan,
        finished_at=T0 + timedelta(seconds=5),
        outcome="ok",
        stats={"api_calls": 1},
        errors=[],
        succeeded=[(KEY.account_id, KEY.region)],
    )
    values = {(c.name, c.label): c.value for c in await store.counters()}
    assert values == {("lookup_requests", "ok"): 1, ("events", ""): 4}
    assert (await store.regions())[WHERE].last_success == T0 + timedelta(seconds=5)
    [history] = await store.scans()
    assert (history.outcome, history.stats) == ("ok", {"api_calls": 1})
    await store.close()


async def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.db")
    await store.close()
    connection = sqlite3.connect(tmp_path / "state.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


async def test_state_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = await Store.open(path)
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    await store.apply(page([fact("e1"), fact("e2", Change.DELETE, 5)], WINDOW))
    await store.close()
    reopened = await Store.open(path)
    [lifecycle] = await reopened.lifecycles()
    assert lifecycle.deleted is not None
    assert (await reopened.regions())[WHERE].checkpoint == WINDOW.end
    await reopened.close()


#: An event: its name, its time (minutes, and whether it has a fraction of a second: the stored
#: time text has none when it is zero), and the facts it states (a change of a resource, and a
#: state to tell apart two facts of one event, resource and change).
events = st.tuples(
    st.sampled_from(["e1", "e2", "e3", "e4", "e5"]),
    st.integers(0, 4),  # few times: many facts of one time, told apart by event id
    st.booleans(),
    st.lists(
        st.tuples(
            st.sampled_from(list(Change)),
            st.sampled_from(["vol-1", "vol-2"]),
            st.sampled_from(["a", "b"]),
        ),
        min_size=1,
        max_size=3,
    ),
)
EventSpec = tuple[str, int, bool, list[tuple[Change, str, str]]]


def event_facts(spec: EventSpec) -> list[Fact]:
    """The facts of one event: its id names its time, so that an event read again (here with
    other facts) has the time it had; events of one time differ by id."""
    name, minute, fraction, found = spec
    time = T0 + timedelta(minutes=minute, microseconds=250_000 if fraction else 0)
    event_id = f"{name}-{minute}-{fraction}"
    return [
        Fact(
            key=ResourceKey(KEY.account_id, KEY.region, KEY.resource_type, resource_id),
            change=change,
            time=time,
            event_id=event_id,
            event_name="X",
            state=state,
        )
        for change, resource_id, state in found
    ]


def first_reading(batches: list[list[list[EventSpec]]]) -> list[Fact]:
    """What the store keeps: an event's facts from the first page that reads it, once per
    (resource, change)."""
    kept: dict[str, dict[tuple[ResourceKey, Change], Fact]] = {}
    for pages in batches:
        for specs in pages:
            in_page: dict[str, dict[tuple[ResourceKey, Change], Fact]] = {}
            for one in (f for spec in specs for f in event_facts(spec)):
                if one.event_id not in kept:
                    in_page.setdefault(one.event_id, {}).setdefault((one.key, one.change), one)
            kept.update(in_page)
    return [one for facts in kept.values() for one in facts.values()]


def _fact_sort(one: Fact) -> tuple[object, ...]:
    return (one.time, one.event_id, one.change.value, one.key)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(st.lists(st.lists(events, max_size=6), min_size=1, max_size=3), max_size=4))
async def test_stored_lifecycles_equal_pairing_over_all_facts(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[list[EventSpec]]]
) -> None:
    store = await Store.open(tmp_path_factory.mktemp("s") / "state.db")
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    for pages in batches:
        facts = [[f for spec in specs for f in event_facts(spec)] for specs in pages]
        await store.apply_many([page(found, WINDOW, WINDOW) for found in facts])
    stored_facts = await store.all_facts()
    assert sorted(stored_facts, key=_fact_sort) == sorted(first_reading(batches), key=_fact_sort)
    stored = {lc.key: lc for lc in await store.lifecycles()}
    expected: dict[ResourceKey, Lifecycle] = {}
    for one in stored_facts:
        expected[one.key] = merge(expected.get(one.key), one)
    assert stored == expected
    for key, lifecycle in expected.items():
        assert await store.lifecycle(key) == lifecycle
    await store.close()


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


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(path)
    tables = ("facts", "lifecycles", "pending", "checkpoints", "counters")
    dump = {t: sorted(connection.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
    connection.close()
    return dump


def _chain() -> list[Page]:
    """Pages of one slice read newest first, events read twice, a slice split off midway."""
    other = ResourceKey(KEY.account_id, KEY.region, KEY.resource_type, "vol-2")
    cuts = [WINDOW.end - timedelta(minutes=10 * n) for n in range(6)]
    spawned = (Work(STREAM, Slice(T0, T0 + timedelta(minutes=5))),)
    facts = [
        [fact("e1", Change.CREATE, 1), fact("e2", Change.DELETE, 9, other)],
        [fact("e2", Change.DELETE, 9, other), fact("e3", Change.STATE, 4, state="in-use")],
        [fact("e4", Change.CREATE, 2, other), fact("e1", Change.CREATE, 1)],
        [],
        [fact("e5", Change.DELETE, 7), fact("e6", Change.STATE, 3, state="available")],
    ]
    pages = []
    for n, found in enumerate(facts):
        current = Slice(WINDOW.start, cuts[n])
        remaining = Slice(WINDOW.start, cuts[n + 1]) if n < len(facts) - 1 else None
        pages.append(page(found, current, remaining, spawned if n == 2 else ()))
    return [*pages, page([fact("e7", Change.CREATE, 3)], spawned[0].slice)]


@pytest.mark.parametrize("sizes", [(6,), (2, 4), (1, 3, 2), (5, 1)])
async def test_pages_applied_in_batches_store_what_one_by_one_stores(
    tmp_path: Path, sizes: tuple[int, ...]
) -> None:
    pages = _chain()
    assert sum(sizes) == len(pages)
    dumps = []
    for name, batches in (("one", [1] * len(pages)), ("many", list(sizes))):
        store = await Store.open(tmp_path / f"{name}.db")
        await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
        start = 0
        for size in batches:
            if name == "one":
                await store.apply(pages[start])
            else:
                await store.apply_many(pages[start : start + size])
            start += size
        await store.close()
        dumps.append(_dump(tmp_path / f"{name}.db"))
    assert dumps[0] == dumps[1]
    assert len({event_id for _, _, event_id, *_ in dumps[0]["facts"]}) == 7
    assert dumps[0]["pending"] == []
    assert dumps[0]["checkpoints"][0][2] is not None  # the region is read to its target


def test_facts_and_lifecycles_encode_as_their_dicts() -> None:
    from datetime import timezone

    import orjson

    from scanner.store.codec import fact_json

    other = ResourceKey(KEY.account_id, KEY.region, "rds.db_instance", "db-2")
    renamed = Fact(
        key=other,
        change=Change.CREATE,
        time=T0 + timedelta(seconds=1, microseconds=250),
        event_id="e9",
        event_name="ModifyDBInstance",
        actor=Actor(arn=None, user_name="bob", source_ip="10.0.0.1", user_agent="ua"),
        name="db-2",
        arn="arn:aws:rds:eu-west-1:111111111111:db:db-2",
        attributes=(("engine", "postgres"), ("size", "db.t3.micro")),
        renamed_from=ResourceKey(KEY.account_id, KEY.region, "rds.db_instance", "db-1"),
    )
    elsewhere = fact("e8", Change.STATE, 2, state="stopped")
    elsewhere = Fact(
        **{
            **fact_to_dict_fields(elsewhere),
            "time": elsewhere.time.astimezone(timezone(timedelta(hours=2))),
        }
    )
    for one in (fact("e1"), fact("e2", Change.STATE, 3, state="x"), renamed, elsewhere):
        assert fact_json(one) == orjson.dumps(fact_to_dict(one))
        assert fact_from_dict(orjson.loads(fact_json(one))) == one
    lifecycle = Lifecycle(key=KEY, created=fact("e1"), state_change=elsewhere)
    assert lifecycle_of(lifecycle_blob(lifecycle)) == lifecycle


def lifecycle_blob(lifecycle: Lifecycle) -> bytes:
    """A lifecycle as schema v2 stored it (whole facts in one JSON body), to write old files."""
    import orjson

    def encoded(one: Fact | None) -> dict[str, object] | None:
        return fact_to_dict(one) if one else None

    key = lifecycle.key
    return orjson.dumps(
        {
            "key": {"account_id": key.account_id, "region": key.region,
                    "resource_type": key.resource_type, "resource_id": key.resource_id},
            "created": encoded(lifecycle.created),
            "deleted": encoded(lifecycle.deleted),
            "state_change": encoded(lifecycle.state_change),
        }
    )  # fmt: skip


def lifecycle_of(blob: bytes) -> Lifecycle:
    """Read back a schema v2 lifecycle body."""
    import orjson

    data = orjson.loads(blob)
    return Lifecycle(
        key=ResourceKey(**data["key"]),
        created=fact_from_dict(data["created"]) if data["created"] else None,
        deleted=fact_from_dict(data["deleted"]) if data["deleted"] else None,
        state_change=fact_from_dict(data["state_change"]) if data["state_change"] else None,
    )


def fact_to_dict_fields(one: Fact) -> dict[str, object]:
    return {name: getattr(one, name) for name in one.__dataclass_fields__}


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
    assert sorted(await store.all_facts(), key=_fact_sort) == sorted(written, key=_fact_sort)
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


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(2000, 1, 1),
            max_value=datetime(2100, 1, 1),
            timezones=st.sampled_from([UTC]),
        ),
        min_size=2,
    )
)
def test_stored_time_text_sorts_as_the_times_do(times: list[datetime]) -> None:
    """The write path compares held facts by their stored time text (whole seconds have no
    fraction, "+" sorts before "."): it must order exactly as the times themselves."""

    whole = [t.replace(microsecond=0) for t in times]
    everything = times + whole
    assert sorted(everything, key=time_text) == sorted(everything)
