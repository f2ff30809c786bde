"""Lifecycles as a whole: what changed since a mark (incremental snapshots build the same as a
full one), and the expiry of lifecycles deleted longer ago than the retention."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from scanner.catalog import load_catalog
from scanner.lifecycle import Change, Fact, ResourceKey
from scanner.pages import Page
from scanner.plan import Work
from scanner.rebuild import build_snapshot
from scanner.settings import Settings
from scanner.store import Store
from tests.store.builders import STREAM, T0, WINDOW, fact

DAY = 24 * 60  # minutes


def key(resource_id: str) -> ResourceKey:
    return ResourceKey(STREAM.account_id, STREAM.region, "ec2.volume", resource_id)


def of(resource_id: str, event_id: str, change: Change, days: int) -> Fact:
    return replace(fact(event_id, change, days * DAY), key=key(resource_id))


async def apply(store: Store, *facts: Fact) -> None:
    await store.apply(Page(STREAM, WINDOW, tuple(facts), len(facts), None))


async def test_only_lifecycles_deleted_before_the_cutoff_expire(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.db")
    renamed = replace(
        of("vol-new-name", "e-rename", Change.CREATE, 10), renamed_from=key("vol-old-name")
    )
    await apply(
        store,
        of("vol-gone", "e1", Change.CREATE, 0),
        of("vol-gone", "e2", Change.DELETE, 10),
        of("vol-gone", "e3", Change.STATE, 5),
        of("vol-alive", "e4", Change.CREATE, 0),
        of("vol-recent", "e5", Change.CREATE, 0),
        of("vol-recent", "e6", Change.DELETE, 300),
        of("vol-again", "e7", Change.CREATE, 0),
        of("vol-again", "e8", Change.DELETE, 10),
        of("vol-again", "e9", Change.CREATE, 250),
        of("vol-old-name", "e10", Change.CREATE, 0),
        replace(of("vol-old-name", "e-rename", Change.DELETE, 10)),
        renamed,
        of("vol-newest", "e11", Change.DELETE, 20),  # holds the newest fact
    )
    before = len(await store.all_facts())
    expired = await store.expire(T0 + timedelta(days=200))
    assert expired == [key("vol-gone")]
    left = {lc.key.resource_id for lc in await store.lifecycles()}
    assert left == {
        "vol-alive",
        "vol-recent",
        "vol-again",
        "vol-old-name",
        "vol-new-name",
        "vol-newest",
    }
    assert len(await store.all_facts()) == before - 3
    assert await store.expire(T0 + timedelta(days=200)) == []
    await store.close()


async def test_an_incremental_snapshot_is_the_full_one(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.db")
    catalog = load_catalog()
    settings = Settings()
    now = T0 + timedelta(days=400)
    scan = await store.begin_scan(now)
    await store.begin_region(STREAM.account_id, STREAM.region, now, [])  # read in full
    await store.finish_scan(scan, finished_at=now, outcome="ok", stats={}, errors=[])
    await apply(
        store,
        of("vol-1", "e1", Change.CREATE, 0),
        of("vol-2", "e2", Change.CREATE, 0),
        of("vol-3", "e3", Change.CREATE, 0),
        of("vol-3", "e4", Change.DELETE, 1),
    )
    first = await build_snapshot(store, catalog, settings, now)
    assert first is not None
    mark, changed = await store.lifecycles_since(first.fact_mark)
    assert (mark, changed) == (first.fact_mark, [])
    await apply(store, of("vol-1", "e5", Change.DELETE, 2), of("vol-4", "e6", Change.CREATE, 2))
    mark, changed = await store.lifecycles_since(first.fact_mark)
    assert [lc.key.resource_id for lc in changed] == ["vol-1", "vol-4"]
    expired = await store.expire(T0 + timedelta(hours=36))
    assert expired == [key("vol-3")]
    again = await build_snapshot(store, catalog, settings, now, previous=first, expired=expired)
    full = await build_snapshot(store, catalog, settings, now)
    assert again is not None
    assert full is not None
    assert [e.key.resource_id for e in again.entries] == ["vol-2", "vol-4"]
    assert again.entries == full.entries
    assert again.lifecycles == full.lifecycles
    assert again.metrics == full.metrics
    assert again.fact_mark == full.fact_mark == mark
    await store.close()


async def test_incremental_snapshots_stay_the_full_one_through_renames_and_gaps(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "state.db")
    catalog = load_catalog()
    settings = Settings()
    now = T0 + timedelta(days=400)
    rng = random.Random(5)
    names = [f"vol-{n}" for n in range(8)]
    snapshot = None
    for round_ in range(12):
        scan = await store.begin_scan(now)
        await store.finish_scan(scan, finished_at=now, outcome="ok", stats={}, errors=[])
        facts = []
        for n in range(5):
            name = rng.choice(names)
            change = rng.choice([Change.CREATE, Change.CREATE, Change.DELETE, Change.STATE])
            one = of(name, f"e{round_}-{n}", change, rng.randint(0, 300))
            if change is Change.CREATE and rng.random() < 0.3:  # a rename from another name
                one = replace(one, renamed_from=key(rng.choice(names)))
            facts.append(replace(one, state="stopped") if change is Change.STATE else one)
        await apply(store, *facts)  # (its page reads WINDOW: a gap there is closed)
        gap = [Work(STREAM, WINDOW)] if round_ % 3 == 1 else []  # a gap every third round
        await store.begin_region(STREAM.account_id, STREAM.region, now, gap)
        expired = await store.expire(T0 + timedelta(days=rng.choice([0, 100])))
        snapshot = await build_snapshot(
            store, catalog, settings, now, previous=snapshot, expired=expired
        )
        full = await build_snapshot(store, catalog, settings, now)
        assert snapshot is not None
        assert full is not None
        assert snapshot.entries == full.entries, round_
        assert snapshot.incomplete == full.incomplete, round_
        assert snapshot.lifecycles == full.lifecycles, round_
        assert snapshot.metrics == full.metrics, round_
        assert bool(snapshot.unread) == bool(gap)
        shown = [e.key for e in (*snapshot.entries, *snapshot.incomplete)]
        assert shown, "some resource should be alive"
    await store.close()
