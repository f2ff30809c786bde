"""How much of each (account, region)'s window a running scan has read, and when it may end.

Counted in time, from the pages as they are applied: a page reads from its slice's end back
to the oldest event it reached; what is left of the slice, and slices cut off it for other
chains (older pieces, or `EventName` chains replacing a write chain), are still to read.
A slice is known from its first page, so a region's share grows as its chains start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scanner.pages import Page, Sink
from scanner.plan import Slice

Key = tuple[str, str]


@dataclass(slots=True)
class RegionCoverage:
    """Seconds of the window read and still to read in one (account, region)."""

    read: float = 0.0
    left: float = 0.0
    known: set[tuple[str, datetime]] = field(default_factory=set)

    @property
    def fraction(self) -> float:
        total = self.read + self.left
        return self.read / total if total > 0 else 0.0

    def eta(self, elapsed: float) -> timedelta | None:
        """Time still needed at the pace of the `elapsed` seconds so far (None: no pace yet,
        or done)."""
        if self.read <= 0 or self.left <= 0:
            return None
        return timedelta(seconds=elapsed * self.left / self.read)


def _seconds(part: Slice | None) -> float:
    return 0.0 if part is None else max(0.0, part.seconds)


@dataclass(slots=True)
class Coverage:
    """The coverage of every (account, region) seen so far, since the scan started."""

    clock: Callable[[], datetime]
    regions: dict[Key, RegionCoverage] = field(default_factory=dict)
    started: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def observe(self, page: Page) -> None:
        stream = page.stream
        region = self.regions.setdefault((stream.account_id, stream.region), RegionCoverage())
        identity = (stream.name, page.slice.end)
        if identity not in region.known:  # a slice of the plan: its first page
            region.left += _seconds(page.slice)
        region.known.discard(identity)
        if page.remaining is not None:
            reached = page.remaining.end
        elif page.spawned:
            reached = max(work.slice.end for work in page.spawned)
        else:
            reached = page.slice.start
        region.read += max(0.0, (page.slice.end - reached).total_seconds())
        region.left -= _seconds(page.slice)
        for part in (page.remaining, *(work.slice for work in page.spawned)):
            region.left += _seconds(part)
        if page.remaining is not None:
            region.known.add((stream.name, page.remaining.end))
        for work in page.spawned:
            region.known.add((work.stream.name, work.slice.end))
        region.left = max(0.0, region.left)

    def region_eta(self, key: Key, now: datetime) -> timedelta | None:
        """How long one region may still take (None: not known)."""
        region = self.regions.get(key)
        return None if region is None else region.eta((now - self.started).total_seconds())

    def eta(self, now: datetime) -> timedelta | None:
        """How long the slowest region may still take."""
        etas = [e for key in self.regions if (e := self.region_eta(key, now)) is not None]
        return max(etas) if etas else None


class CoverageSink:
    """A sink that tells `coverage` about each page before handing it on."""

    def __init__(self, inner: Sink, coverage: Coverage) -> None:
        self.inner = inner
        self.coverage = coverage

    async def apply(self, page: Page) -> None:
        self.coverage.observe(page)
        await self.inner.apply(page)

    async def apply_many(self, pages: Sequence[Page]) -> None:
        for page in pages:
            self.coverage.observe(page)
        await self.inner.apply_many(pages)
