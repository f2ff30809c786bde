"""The served history: events per (account, region), newest first, indexed for paging."""

from __future__ import annotations

import contextlib
import gc
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from emulator.api.events import ServedEvent, serve_event
from scanner.records import Record

#: Where a page resumes: the (negated time, sequence) of the last event already served.
Cursor = tuple[float, int]

#: Records that name no account wait under this key until the default account is known.
ORPHANS = ""


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause cyclic GC: bulk loads and sorts make millions of long-lived objects, and GC
    passes over them would cost a third of the time and find nothing to free."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@dataclass(frozen=True, slots=True)
class Query:
    """What a LookupEvents call asks for: at most one attribute, an inclusive time range."""

    attribute: tuple[str, str] | None = None
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """Serialised items of one page, and where the next page starts (None: no more)."""

    items: list[bytes]
    cursor: Cursor | None


@dataclass(slots=True)
class AddStats:
    """What adding records did: events added, and duplicates (same eventID) dropped."""

    added: int = 0
    duplicates: int = 0


class Partition:
    """One account-region: items sorted by (time desc, arrival), times for bisect, postings."""

    def __init__(self) -> None:
        self.items: list[bytes] = []
        self.negtimes = array("d")
        self.seqs = array("q")
        self.postings: dict[str, dict[str, array[int]]] = {}
        self._pending: list[tuple[float, int, ServedEvent]] = []

    def __len__(self) -> int:
        return len(self.items) + len(self._pending)

    def add(self, negtime: float, seq: int, event: ServedEvent) -> None:
        """Queue an event; it is sorted in before the next page is served."""
        self._pending.append((negtime, seq, event))

    def take_pending(self) -> list[tuple[float, int, ServedEvent]]:
        """Remove and return the queued events (of a partition never served)."""
        pending, self._pending = self._pending, []
        return pending

    def build(self) -> None:
        """Sort queued events in, and remap the postings of the events already there."""
        if not self._pending:
            return
        with _no_cyclic_gc():
            self._build()

    def _build(self) -> None:
        pending, self._pending = self._pending, []
        old = len(self.items)
        keys = list(zip(self.negtimes, self.seqs, strict=True))
        keys.extend((negtime, seq) for negtime, seq, _ in pending)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        new_pos = [0] * len(order)
        for rank, j in enumerate(order):
            new_pos[j] = rank
        everything = self.items
        everything.extend(event.item for _, _, event in pending)
        self.items = [everything[j] for j in order]
        self.negtimes = array("d", [keys[j][0] for j in order])
        self.seqs = array("q", [keys[j][1] for j in order])
        additions: dict[str, dict[str, list[int]]] = {}
        for k, (_, _, event) in enumerate(pending):
            position = new_pos[old + k]
            for key, value in event.attributes:
                if key != "EventId":
                    additions.setdefault(key, {}).setdefault(value, []).append(position)
        if old:
            for by_value in self.postings.values():
                for value, posting in by_value.items():
                    by_value[value] = array("I", sorted(new_pos[p] for p in posting))
        for key, values in additions.items():
            by_value = self.postings.setdefault(key, {})
            for value, positions in values.items():
                existing = by_value.get(value)
                if existing is not None:
                    positions.extend(existing)
                by_value[value] = array("I", sorted(positions))

    def locate(self, negtime: float, seq: int) -> int | None:
        """The position of one event, or None."""
        i = bisect_left(self.negtimes, negtime)
        j = bisect_right(self.negtimes, negtime, i)
        k = bisect_left(self.seqs, seq, i, j)
        return k if k < j and self.seqs[k] == seq else None

    def bounds(self, query: Query, after: Cursor | None) -> tuple[int, int]:
        """Positions [lo, hi) inside the time range and past the cursor."""
        lo = 0 if query.end is None else bisect_left(self.negtimes, -query.end)
        hi = len(self.items) if query.start is None else bisect_right(self.negtimes, -query.start)
        if after is not None:
            negtime, seq = after
            i = bisect_left(self.negtimes, negtime)
            j = bisect_right(self.negtimes, negtime, i)
            lo = max(lo, bisect_right(self.seqs, seq, i, j))
        return lo, hi

    def page(self, query: Query, after: Cursor | None, limit: int) -> Page:
        """Up to `limit` items from the cursor on; positions come from the postings if filtered."""
        lo, hi = self.bounds(query, after)
        if query.attribute is None:
            positions: Iterable[int] = range(lo, min(hi, lo + limit))
            more = hi > lo + limit
        else:
            key, value = query.attribute
            posting = self.postings.get(key, {}).get(value)
            if posting is None:
                return Page([], None)
            a = bisect_left(posting, lo)
            b = bisect_left(posting, hi, a)
            positions = posting[a : min(b, a + limit)]
            more = b > a + limit
        chosen = list(positions)
        items = [self.items[p] for p in chosen]
        cursor = (self.negtimes[chosen[-1]], self.seqs[chosen[-1]]) if more and chosen else None
        return Page(items, cursor)


class History:
    """Every served event, partitioned by (account, region), de-duplicated by eventID."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._partitions: dict[tuple[str, str], Partition] = {}
        self._where: dict[str, tuple[str, str, float, int]] = {}
        self._seq = 0
        self._owner_of_orphans: str | None = None

    def add(self, records: Iterable[Record | ServedEvent]) -> AddStats:
        """Add records (or events prepared from them); each is served where it names."""
        stats = AddStats()
        with _no_cyclic_gc():
            self._add(records, stats)
        return stats

    def _add(self, records: Iterable[Record | ServedEvent], stats: AddStats) -> None:
        with self._lock:
            for record in records:
                if record.event_id in self._where:
                    stats.duplicates += 1
                    continue
                event = record if isinstance(record, ServedEvent) else serve_event(record)
                account = event.account or self._owner_of_orphans or ORPHANS
                where = (account, event.region)
                partition = self._partitions.get(where)
                if partition is None:
                    partition = self._partitions[where] = Partition()
                self._seq += 1
                partition.add(-event.time, self._seq, event)
                self._where[event.event_id] = (account, event.region, -event.time, self._seq)
                stats.added += 1

    def adopt_orphans(self, account: str) -> None:
        """Serve the records that name no account (and those to come) in `account`."""
        with self._lock:
            self._owner_of_orphans = account
            for (owner, region), orphans in list(self._partitions.items()):
                if owner != ORPHANS:
                    continue
                del self._partitions[(owner, region)]
                target = self._partitions.setdefault((account, region), Partition())
                for negtime, seq, event in orphans.take_pending():
                    target.add(negtime, seq, event)
                    self._where[event.event_id] = (account, region, negtime, seq)

    def page(
        self, account: str, region: str, query: Query, after: Cursor | None, limit: int
    ) -> Page:
        """One page of events of an account-region, newest first."""
        with self._lock:
            partition = self._partitions.get((account, region))
            if partition is None:
                return Page([], None)
            partition.build()
            if query.attribute is not None and query.attribute[0] == "EventId":
                return self._page_by_id(partition, account, region, query, after)
            return partition.page(query, after, limit)

    def _page_by_id(
        self, partition: Partition, account: str, region: str, query: Query, after: Cursor | None
    ) -> Page:
        assert query.attribute is not None
        where = self._where.get(query.attribute[1])
        if where is None or where[:2] != (account, region):
            return Page([], None)
        position = partition.locate(where[2], where[3])
        lo, hi = partition.bounds(query, after)
        if position is None or not lo <= position < hi:
            return Page([], None)
        return Page([partition.items[position]], None)

    def build(self) -> None:
        """Sort and index everything queued now, rather than on the first page of each."""
        with self._lock:
            for partition in self._partitions.values():
                partition.build()

    def accounts(self) -> list[str]:
        """Accounts that have events, sorted."""
        with self._lock:
            return sorted({account for account, _ in self._partitions if account != ORPHANS})

    def regions(self) -> list[str]:
        """Regions that have events, sorted."""
        with self._lock:
            return sorted({region for _, region in self._partitions})

    def counts(self) -> Counter[tuple[str, str]]:
        """Number of events per (account, region)."""
        with self._lock:
            return Counter({key: len(part) for key, part in self._partitions.items()})

    def busiest_account(self) -> str | None:
        """The account with the most events (ties: the smallest id), or None when empty."""
        totals: Counter[str] = Counter()
        for (account, _), count in self.counts().items():
            if account != ORPHANS:
                totals[account] += count
        if not totals:
            return None
        return min(totals, key=lambda account: (-totals[account], account))

    def __len__(self) -> int:
        with self._lock:
            return len(self._where)
