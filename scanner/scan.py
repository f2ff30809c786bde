"""One scan: a pump per stream slice, fanned in over a bounded channel to a Sink, page by page.

    plan (Work: stream + slice) ──► pump ─┐  send.clone() per pump; pumps may split slices
                                   pump ──┼──► bounded channel ──► consumer ──► Sink.apply_many
                                   pump ─┘
    each pump: calls.Caller (TokenBucket, Source.fetch, retry/backoff, hedge) ► extract facts
    each rate-limited region: a watcher cutting slices or hedging calls (schedule.py)

A failure in one stream is data (`StreamFailure`) and never stops the others. A `Page` carries
enough to persist progress with the facts it brings: the slice as it stood before the page, what
remains of it after the page, and the slices split off it; so a store can resume after a crash
from the remaining slices (`run_scan(work=...)` takes any slices, not only a whole window).

The scan's words, each in this sense only (the code, its comments and the README):

    window    the time range one scan reads of every stream: the lookback, or since a region's
              checkpoint minus the overlap (runner.window_start); a scan starts from one slice
              per stream, the whole window
    stream    one LookupEvents filter in one account and region (`plan.StreamId`): the write
              stream `read_only=false`, an event-name stream `event_name=X`, or a trail-log file;
              the stream strategy (`auto`, `read_only`, `event_names`) says which per region
    slice     a time range of one stream, both ends inclusive (`plan.Slice`); `Work` is one
              slice of one stream to read
    bounds    the StartTime/EndTime one call sends: the slice its NextToken is bound to
    chain     one NextToken sequence of calls paging one slice, newest first (`schedule.Chain`;
              its `current` is what it has left to read)
    pump      the task that runs one chain and sends its pages on (`_Scan.pump`)
    watched   an event the catalog pairs (`sources.Watches`): only those records are parsed
    page      one call's answer: as a source reads it (`sources.SourcePage`, records), and as
              the scan hands it on (`pages.Page`, facts and the slice's progress)
    batch     the pages the consumer hands the sink in one write (at most MAX_BATCH_PAGES)
    split     after a page, the rest of a chain's slice divided among new chains (by time, or
              the `auto` switch from the write stream to event-name streams)
    cut       while a chain's call is out, the older end of its slice given to a new chain
              (`schedule.pick_cut`; blind before the region has shown its density)
    hedge     the same call sent again when it is late and a token would go unused
              (`schedule.pick_hedge`; counted in `stats.hedged`)
    pace      what a region has shown so far: call latency, event density, its running chains
              (`schedule.Pace`), from which how many chains it should run
    watcher   the task per rate-limited region that turns an unused token into a cut or a hedge
              (`_Scan.watch`)
    bucket    the token bucket per account-region (`throttle.TokenBucket`); a token pays for one
              call; time comes from a `throttle.Timer` (a chain's `token` variables hold its
              NextToken, which is no bucket token)
    restart   a chain begun again from its last applied page, after its NextToken was lost or
              its retries ran out part way
    deadline  how long one scan may read one account-region; its chains left then fail
    failure   a stream given up, as data (`pages.StreamFailure`), with the category of its error
    pending   slices not read yet: a pump waiting for a free chain, or a slice a failed scan left
              in the store for the next one
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectSendStream

from scanner.calls import Caller
from scanner.lifecycle import Fact
from scanner.logs import get_logger
from scanner.pages import Page, ScanProgress, ScanResult, Sink, StreamFailure, collapse
from scanner.plan import Slice, StreamId, Work
from scanner.records import Record
from scanner.schedule import Chain, Region, pick_cut, pick_hedge, reslice
from scanner.settings import RetrySettings
from scanner.sources import Source, SourceError, SourcePage
from scanner.throttle import LoopTimer, Timer, TokenBucket

log = get_logger("scan")

#: Pages handed to the sink at once (a batch: one `Sink.apply_many`, one write), at most.
MAX_BATCH_PAGES = 256

#: Restarts of one chain from its last applied page before the stream is given up.
MAX_RESTARTS = 3


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How hard to read: rate per (account, region) (None: no limit), chains, retries.

    `switch_to`, when given, names the event-name streams that may replace a write stream after
    its first page (the `auto` strategy); `buffer` caps the pages waiting for the sink;
    `deadline` (seconds, None: none) is how long each account-region may be read: its chains
    still running then are given up (a `timeout` failure), the other regions go on.
    """

    rate: float | None = 2.0
    burst: int = 1
    concurrency: int = 16
    retry: RetrySettings = field(default_factory=RetrySettings)
    switch_to: Callable[[StreamId], Sequence[StreamId]] | None = None
    buffer: int = 16
    deadline: float | None = None


class _Scan:
    """One scan's state and tasks: a pump per slice (`start`, `pump`) pages it (`chain`,
    `page_through`) and hands each page on; a watcher per rate-limited region (`watch`) turns
    unused tokens into cuts or hedges. Calls go through a `Caller`; live counts go to the
    `ScanProgress` (the stats are derived from it); failures are kept as `StreamFailure`s."""

    def __init__(
        self,
        source: Source,
        extract: Callable[[Record], Sequence[Fact]],
        options: ScanOptions,
        timer: Timer,
        progress: ScanProgress,
    ) -> None:
        self.source = source
        self.extract = extract
        self.options = options
        self.timer = timer
        self.progress = progress
        self.regions: dict[tuple[str, str], Region] = {}
        self.failures: list[StreamFailure] = []
        self.caller = Caller(source, options.retry, timer, progress)

    def region(
        self, stream: StreamId, group: TaskGroup, send: MemoryObjectSendStream[Page]
    ) -> Region:
        key = (stream.account_id, stream.region)
        found = self.regions.get(key)
        if found is None:
            bucket = (
                None
                if self.options.rate is None
                else TokenBucket(self.options.rate, self.options.burst, self.timer)
            )
            deadline = self.options.deadline
            found = Region(
                key,
                bucket,
                anyio.CapacityLimiter(self.options.concurrency),
                math.inf if deadline is None else anyio.current_time() + deadline,
            )
            self.regions[key] = found
            if bucket is not None:
                group.start_soon(self.watch, group, found, send.clone(), name=f"watch {key}")
        return found

    async def watch(
        self, group: TaskGroup, region: Region, send: MemoryObjectSendStream[Page]
    ) -> None:
        """While the region has chains (and time): when a token goes unused, cut a slice for a
        new chain, or hedge a late call."""
        bucket = region.bucket
        assert bucket is not None
        live = self.progress.of_key(region.key)
        async with send:
            with anyio.CancelScope(deadline=region.deadline):
                while not live.done:
                    await self.timer.sleep(0.5 / bucket.rate)
                    if bucket.tokens >= 1.0:  # else a call took the last token or waits for one
                        await self.use_token(group, region, send)

    async def use_token(
        self, group: TaskGroup, region: Region, send: MemoryObjectSendStream[Page]
    ) -> None:
        """A token going unused: cut the slice worth it for a new chain, or hedge a late call."""
        bucket = region.bucket
        assert bucket is not None
        latencies = self.caller.latencies
        prior = statistics.median(latencies) if latencies else None
        picked = pick_cut(region.pace, self.options.concurrency, self.timer.now(), prior)
        if picked is None:
            prior = 1.0 if prior is None else prior
            late = pick_hedge(region.pace, self.timer.now(), prior)
            if late is not None:
                await bucket.acquire()  # the same call again costs a token
                late.hedge.set()
            return
        chain, piece = picked
        before = chain.current
        chain.current = Slice(piece.end, before.end)
        chain.cut = True
        child = Work(chain.stream, piece)
        # The cut is recorded before the new chain's pages, as a split after a page is.
        await send.send(Page(chain.stream, before, (), 0, chain.current, (child,), False))
        self.start(group, child, send.clone())

    def start(self, group: TaskGroup, work: Work, send: MemoryObjectSendStream[Page]) -> None:
        self.progress.of(work.stream).pending += 1
        self.region(work.stream, group, send)
        group.start_soon(self.pump, group, work, send, name=f"pump {work.stream}")

    async def pump(self, group: TaskGroup, work: Work, send: MemoryObjectSendStream[Page]) -> None:
        region = self.region(work.stream, group, send)
        live = self.progress.of(work.stream)
        waiting = True
        async with send:
            with anyio.CancelScope(deadline=region.deadline) as scope:
                async with region.limiter:
                    waiting = False
                    live.pending -= 1
                    live.active += 1
                    try:
                        await self.chain(group, work, send, region)
                    except SourceError as error:
                        self.fail(work.stream, error, None)
                    except Exception as error:  # a bug in one stream must not end the others
                        log.exception("stream_crashed", stream=work.stream.name)
                        crash = SourceError("fatal", f"{type(error).__name__}: {error}")
                        live.errors[crash.category] += 1
                        self.fail(work.stream, crash, None)
                    finally:
                        live.active -= 1
        if waiting:
            live.pending -= 1
        if scope.cancelled_caught:
            reason = f"not read within the {self.options.deadline:g} s deadline"
            live.errors["timeout"] += 1
            self.fail(work.stream, SourceError("transient", reason, "timeout"), None)

    def fail(self, stream: StreamId, error: SourceError, remaining: Slice | None) -> None:
        self.progress.of(stream).failed += 1
        failure = StreamFailure(
            stream.account_id, stream.region, stream.name, error.reason, error.category, remaining
        )
        self.failures.append(failure)
        log.debug(
            "stream_failed", account_id=stream.account_id, region=stream.region,
            stream=stream.name, reason=error.reason, category=error.category,
        )  # fmt: skip

    def facts_of(self, region: Region, fetched: SourcePage) -> tuple[Fact, ...]:
        facts: list[Fact] = []
        for record in fetched.records:
            if record.event_id in region.seen:
                continue
            region.seen.add(record.event_id)
            found = self.extract(record)
            if found:
                self.progress.of_key(region.key).matched += 1
                facts.extend(found)
        return tuple(facts)

    async def chain(
        self, group: TaskGroup, work: Work, send: MemoryObjectSendStream[Page], region: Region
    ) -> None:
        """Page one slice to its end; the region's watcher may cut its older end off."""
        me = Chain(work.stream, work.slice)  # me.current: what is left to read
        if self.source.time_sliced:
            region.pace.chains.add(me)
        try:
            await self.page_through(group, me, send, region)
        finally:
            region.pace.chains.discard(me)

    async def page_through(
        self, group: TaskGroup, me: Chain, send: MemoryObjectSendStream[Page], region: Region
    ) -> None:
        """Page a slice to its end, splitting it when chains are free, restarting on loss."""
        stream = me.stream
        params = me.current  # the StartTime/EndTime the current token is bound to
        token: str | None = None
        restarts = 0
        pages_since_restart = 0
        live = self.progress.of(stream)
        while True:
            try:
                fetched = await self.caller.call(region, me, params, token)
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
                    params, token = me.current, None
                    log.info("chain_restarted", stream=stream.name, reason=error.reason)
                    continue
                self.fail(stream, error, me.current)
                return
            pages_since_restart += 1
            live.events += fetched.events_read
            facts = self.facts_of(region, fetched)
            current = me.current  # read after the call: a cut may have moved its start
            remaining: Slice | None = None
            if fetched.next_token is not None:
                remaining = current
                if self.source.time_sliced and fetched.oldest is not None:
                    oldest = max(min(fetched.oldest, current.end), current.start)
                    remaining = Slice(current.start, oldest)
                    region.pace.read(fetched.events_read, current.end - oldest)
                    if me.done_at(fetched.oldest):
                        remaining = None
            spawned: tuple[Work, ...] = ()
            restart = False
            if remaining is not None and self.source.time_sliced and fetched.oldest is not None:
                spawned, remaining, restart = reslice(
                    region,
                    stream,
                    current,
                    remaining,
                    fetched,
                    fresh=token is None,
                    switch_to=self.options.switch_to,
                )
            await send.send(Page(stream, current, facts, fetched.events_read, remaining, spawned))
            for child in spawned:
                self.start(group, child, send.clone())
            if remaining is None:
                return
            me.current = remaining
            if restart:
                params, token = me.current, None
            else:
                token = fetched.next_token


async def run_scan(
    source: Source,
    work: Sequence[Work],
    sink: Sink,
    extract: Callable[[Record], Sequence[Fact]],
    options: ScanOptions | None = None,
    *,
    timer: Timer | None = None,
    progress: ScanProgress | None = None,
) -> ScanResult:
    """Read every slice of `work` from `source` into `sink`; failures come back as data."""
    options = options if options is not None else ScanOptions()
    progress = progress if progress is not None else ScanProgress()
    timer = timer if timer is not None else LoopTimer()
    scan = _Scan(source, extract, options, timer, progress)
    started = timer.now()
    send, receive = anyio.create_memory_object_stream[Page](options.buffer)

    async def consume() -> None:
        async with receive:
            async for page in receive:
                # Take what is already waiting along: busy pumps fill the buffer while a batch
                # is written, and one page per write would leave them blocked on it.
                pages = [page]
                while len(pages) < MAX_BATCH_PAGES:
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
    stats = progress.stats(round(timer.now() - started, 3))
    log.debug(
        "scan_finished", api_calls=stats.api_calls, throttled=stats.throttled,
        events_read=stats.events_read, failures=len(scan.failures),
    )  # fmt: skip
    failures = collapse(scan.failures)
    for failure in failures:  # one line per kind of failure of a region, however many streams
        log.warning(
            "stream_failed", account_id=failure.account_id, region=failure.region,
            stream=failure.stream, reason=failure.reason, category=failure.category,
            count=failure.count,
        )  # fmt: skip
    return ScanResult(stats, failures)
