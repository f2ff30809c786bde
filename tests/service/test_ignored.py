"""Ignore rules in the service's snapshots: an ignored leftover leaves the entries and the
metrics, is listed with its rule's reason, and a tag added later is seen by an incremental
snapshot exactly as by a full one."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from scanner.catalog import load_catalog
from scanner.ignore import parse_ignore_rules
from scanner.lifecycle import Change, Fact, tag_key
from scanner.rebuild import build_snapshot
from scanner.settings import Settings
from scanner.store import Store
from tests.store.builders import STREAM, T0
from tests.store.test_turnover import apply, key, of

RULES = [{"reason": "sandboxes are cleaned nightly", "tags": {"env": "sand*"}}]


def tag(resource_id: str, event_id: str, name: str, value: str, days: int) -> Fact:
    """A tag's own lifecycle, as pairing keeps it: created with its value."""
    fact = of(resource_id, event_id, Change.CREATE, days)
    return replace(fact, key=tag_key(key(resource_id), name), attributes=(("value", value),))


async def test_a_tag_added_later_sets_a_leftover_apart_in_an_incremental_snapshot(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "state.db")
    catalog = load_catalog()
    settings = replace(Settings(), ignore=parse_ignore_rules(RULES, "test"))
    now = T0 + timedelta(days=30)
    scan = await store.begin_scan(now)
    await store.begin_region(STREAM.account_id, STREAM.region, now, [])  # read in full
    await store.finish_scan(scan, finished_at=now, outcome="ok", stats={}, errors=[])
    await apply(store, of("vol-1", "e1", Change.CREATE, 0), of("vol-2", "e2", Change.CREATE, 0))
    first = await build_snapshot(store, catalog, settings, now)
    assert first is not None
    assert [e.key.resource_id for e in first.entries] == ["vol-1", "vol-2"]
    assert first.ignored == ()

    await apply(store, tag("vol-2", "e3", "env", "sandbox-7", 1))  # CreateTags, a day later
    again = await build_snapshot(store, catalog, settings, now, previous=first)
    full = await build_snapshot(store, catalog, settings, now)
    assert again is not None
    assert full is not None
    assert [e.key.resource_id for e in again.entries] == ["vol-1"]
    assert [(e.key.resource_id, e.item["ignored_reason"]) for e in again.ignored] == [
        ("vol-2", "sandboxes are cleaned nightly")
    ]
    assert again.ignored[0].item["tags"] == {"env": "sandbox-7"}
    assert sum(again.metrics.resources.values()) == 1  # the ignored one is in no count
    assert (again.entries, again.ignored, again.metrics) == (
        full.entries,
        full.ignored,
        full.metrics,
    )

    # The tag is removed (DeleteTags): the volume is a leftover again.
    untag = replace(of("vol-2", "e4", Change.DELETE, 2), key=tag_key(key("vol-2"), "env"))
    await apply(store, untag)
    last = await build_snapshot(store, catalog, settings, now, previous=again)
    assert last is not None
    assert [e.key.resource_id for e in last.entries] == ["vol-1", "vol-2"]
    assert "ignored_reason" not in last.entries[1].item
    assert last.ignored == ()
    await store.close()
