"""Building the snapshot of the store after a scan, from what changed since the previous one.

The store is asked only for the lifecycles holding facts stored since the previous snapshot
(facts are numbered in the order they are stored); only those, the expired ones and the ones
created by a rename (whose leftover depends on another lifecycle) are looked at again, and the
rest of the previous snapshot's entries are kept as they are. The assembling runs in a worker
thread: neither the store's thread nor the event loop is held for long.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import partial

import anyio.to_thread

from scanner.catalog import Catalog
from scanner.ignore import IgnoreRule
from scanner.lifecycle import Lifecycle, ResourceKey, tagged_resource
from scanner.pages import ScanStats
from scanner.pairing import leftovers
from scanner.plan import Slice
from scanner.report import (
    Leftover,
    ReportFilter,
    Unread,
    ignored_by,
    incomplete_json,
    leftover_of,
    tags_by_resource,
    where,
)
from scanner.settings import Settings
from scanner.snapshot import Entry, Snapshot, metric_values
from scanner.store import CounterValue, RegionState, ScanRecord, Store
from scanner.verify import GONE_REASON, Verdict


def unread_of(
    states: Mapping[tuple[str, str], RegionState], places: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The regions not read in full, with why: those the store says so of, and those of
    `places` (where it holds resources) that it does not know as read at all."""
    unread = {place: state.unread for place, state in states.items() if state.unread}
    for place in places:
        if place not in states:
            unread.setdefault(place, "never read in full")
    return unread


@dataclass(frozen=True, slots=True)
class _Read:
    """What a snapshot is built from, as read from the store."""

    last: ScanRecord
    changed: Sequence[Lifecycle]
    fact_mark: int
    states: Mapping[tuple[str, str], RegionState]
    counters: Sequence[CounterValue]


def _leftovers_among(
    lifecycles: Mapping[ResourceKey, Lifecycle],
    keys: Iterable[ResourceKey],
    catalog: Catalog,
    tags: Mapping[ResourceKey, Mapping[str, str]],
) -> dict[ResourceKey, Leftover]:
    """The leftovers among `keys`, renames followed through `lifecycles`, with their tags."""
    around: dict[ResourceKey, Lifecycle] = {}
    wanted = set(keys)
    for key in wanted:
        lifecycle = lifecycles.get(key)
        while lifecycle is not None and lifecycle.key not in around:  # the rename chain
            around[lifecycle.key] = lifecycle
            origin = lifecycle.created.renamed_from if lifecycle.created else None
            lifecycle = lifecycles.get(origin) if origin else None
    found = (
        leftover_of(lc, catalog, tags.get(lc.key)) for lc in leftovers(around) if lc.key in wanted
    )
    return {item.key: item for item in found if item is not None}


def _renamed_from(
    renamed: Iterable[ResourceKey],
    touched: set[ResourceKey],
    before: Mapping[ResourceKey, Lifecycle],
) -> set[ResourceKey]:
    """The lifecycles created by a rename whose rename chain (as it was `before`) reaches a
    touched lifecycle: their leftover inherits from it."""
    found = set()
    for key in renamed:
        seen = {key}
        lifecycle = before.get(key)
        while lifecycle is not None and lifecycle.created and lifecycle.created.renamed_from:
            origin = lifecycle.created.renamed_from
            if origin in touched:
                found.add(key)
                break
            if origin in seen:
                break
            seen.add(origin)
            lifecycle = before.get(origin)
    return found


def _entries(
    items: Iterable[Leftover],
    unread: Unread,
    reuse: Mapping[ResourceKey, Entry],
    now: datetime,
) -> tuple[list[Entry], list[Entry]]:
    """Leftover and incomplete entries, sorted; an entry of `reuse` is kept as it is."""
    entries: list[Entry] = []
    incomplete: list[Entry] = []
    for item in items:
        entry = reuse.get(item.key)
        reason = unread.get(where(item.key))
        if entry is None:
            json = item.to_json(now) if reason is None else incomplete_json(item, reason, now)
            entry = Entry(item, json)
        (entries if reason is None else incomplete).append(entry)
    entries.sort(key=lambda e: e.sort_key)
    incomplete.sort(key=lambda e: e.sort_key)
    return entries, incomplete


def _verified(
    entries: list[Entry], verdicts: Mapping[ResourceKey, Verdict] | None, now: datetime
) -> tuple[list[Entry], list[Entry]]:
    """The entries with their live check's verdict, and those it found gone (their item with
    the reason). An entry whose verdict is unchanged is kept as it is."""
    if verdicts is None:
        return entries, []
    kept: list[Entry] = []
    gone: list[Entry] = []
    for before in entries:
        verdict = verdicts.get(before.key, before.leftover.verification)
        entry = before
        if verdict is not before.leftover.verification or "reason" in before.item:  # was gone
            leftover = replace(before.leftover, verification=verdict)
            entry = Entry(leftover, leftover.to_json(now))
        if verdict is not None and verdict.outcome == "gone":
            gone.append(Entry(entry.leftover, {**entry.item, "reason": GONE_REASON}))
        else:
            kept.append(entry)
    return kept, gone


def _set_apart(
    entries: list[Entry], ignore: Sequence[IgnoreRule], now: datetime
) -> tuple[list[Entry], list[Entry]]:
    """The entries no ignore rule matches, and those one does (its reason in their JSON).
    Looked at on every snapshot: a rule's `min_age` lets a leftover in as it ages."""
    if not ignore:
        return entries, []
    kept: list[Entry] = []
    ignored: list[Entry] = []
    for entry in entries:
        reason = ignored_by(ignore, entry.leftover, now)
        if reason is None:
            again = "ignored_reason" in entry.item  # ignored before (min_age): its own item again
            kept.append(Entry(entry.leftover, entry.leftover.to_json(now)) if again else entry)
        else:
            ignored.append(Entry(entry.leftover, {**entry.item, "ignored_reason": reason}))
    return kept, ignored


def _assemble(
    read: _Read,
    *,
    previous: Snapshot | None,
    expired: Iterable[ResourceKey],
    verdicts: Mapping[ResourceKey, Verdict] | None,
    catalog: Catalog,
    settings: Settings,
    now: datetime,
    regions: Iterable[tuple[str, str]],
) -> Snapshot:
    """The snapshot (CPU only: run in a worker thread). From a previous one, only the changed
    and expired lifecycles, and those renamed from them, are looked at again."""
    lifecycles = dict(previous.lifecycles) if previous is not None else {}
    touched = set(expired)
    for key in touched:
        lifecycles.pop(key, None)
    lifecycles.update((lc.key, lc) for lc in read.changed)
    touched.update(lc.key for lc in read.changed)
    # A tag's own lifecycle that changed (a later CreateTags, say) changes its resource's item.
    touched.update(named[0] for key in list(touched) if (named := tagged_resource(key)))
    tags = tags_by_resource(lifecycles)
    changed_renamed = {lc.key for lc in read.changed if lc.created and lc.created.renamed_from}
    renamed = ((previous.renamed if previous else frozenset()) - touched) | changed_renamed
    if previous is None:
        types_seen: set[tuple[str, str, str]] = set()
        items = _leftovers_among(lifecycles, lifecycles, catalog, tags)
        reuse: dict[ResourceKey, Entry] = {}
    else:
        types_seen = set(previous.types_seen)
        look_again = touched | _renamed_from(renamed, touched, previous.lifecycles)
        earlier = (*previous.entries, *previous.incomplete, *previous.ignored, *previous.gone)
        items = {e.key: e.leftover for e in earlier}
        for key in look_again:
            items.pop(key, None)
        items.update(_leftovers_among(lifecycles, look_again, catalog, tags))
        reuse = {e.key: e for e in earlier if e.key not in look_again}
    types_seen.update(
        (lc.key.account_id, lc.key.region, lc.key.resource_type)
        for lc in (read.changed if previous else lifecycles.values())
        if lc.key.resource_type in catalog.types
    )
    unread = unread_of(read.states, {(account, region) for account, region, _ in types_seen})
    if previous is not None:  # an entry whose region's reason changed is made again
        before = previous.unread
        reuse = {k: e for k, e in reuse.items() if unread.get(where(k)) == before.get(where(k))}
    if settings.user_name:
        only = ReportFilter.of(created_by=[settings.user_name])
        items = {key: item for key, item in items.items() if only.keeps(item, now)}
    entries, incomplete = _entries(items.values(), unread, reuse, now)
    entries, gone = _verified(entries, verdicts, now)
    entries, ignored = _set_apart(entries, settings.ignore, now)
    last = read.last
    finished = last.finished_at or now
    window = Slice(finished - timedelta(days=settings.lookback_days), finished)
    services = {name: t.service for name, t in catalog.types.items()}
    values = metric_values(
        entries=entries,
        types_seen=types_seen,
        services=services,
        default_states={name: t.default_state for name, t in catalog.types.items()},
        counters=read.counters,
        last_success={place: state.last_success for place, state in read.states.items()},
        regions=regions,
        scan_duration_seconds=(finished - last.started_at).total_seconds(),
        unread=unread,
    )
    return Snapshot(
        generated_at=finished,
        window_start=window.start,
        window_end=window.end,
        entries=tuple(entries),
        lifecycles=lifecycles,
        services=services,
        errors=tuple(last.errors),
        stats={**asdict(ScanStats(0, 0, 0, 0, 0.0)), **last.stats},
        metrics=values,
        scan_id=last.scan_id,
        outcome=last.outcome or "unknown",
        incomplete=tuple(incomplete),
        ignored=tuple(ignored),
        gone=tuple(gone),
        verified_gone=None if verdicts is None else tuple(e.item for e in gone),
        unread=unread,
        fact_mark=read.fact_mark,
        types_seen=frozenset(types_seen),
        renamed=renamed,
    )


async def build_snapshot(
    store: Store,
    catalog: Catalog,
    settings: Settings,
    now: datetime,
    regions: Iterable[tuple[str, str]] = (),
    *,
    previous: Snapshot | None = None,
    expired: Iterable[ResourceKey] = (),
    verdicts: Mapping[ResourceKey, Verdict] | None = None,
) -> Snapshot | None:
    """The snapshot of the store after its last finished scan (None if no scan ever finished).

    With `previous`, only the lifecycles with facts stored since it are read; `expired` are the
    lifecycles the store dropped since (retention); `verdicts`, the live checks to apply (None:
    verification is off)."""
    last = await store.last_finished_scan()
    if last is None:
        return None
    fact_mark, changed = await store.lifecycles_since(previous.fact_mark if previous else 0)
    read = _Read(last, changed, fact_mark, await store.regions(), await store.counters())
    return await anyio.to_thread.run_sync(
        partial(
            _assemble,
            read,
            previous=previous,
            expired=tuple(expired),
            verdicts=None if verdicts is None else dict(verdicts),
            catalog=catalog,
            settings=settings,
            now=now,
            regions=tuple(regions),
        )
    )
