"""Which LookupEvents streams to read per (account, region), and how to split their time slices."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from scanner.settings_file import StreamStrategy

#: Region where CloudTrail records the events of global services (IAM, STS, Route 53, CloudFront).
HOME_REGION = "us-east-1"
#: LookupEvents returns at most this many events per call.
PAGE_SIZE = 50

WRITE_STREAM = "read_only=false"
_EVENT_PREFIX = "event_name="


@dataclass(frozen=True, slots=True, order=True)
class StreamId:
    """One LookupEvents chain family: an account, a region and a filter (`read_only=false`,
    `event_name=RunInstances`; `files` for trail-log files)."""

    account_id: str
    region: str
    name: str


@dataclass(frozen=True, slots=True, order=True)
class Slice:
    """A time range, both ends inclusive (as LookupEvents' StartTime and EndTime are)."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True, order=True)
class Work:
    """One slice of one stream, to be paged by one chain."""

    stream: StreamId
    slice: Slice


def event_stream(event_name: str) -> str:
    """The name of an event-name stream."""
    return _EVENT_PREFIX + event_name


def lookup_attribute(stream_name: str) -> tuple[str, str] | None:
    """The single LookupAttribute (key, value) a stream sends, or None for no filter."""
    if stream_name == WRITE_STREAM:
        return ("ReadOnly", "false")
    if stream_name.startswith(_EVENT_PREFIX):
        return ("EventName", stream_name[len(_EVENT_PREFIX) :])
    return None


def is_write_stream(stream: StreamId) -> bool:
    return stream.name == WRITE_STREAM


@dataclass(frozen=True, slots=True)
class EventSet:
    """The catalog's event names, split into those of regional and of global resource types."""

    regional: frozenset[str]
    global_: frozenset[str] = frozenset()

    def for_region(self, region: str) -> frozenset[str]:
        return self.regional | self.global_ if region == HOME_REGION else self.regional


def streams_for(
    account_id: str, region: str, events: EventSet, strategy: StreamStrategy
) -> list[StreamId]:
    """The streams that read one region: the write stream, or one stream per event name."""
    names = events.for_region(region)
    if not names:
        return []
    if strategy == "event_names":
        return [StreamId(account_id, region, event_stream(n)) for n in sorted(names)]
    return [StreamId(account_id, region, WRITE_STREAM)]


def event_streams_for(stream: StreamId, events: EventSet) -> list[StreamId]:
    """The event-name streams that can replace a write stream (the `auto` strategy's switch)."""
    return [
        StreamId(stream.account_id, stream.region, event_stream(n))
        for n in sorted(events.for_region(stream.region))
    ]


def build_plan(
    targets: Iterable[tuple[str, str]],
    window: Slice,
    events: EventSet,
    strategy: StreamStrategy,
) -> list[Work]:
    """One slice (the whole window) per stream of every (account, region) target.

    Global types are read from us-east-1 only; when an account's regions leave us-east-1 out,
    it still gets event-name streams for the global types' events there (and nothing else).
    """
    plan: list[Work] = []
    regions_of: dict[str, list[str]] = {}
    for account_id, region in targets:
        regions_of.setdefault(account_id, [])
        if region not in regions_of[account_id]:
            regions_of[account_id].append(region)
    for account_id, regions in regions_of.items():
        for region in regions:
            plan.extend(
                Work(stream, window) for stream in streams_for(account_id, region, events, strategy)
            )
        if HOME_REGION not in regions and events.global_:
            plan.extend(
                Work(StreamId(account_id, HOME_REGION, event_stream(name)), window)
                for name in sorted(events.global_)
            )
    return plan


def window_for(end: datetime, lookback_days: int) -> Slice:
    """The scan window ending at `end` (whole seconds)."""
    end = end.replace(microsecond=0)
    return Slice(end - timedelta(days=lookback_days), end)


# ---------------------------------------------------------------- adaptive slicing


def estimate_pages(events_in_page: int, covered: timedelta, remaining: timedelta) -> float:
    """Pages still to read, from the event density of the page just read."""
    if events_in_page <= 0 or remaining.total_seconds() <= 0:
        return 0.0
    covered_seconds = max(covered.total_seconds(), 1.0)
    density = events_in_page / covered_seconds
    return density * remaining.total_seconds() / PAGE_SIZE


def split_count(estimated_pages: float, free_chains: int) -> int:
    """Slices to split the rest into: one per free chain (plus ours), each worth a page or more.

    Free chains exist only while fewer than rate x latency calls are in flight, so the extra
    partial page each new slice costs is paid from otherwise idle request budget.
    """
    if free_chains <= 0:
        return 1
    return max(1, min(free_chains + 1, math.floor(estimated_pages)))


def split(piece: Slice, count: int) -> list[Slice]:
    """Split a slice into `count` adjacent slices, oldest first, on whole seconds where possible.

    Neighbours share their boundary second (both ends are inclusive); events read twice there
    are dropped by EventId.
    """
    seconds = piece.seconds
    count = max(1, min(count, int(seconds)))
    if count <= 1:
        return [piece]
    edges = [piece.start]
    for index in range(1, count):
        edge = piece.start + timedelta(seconds=math.floor(seconds * index / count))
        edges.append(edge)
    edges.append(piece.end)
    return [Slice(edges[i], edges[i + 1]) for i in range(count)]


def prefer_event_names(
    events_in_page: int,
    watched_in_page: int,
    covered: timedelta,
    remaining: timedelta,
    event_streams: int,
) -> bool:
    """After the write stream's first page: would event-name streams need clearly fewer calls?

    The write stream needs about `pages` more calls; event-name streams at least one call each,
    plus the pages of the watched events alone.
    """
    pages = estimate_pages(events_in_page, covered, remaining)
    watched_share = watched_in_page / events_in_page if events_in_page else 0.0
    by_names = event_streams + watched_share * pages
    return by_names < 0.7 * pages
