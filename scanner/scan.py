"""One scan: a pump per stream slice, fanned in over a bounded stream to a Sink, page by page.

    plan (Work: stream + slice) ──► pump ─┐  send.clone() per pump; pumps may split slices
                                   pump ──┼──► bounded memory stream ──► consumer ──► Sink.apply
                                   pump ─┘
    each pump: TokenBucket(account, region) ► Source.fetch ► retry/backoff ► extract facts

A failure in one stream is data (`StreamFailure`) and never stops the others. A `Page` carries
enough to persist progress with the facts it brings: the slice as it stood before the page, what
remains of it after the page, and the slices split off it; so a store can resume after a crash
from the remaining slices (`run_scan(work=...)` takes any slices, not only a whole window).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectSendStream

from scanner.lifecycle import Fact, Lifecycle, ResourceKey
from scanner.logs import get_logger
from scanner.pairing import merge
from scanner.plan import (
    Slice,
    StreamId,
    Work,
    estimate_pages,
    is_write_stream,
    prefer_event_names,
    split,
    split_count,
)
from scanner.records import Record
from scanner.settings import RetrySettings
from scanner.sources import Batch, Source, SourceError
from scanner.throttle import AnyioClock, Clock, TokenBucket, backoff

log = get_logger("scan")

#: Pages handed to the sink at once, at most.
MAX_BATCH = 256

#: Restarts of one chain from its last applied page before the stream is given up.
MAX_RESTARTS = 3


@dataclass(frozen=True, slots=True)
class StreamFailure:
    """A stream that could not be read to the end; `slice` is what is left unread of it."""

    account_id: str
    region: str
    stream: str
    reason: str
    slice: Slice | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One applied page of one stream.

    `slice` is the slice as it stood before this page (the slice a pump started with, or the
    previous page's `remaining`); `remaining` is what is still to read of it (None: done);
    `spawned` are slices cut off it for other pumps (split by time, or `EventName` chains that
    replace a write chain). `event_ids` are the ids of every event read in this page.
    """

    stream: StreamId
    slice: Slice
    facts: tuple[Fact, ...]
    events_read: int
    event_ids: tuple[str, ...]
    remaining: Slice | None
    spawned: tuple[Work, ...] = ()


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


@dataclass(frozen=True, slots=True)
class ScanResult:
    stats: ScanStats
    failures: tuple[StreamFailure, ...]


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How hard to read: rate per (account, region) (None: no limit), chains, retries.

    `switch_to`, when given, names the `EventName` chains that may replace a write chain after
    its first page (the `auto` strategy); `buffer` bounds the pages waiting for the sink.
    """

    rate: float | None = 2.0
    burst: int = 1
    concurrency: int = 8
    retry: RetrySettings = field(default_factory=RetrySettings)
    switch_to: Callable[[StreamId], Sequence[StreamId]] | None = None
    buffer: int = 16


@dataclass(slots=True)
class RegionProgress:
    """Live counters of one (account, region), for a progress display."""

    calls: int = 0
    throttled: int = 0
    events: int = 0
    matched: int = 0
    active: int = 0
    pending: int = 0
    failed: int = 0

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


@dataclass(slots=True)
class _Region:
    """What the pumps of one (account, region) share."""

    key: tuple[str, str]
    bucket: TokenBucket | None
    limiter: anyio.CapacityLimiter
    latency: float = 1.0
    seen: set[str] = field(default_factory=set)

    def observe(self, seconds: float) -> None:
        self.latency = 0.7 * self.latency + 0.3 * seconds

    def free_chains(self, rate: float | None, concurrency: int) -> int:
        """Chains that could start now and still be useful: about rate x latency in flight."""
        target = concurrency if rate is None else math.ceil(rate * self.latency) + 1
        target = min(target, concurrency)
        stats = self.limiter.statistics()
        return target - stats.borrowed_tokens - stats.tasks_waiting


class _Scan:
    def __init__(
        self,
        source: Source,
        extract: Callable[[Record], Sequence[Fact]],
        options: ScanOptions,
        clock: Clock,
        progress: ScanProgress,
    ) -> None:
        self.source = source
        self.extract = extract
        self.options = options
        self.clock = clock
        self.progress = progress
        self.regions: dict[tuple[str, str], _Region] = {}
        self.failures: list[StreamFailure] = []
        self.api_calls = 0
        self.throttled = 0
        self.events_read = 0
        self.events_matched = 0
        self.random = random.Random(0)

    def region(self, stream: StreamId) -> _Region:
        key = (stream.account_id, stream.region)
        found = self.regions.get(key)
        if found is None:
            bucket = (
                None
                if self.options.rate is None
                else TokenBucket(self.options.rate, self.options.burst, self.clock)
            )
            found = _Region(key, bucket, anyio.CapacityLimiter(self.options.concurrency))
            self.regions[key] = found
        return found

    def start(self, group: TaskGroup, work: Work, send: MemoryObjectSendStream[Page]) -> None:
        self.progress.of(work.stream).pending += 1
        group.start_soon(self.pump, group, work, send, name=f"pump {work.stream}")

    async def pump(self, group: TaskGroup, work: Work, send: MemoryObjectSendStream[Page]) -> None:
        region = self.region(work.stream)
        live = self.progress.of(work.stream)
        async with send, region.limiter:
            live.pending -= 1
            live.active += 1
            try:
                await self.chain(group, work, send, region)
            except SourceError as error:
                self.fail(work.stream, error.reason, None)
            except Exception as error:  # a bug in one stream must not end the others
                log.exception("stream_crashed", stream=work.stream.name)
                self.fail(work.stream, f"{type(error).__name__}: {error}", None)
            finally:
                live.active -= 1

    def fail(self, stream: StreamId, reason: str, remaining: Slice | None) -> None:
        self.progress.of(stream).failed += 1
        failure = StreamFailure(stream.account_id, stream.region, stream.name, reason, remaining)
        self.failures.append(failure)
        log.warning(
            "stream_failed", account_id=stream.account_id, region=stream.region,
            stream=stream.name, reason=reason,
        )  # fmt: skip

    async def call(
        self, region: _Region, stream: StreamId, window: Slice, token: str | None
    ) -> Batch:
        """One page, with the bucket in front and backoff on throttling and transient errors."""
        retry = self.options.retry
        live = self.progress.of(stream)
        attempt = 0
        while True:
            attempt += 1
            if region.bucket is not None:
                await region.bucket.acquire()
            self.api_calls += 1
            live.calls += 1
            started = self.clock.now()
            try:
                batch = await self.source.fetch(stream, window, token)
            except SourceError as error:
                if error.kind == "throttled":
                    self.throttled += 1
                    live.throttled += 1
                    if region.bucket is not None:
                        region.bucket.penalize(1.0 / region.bucket.rate)
                if error.kind not in ("throttled", "transient") or attempt >= retry.attempts:
                    raise
                delay = backoff(
                    attempt, retry.base_delay_seconds, retry.max_delay_seconds, self.random.random()
                )
                log.debug("call_retried", stream=stream.name, attempt=attempt, reason=error.reason)
                await self.clock.sleep(delay)
                continue
            region.observe(self.clock.now() - started)
            return batch

    def facts_of(self, region: _Region, batch: Batch) -> tuple[Fact, ...]:
        facts: list[Fact] = []
        for record in batch.records:
            if record.event_id in region.seen:
                continue
            region.seen.add(record.event_id)
            found = self.extract(record)
            if found:
                self.events_matched += 1
                self.progress.of_key(region.key).matched += 1
                facts.extend(found)
        return tuple(facts)

    async def chain(
        self, group: TaskGroup, work: Work, send: MemoryObjectSendStream[Page], region: _Region
    ) -> None:
        """Page one slice to its end, splitting it when chains are free, restarting on loss."""
        stream = work.stream
        current = work.slice  # what is left to read
        params = work.slice  # the StartTime/EndTime the current token is bound to
        token: str | None = None
        restarts = 0
        pages_since_restart = 0
        live = self.progress.of(stream)
        while True:
            try:
                batch = await self.call(region, stream, params, token)
            except SourceError as error:
                # A lost token, or a chain that got somewhere before its retries ran out,
                # restarts from its last applied page; a fresh chain that cannot get a page
                # (region down, access denied) gives the stream up at once.
                resumable = error.kind == "invalid_token" or (
                    error.kind in ("throttled", "transient") and pages_since_restart > 0
                )
                if resumable and token is not None and restarts < MAX_RESTARTS:
                    restarts += 1
                    pages_since_restart = 0
                    params, token = current, None
                    log.info("chain_restarted", stream=stream.name, reason=error.reason)
                    continue
                self.fail(stream, error.reason, current)
                return
            pages_since_restart += 1
            self.events_read += batch.events_read
            live.events += batch.events_read
            facts = self.facts_of(region, batch)
            remaining: Slice | None = None
            if batch.next_token is not None:
                remaining = current
                if self.source.time_sliced and batch.oldest is not None:
                    oldest = max(min(batch.oldest, current.end), current.start)
                    remaining = Slice(current.start, oldest)
            spawned: tuple[Work, ...] = ()
            restart = False
            if remaining is not None and self.source.time_sliced and batch.oldest is not None:
                spawned, remaining, restart = self.reslice(
                    stream, current, remaining, batch, fresh=token is None, region=region
                )
            await send.send(
                Page(stream, current, facts, batch.events_read, batch.event_ids, remaining, spawned)
            )
            for child in spawned:
                self.start(group, child, send.clone())
            if remaining is None:
                return
            current = remaining
            if restart:
                params, token = current, None
            else:
                token = batch.next_token

    def reslice(
        self,
        stream: StreamId,
        current: Slice,
        remaining: Slice,
        batch: Batch,
        *,
        fresh: bool,
        region: _Region,
    ) -> tuple[tuple[Work, ...], Slice | None, bool]:
        """After a page: switch a write chain to EventName chains, or split the rest by time.

        Returns (slices for other pumps, what this chain keeps, whether it must restart).
        """
        covered = current.end - remaining.end
        rest = remaining.end - remaining.start
        switch_to = self.options.switch_to
        if fresh and switch_to is not None and is_write_stream(stream):
            alternatives = list(switch_to(stream))
            if alternatives and prefer_event_names(
                batch.events_read, len(batch.records), covered, rest, len(alternatives)
            ):
                log.info("strategy_switched", account_id=stream.account_id, region=stream.region)
                return tuple(Work(s, remaining) for s in alternatives), None, False
        free = region.free_chains(self.options.rate, self.options.concurrency)
        if free <= 0:
            return (), remaining, False
        pieces = split_count(estimate_pages(batch.events_read, covered, rest), free)
        if pieces < 2 or rest < timedelta(seconds=2):
            return (), remaining, False
        slices = split(remaining, pieces)
        if len(slices) < 2:
            return (), remaining, False
        # Keep the newest piece (it continues where this page ended); give the others away.
        return tuple(Work(stream, s) for s in slices[:-1]), slices[-1], True


async def run_scan(
    source: Source,
    work: Sequence[Work],
    sink: Sink,
    extract: Callable[[Record], Sequence[Fact]],
    options: ScanOptions | None = None,
    *,
    clock: Clock | None = None,
    progress: ScanProgress | None = None,
) -> ScanResult:
    """Read every slice of `work` from `source` into `sink`; failures come back as data."""
    options = options if options is not None else ScanOptions()
    progress = progress if progress is not None else ScanProgress()
    clock = clock if clock is not None else AnyioClock()
    scan = _Scan(source, extract, options, clock, progress)
    started = clock.now()
    send, receive = anyio.create_memory_object_stream[Page](options.buffer)

    async def consume() -> None:
        async with receive:
            async for page in receive:
                # Take what is already waiting along: busy pumps fill the buffer while a batch
                # is written, and one page per write would leave them blocked on it.
                pages = [page]
                while len(pages) < MAX_BATCH:
                    try:
                        pages.append(receive.receive_nowait())
                    except (anyio.WouldBlock, anyio.EndOfStream):
                        break
                await sink.apply_many(pages)

    log.debug("scan_started", slices=len(work))  # the caller logs the one line per scan
    async with anyio.create_task_group() as group:
        group.start_soon(consume, name="consumer")
        async with send:
            for item in work:
                scan.start(group, item, send.clone())
    stats = ScanStats(
        api_calls=scan.api_calls,
        throttled=scan.throttled,
        events_read=scan.events_read,
        events_matched=scan.events_matched,
        duration_seconds=round(clock.now() - started, 3),
    )
    log.debug(
        "scan_finished", api_calls=stats.api_calls, throttled=stats.throttled,
        events_read=stats.events_read, failures=len(scan.failures),
    )  # fmt: skip
    return ScanResult(stats, tuple(scan.failures))
