"""What a scan hands on and reports: pages for a Sink, failures as data, stats and progress."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from scanner.lifecycle import Fact, Lifecycle, ResourceKey
from scanner.pairing import merge
from scanner.plan import Slice, StreamId, Work
from scanner.sources import Category


@dataclass(frozen=True, slots=True)
class StreamFailure:
    """A stream that could not be read to the end: why (`reason`, one line), what kind of
    failure (`category`, a fixed label value), and what is left unread of it (`slice`)."""

    account_id: str
    region: str
    stream: str
    reason: str
    category: Category = "other"
    slice: Slice | None = None
    count: int = 1  # how many failures of this region, category and reason this one stands for


def collapse(failures: Iterable[StreamFailure]) -> tuple[StreamFailure, ...]:
    """One failure per (account, region, category, reason), counting the failures it stands
    for (a hung region's chains all fail alike); the first one's stream and slice."""
    rows: dict[tuple[str, str, str, str], StreamFailure] = {}
    for failure in failures:
        key = (failure.account_id, failure.region, failure.category, failure.reason)
        seen = rows.get(key)
        rows[key] = failure if seen is None else replace(seen, count=seen.count + failure.count)
    return tuple(rows.values())


@dataclass(frozen=True, slots=True)
class Page:
    """One applied page of one stream.

    `slice` is the slice as it stood before this page (the slice a pump started with, or the
    previous page's `remaining`); `remaining` is what is still to read of it (None: done);
    `spawned` are the slices split or cut off it for other pumps (by time, or the event-name
    streams that replace the write stream).
    """

    stream: StreamId
    slice: Slice
    facts: tuple[Fact, ...]
    events_read: int
    remaining: Slice | None
    spawned: tuple[Work, ...] = ()
    called: bool = True  # False: a cut made while a call was out (no call, no events)


class Sink(Protocol):
    """Where pages go, in order: one at a time, or as the pages waiting at once (a store applies
    such a batch in one transaction)."""

    async def apply(self, page: Page) -> None: ...

    async def apply_many(self, pages: Sequence[Page]) -> None: ...


@dataclass(frozen=True, slots=True)
class ScanStats:
    """What a scan cost and found."""

    api_calls: int
    throttled: int
    events_read: int
    events_matched: int
    duration_seconds: float
    hedged: int = 0  # calls sent again while the first was still out (included in api_calls)
    retried: int = 0  # calls sent again after a throttled or transient answer (included too)


@dataclass(frozen=True, slots=True)
class ScanResult:
    stats: ScanStats
    failures: tuple[StreamFailure, ...]


@dataclass(slots=True)
class RegionProgress:
    """Live counters of one (account, region), for a progress display."""

    calls: int = 0
    pages: int = 0  # calls whose answer was used (not hedge losers, throttled or failed)
    hedged: int = 0
    retried: int = 0
    throttled: int = 0
    events: int = 0
    matched: int = 0
    active: int = 0
    pending: int = 0
    failed: int = 0
    failed_calls: int = 0  # calls that got an error other than throttling
    #: Calls that got an error (throttled ones too) and chains given up without one (deadline,
    #: crash), by category.
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def done(self) -> bool:
        return self.active == 0 and self.pending == 0


@dataclass(slots=True)
class ScanProgress:
    """Live counters per (account, region); read by displays while the scan runs."""

    regions: dict[tuple[str, str], RegionProgress] = field(default_factory=dict)

    def of(self, stream: StreamId) -> RegionProgress:
        return self.of_key((stream.account_id, stream.region))

    def of_key(self, key: tuple[str, str]) -> RegionProgress:
        return self.regions.setdefault(key, RegionProgress())

    def stats(self, duration_seconds: float) -> ScanStats:
        """The scan's stats: every region's counts added up."""
        regions = self.regions.values()
        return ScanStats(
            api_calls=sum(r.calls for r in regions),
            throttled=sum(r.throttled for r in regions),
            events_read=sum(r.events for r in regions),
            events_matched=sum(r.matched for r in regions),
            duration_seconds=duration_seconds,
            hedged=sum(r.hedged for r in regions),
            retried=sum(r.retried for r in regions),
        )


class MemorySink:
    """The one-shot sink: every fact merged into a lifecycle per resource, in memory."""

    def __init__(self) -> None:
        self.lifecycles: dict[ResourceKey, Lifecycle] = {}

    async def apply(self, page: Page) -> None:
        for fact in page.facts:
            self.lifecycles[fact.key] = merge(self.lifecycles.get(fact.key), fact)

    async def apply_many(self, pages: Sequence[Page]) -> None:
        for page in pages:
            await self.apply(page)
