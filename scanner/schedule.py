"""Scheduling per (account, region): its pace, how many chains, when to split, cut or hedge.

The bound on a scan is its slowest account-region's calls / rate, so every token the bucket hands
out must find a call waiting for it. Chains split their rest after a page (`plan.split_count`),
but a chain whose call is out for seconds (us-east-1, a long tail) cannot: a watcher per region
cuts the older part off the largest slice still being read whenever a token goes unused, so that
the start (one chain per stream) and the end (a few long chains) of a region run in parallel.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio

from scanner.logs import get_logger
from scanner.plan import (
    PAGE_SIZE,
    Slice,
    StreamId,
    Work,
    estimate_pages,
    is_write_stream,
    prefer_event_names,
    split,
    split_count,
)
from scanner.sources import SourcePage
from scanner.throttle import TokenBucket

log = get_logger("schedule")

#: A slice is cut only if it still holds at least this many pages (the call out reads one). Not
#: less: the density comes from the pages read so far, and an incremental window's new events
#: are bunched at its newest end, so a lower bar cuts off empty slices (each a call, in
#: us-east-1 a draw from a long-tailed latency that the scan then waits for).
MIN_PAGES_TO_CUT = 1.5
#: The share of a page a cut chain keeps: its call out most likely reads past the cut, so the
#: chain ends with that call instead of waiting on it for a short last page.
KEEP_PAGES = 0.7
#: Before a region has shown its density, a call out this many times the scan's median latency
#: (a slow region's first page) has its slice cut in half blind, so that the region does not
#: start with one call in flight for seconds.
BLIND_CUT_AFTER = 1.5
#: Guesses made before a region has shown its density or latency (a blind cut, a hedge against
#: the scan's median) only for slices at least this wide (seconds): a full scan's window, not an
#: incremental one, whose few minutes hold a page or none, so that a guess only costs calls.
SPECULATE_MIN_SECONDS = 86400
#: When a token goes unused and nothing is worth a cut, a call out this many times the region's
#: median latency is hedged (the token is otherwise lost)...
HEDGE_LATE = 2.0
#: ...or, before the region has shown its latency, this many times the scan's median.
HEDGE_AFTER = 4.0


@dataclass(slots=True, eq=False)
class Chain:
    """One running chain: `current` is what it has left to read (its older end may be cut off
    while a call is out), `calling` whether a call is out."""

    stream: StreamId
    current: Slice
    calling: bool = False
    cut: bool = False
    since: float = 0.0  # when the call out started
    hedge: anyio.Event = field(default_factory=anyio.Event)  # set: send the same call again

    def done_at(self, oldest: datetime) -> bool:
        """After a cut, a page that reached the cut point has read all this chain still owns."""
        return self.cut and oldest <= self.current.start


@dataclass(slots=True)
class Pace:
    """What a region has shown so far: call latency (smoothed) and event density."""

    latency: float = 1.0
    events: int = 0
    seconds: float = 0.0
    chains: set[Chain] = field(default_factory=set)
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=64))

    def observe(self, seconds: float) -> None:
        self.latency = 0.7 * self.latency + 0.3 * seconds
        self.recent.append(seconds)

    def read(self, events: int, covered: timedelta) -> None:
        self.events += events
        self.seconds += max(covered.total_seconds(), 1.0)

    def pages_in(self, piece: Slice) -> float:
        """Estimated pages in `piece`; none before a page has shown the density (a blind cut
        would cost an empty region a call per piece)."""
        if self.seconds <= 0:
            return 0.0
        return self.events / self.seconds * piece.seconds / PAGE_SIZE

    def target_chains(self, rate: float | None, concurrency: int) -> int:
        """About rate x latency calls in flight keep the bucket busy, plus one; with a long
        tail (us-east-1), the 90th percentile's latency, as a mean would leave tokens unused
        whenever a few calls are stuck at once."""
        if rate is None:
            return concurrency
        latency = self.latency
        if len(self.recent) >= 8:
            latency = max(latency, statistics.quantiles(self.recent, n=10)[-1])
        return min(concurrency, math.ceil(rate * latency) + 1)


def pick_cut(
    pace: Pace, concurrency: int, now: float = 0.0, prior: float | None = None
) -> tuple[Chain, Slice] | None:
    """When a token went unused: the calling chain with the most left to read, and the older
    half of its slice to give a new chain; None when no cut is worth a call.

    Only `concurrency` caps the chains here, not `Pace.target_chains` (which paces the splits
    made after a page): a token going unused shows that every chain is waiting on its call, and
    a cut turns that token into a page, where a hedge would only race a call already out."""
    if len(pace.chains) >= concurrency:
        return None
    if pace.seconds <= 0:
        return _blind_cut(pace, now, prior)
    best: Chain | None = None
    for chain in pace.chains:
        if not chain.calling or chain.current.seconds < 2:
            continue
        if pace.pages_in(chain.current) < MIN_PAGES_TO_CUT:
            continue
        if best is None or chain.current.seconds > best.current.seconds:
            best = chain
    if best is None:
        return None
    piece = best.current
    keep = min(piece.seconds / 2, KEEP_PAGES * piece.seconds / pace.pages_in(piece))
    cut = piece.end - timedelta(seconds=max(1, math.ceil(keep)))
    if cut <= piece.start:
        return None
    return best, Slice(piece.start, cut)


def _blind_cut(pace: Pace, now: float, prior: float | None) -> tuple[Chain, Slice] | None:
    """Before any page of the region: the widest chain whose call is out well past the scan's
    median latency (`prior`), cut in half. A region whose calls answer as fast as the others'
    (an empty one: one call) is never cut blind."""
    if prior is None:
        return None
    late = [
        c
        for c in pace.chains
        if c.calling
        and c.current.seconds >= SPECULATE_MIN_SECONDS
        and now - c.since > BLIND_CUT_AFTER * prior
    ]
    best = max(late, key=lambda c: c.current.seconds, default=None)
    if best is None:
        return None
    piece = best.current
    cut = piece.start + timedelta(seconds=math.floor(piece.seconds / 2))
    if cut <= piece.start:
        return None
    return best, Slice(piece.start, cut)


def pick_hedge(pace: Pace, now: float, prior: float) -> Chain | None:
    """When a token went unused and nothing is worth a cut: the call out longest, if it is well
    beyond the region's median latency (a long tail: the same call again is likely faster). The
    token would be lost otherwise (mid-scan, every chain's call is out; at the end, a late call
    is what the region waits for). Until the region has shown its latency, `prior` (the scan's
    median) stands in for it, with a wider margin."""
    known = len(pace.recent) >= 8
    median = statistics.median(pace.recent) if known else prior
    limit = (HEDGE_LATE if known else HEDGE_AFTER) * median
    late = [
        c
        for c in pace.chains
        if c.calling
        and not c.hedge.is_set()
        and now - c.since > limit
        and (known or c.current.seconds >= SPECULATE_MIN_SECONDS)
    ]
    return min(late, key=lambda c: c.since, default=None)


@dataclass(slots=True)
class Region:
    """What the chains of one (account, region) share: its bucket (None: no rate limit), a
    limiter of `concurrency` chains, the deadline of its reading (anyio time; inf: none), its
    pace, and the EventIds it has read."""

    key: tuple[str, str]
    bucket: TokenBucket | None
    limiter: anyio.CapacityLimiter
    deadline: float = math.inf
    pace: Pace = field(default_factory=Pace)
    seen: set[str] = field(default_factory=set)

    @property
    def rate(self) -> float | None:
        return None if self.bucket is None else self.bucket.rate

    def free_chains(self) -> int:
        """Chains that could start now and still be useful: about rate x latency in flight."""
        stats = self.limiter.statistics()
        target = self.pace.target_chains(self.rate, int(self.limiter.total_tokens))
        return target - stats.borrowed_tokens - stats.tasks_waiting


def reslice(
    region: Region,
    stream: StreamId,
    current: Slice,
    remaining: Slice,
    fetched: SourcePage,
    *,
    fresh: bool,
    switch_to: Callable[[StreamId], Sequence[StreamId]] | None,
) -> tuple[tuple[Work, ...], Slice | None, bool]:
    """After a page: switch a write chain to EventName chains, or split the rest by time.

    Returns (slices for other chains, what this chain keeps, whether it must restart).
    """
    covered = current.end - remaining.end
    rest = remaining.end - remaining.start
    if fresh and switch_to is not None and is_write_stream(stream):
        alternatives = list(switch_to(stream))
        if alternatives and prefer_event_names(
            fetched.events_read, len(fetched.records), covered, rest, len(alternatives)
        ):
            log.info("strategy_switched", account_id=stream.account_id, region=stream.region)
            return tuple(Work(s, remaining) for s in alternatives), None, False
    free = region.free_chains()
    if free <= 0:
        return (), remaining, False
    pieces = split_count(estimate_pages(fetched.events_read, covered, rest), free)
    if pieces < 2 or rest < timedelta(seconds=2):
        return (), remaining, False
    slices = split(remaining, pieces)
    if len(slices) < 2:
        return (), remaining, False
    # Keep the newest piece (it continues where this page ended); give the others away.
    return tuple(Work(stream, s) for s in slices[:-1]), slices[-1], True
