"""Facts and lifecycles in SQLite: dedup by EventId, lifecycles equal to pairing, batches."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.lifecycle import Change, Fact, Lifecycle, ResourceKey
from scanner.pages import Page
from scanner.pairing import merge
from scanner.plan import Slice, Work
from scanner.store import Store
from tests.store.builders import KEY, STREAM, T0, WINDOW, fact, fact_order, page


async def test_duplicate_events_are_stored_once(store: Store) -> None:
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    created = fact("e1")
    await store.apply(page([created], WINDOW, Slice(T0, T0)))
    await store.apply(page([created], Slice(T0, T0)))
    assert await store.facts(KEY) == [created]
    assert len(await store.all_facts()) == 1
    assert await store.lifecycle(KEY) == Lifecycle(KEY, created=created)
    await store.close()


async def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.db")
    await store.close()
    connection = sqlite3.connect(tmp_path / "state.db")
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


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
    assert sorted(stored_facts, key=fact_order) == sorted(first_reading(batches), key=fact_order)
    stored = {lc.key: lc for lc in await store.lifecycles()}
    expected: dict[ResourceKey, Lifecycle] = {}
    for one in stored_facts:
        expected[one.key] = merge(expected.get(one.key), one)
    assert stored == expected
    for key, lifecycle in expected.items():
        assert await store.lifecycle(key) == lifecycle
    await store.close()


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
