"""Pending slices, checkpoints and counters: they move only with the pages read."""

from __future__ import annotations

from datetime import timedelta

from scanner.pages import Page
from scanner.plan import Slice, StreamId, Work
from scanner.store import Store
from tests.store.builders import KEY, STREAM, T0, WHERE, WINDOW, fact, page


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
