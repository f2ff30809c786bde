"""The scan fan-in over a fake Source: completeness, failures as data, retries, resume, splits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import anyio

from scanner.lifecycle import Fact, ResourceKey
from scanner.pages import MemorySink, Page, ScanProgress, ScanResult
from scanner.plan import (
    WRITE_STREAM,
    EventSet,
    Slice,
    StreamId,
    Work,
    build_plan,
    event_streams_for,
)
from scanner.records import Record
from scanner.scan import ScanOptions, run_scan
from scanner.settings import RetrySettings
from scanner.settings_file import StreamStrategy
from scanner.sources import SourcePage

from .fakes import FakeSource, VirtualTimer, extract, keys_alive, record

END = datetime(2025, 3, 31, tzinfo=UTC)
WINDOW = Slice(END - timedelta(days=10), END)
ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1", "ap-south-1")
EVENTS = EventSet(regional=frozenset({"CreateThing", "DeleteThing"}))
FAST_RETRY = RetrySettings(attempts=4, base_delay_seconds=0.01, max_delay_seconds=0.1)


def history(per_region: int, noise_every: int = 3) -> list[Record]:
    """Creates, some deletes, and noise writes, spread over the window in every region."""
    records: list[Record] = []
    counter = 0
    for account in ACCOUNTS:
        for region in REGIONS:
            for index in range(per_region):
                counter += 1
                when = WINDOW.start + timedelta(seconds=(index * 7919 + counter) % 800_000)
                thing = f"{region}-{index}"
                records.append(record(f"c{counter}", when, "CreateThing", thing, account, region))
                if index % 4 == 0:
                    later = when + timedelta(seconds=30)
                    records.append(
                        record(f"d{counter}", later, "DeleteThing", thing, account, region)
                    )
                if noise_every and index % noise_every == 0:
                    records.extend(
                        record(f"n{counter}-{k}", when, "CreateTags", thing, account, region)
                        for k in range(5)
                    )
    return records


def expected(records: list[Record], skip_regions: frozenset[str] = frozenset()) -> set[ResourceKey]:
    facts: list[Fact] = []
    for item in records:
        if item.region not in skip_regions:
            facts.extend(extract(item))
    return keys_alive(facts)


class RecordingSink(MemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Page] = []
        self.facts: list[Fact] = []

    async def apply(self, page: Page) -> None:
        await super().apply(page)
        self.seen.append(page)
        self.facts.extend(page.facts)


def plan(strategy: StreamStrategy = "read_only") -> list[Work]:
    targets = [(a, r) for a in ACCOUNTS for r in REGIONS]
    return build_plan(targets, WINDOW, EVENTS, strategy)


async def scan(
    source: FakeSource, work: list[Work], options: ScanOptions, timer: VirtualTimer
) -> tuple[RecordingSink, ScanResult]:
    sink = RecordingSink()
    result = await timer.run(run_scan, source, work, sink, extract, options, timer=timer)
    return sink, result


async def test_every_region_is_read_and_paired() -> None:
    records = history(120)
    timer = VirtualTimer()
    source = FakeSource(records, timer=timer, latency=0.3)
    sink, result = await scan(source, plan(), ScanOptions(rate=2.0, retry=FAST_RETRY), timer)
    assert result.failures == ()
    assert keys_alive(sink.facts) == expected(records)
    assert result.stats.api_calls == source.calls
    assert result.stats.events_read >= len(records)
    created_or_deleted = sum(1 for r in records if r.event_name != "CreateTags")
    assert result.stats.events_matched == created_or_deleted


async def test_rate_is_kept_per_account_region() -> None:
    records = history(200)
    timer = VirtualTimer()
    source = FakeSource(records, timer=timer, latency=0.05)
    sink, result = await scan(source, plan(), ScanOptions(rate=2.0, retry=FAST_RETRY), timer)
    by_region: dict[tuple[str, str], int] = {}
    for stream, _, _ in source.call_log:
        key = (stream.account_id, stream.region)
        by_region[key] = by_region.get(key, 0) + 1
    busiest = max(by_region.values())
    # Six regions run side by side: the scan takes as long as the busiest one at 2 calls/s.
    assert result.stats.duration_seconds >= (busiest - 1) / 2.0
    assert keys_alive(sink.facts) == expected(records)


async def test_failed_region_is_data_and_others_complete() -> None:
    records = history(60)
    timer = VirtualTimer()
    source = FakeSource(records, timer=timer, latency=0.2, fail_regions=frozenset({"eu-west-1"}))
    sink, result = await scan(source, plan(), ScanOptions(rate=2.0, retry=FAST_RETRY), timer)
    failed = {(f.account_id, f.region, f.stream) for f in result.failures}
    assert failed == {(a, "eu-west-1", WRITE_STREAM) for a in ACCOUNTS}
    assert all("down" in f.reason for f in result.failures)
    assert keys_alive(sink.facts) == expected(records, frozenset({"eu-west-1"}))


async def test_throttling_and_5xx_are_retried_and_counted() -> None:
    records = history(80)
    timer = VirtualTimer()
    source = FakeSource(records, timer=timer, latency=0.1, throttle_every=4, transient_every=7)
    sink, result = await scan(source, plan(), ScanOptions(rate=2.0, retry=FAST_RETRY), timer)
    assert result.failures == ()
    assert result.stats.throttled > 0
    assert result.stats.throttled == sum(1 for n in range(1, source.calls + 1) if n % 4 == 0)
    assert keys_alive(sink.facts) == expected(records)


async def test_pages_retries_and_hedges_are_counted_per_region() -> None:
    records = history(80)
    timer = VirtualTimer()
    source = FakeSource(records, timer=timer, latency=0.1, throttle_every=4, transient_every=7)
    progress = ScanProgress()
    sink = RecordingSink()
    options = ScanOptions(rate=2.0, retry=FAST_RETRY)
    result = await timer.run(
        run_scan, source, plan(), sink, extract, options, timer=timer, progress=progress
    )
    assert result.failures == ()
    failed = sum(1 for n in range(1, source.calls + 1) if n % 4 == 0 or n % 7 == 0)
    assert result.stats.retried == failed
    called = [page for page in sink.seen if page.called]
    for key, live in progress.regions.items():
        mine = [p for p in called if (p.stream.account_id, p.stream.region) == key]
        assert live.pages == len(mine)
        assert live.calls == live.pages + live.retried + live.hedged
    assert sum(live.hedged for live in progress.regions.values()) == result.stats.hedged
    assert result.stats.api_calls == source.calls


async def test_broken_chain_keeps_its_pages_and_resumes_from_the_remainder() -> None:
    records = history(150, noise_every=0)
    stream = StreamId(ACCOUNTS[0], "us-east-1", WRITE_STREAM)
    mine = [r for r in records if r.account_id == stream.account_id and r.region == stream.region]
    timer = VirtualTimer()
    source = FakeSource(mine, timer=timer, break_after={WRITE_STREAM: 2})
    options = ScanOptions(rate=None, concurrency=1, retry=FAST_RETRY)
    sink, result = await scan(source, [Work(stream, WINDOW)], options, timer)
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert len(sink.seen) == 2
    last = sink.seen[-1]
    assert last.remaining is not None
    assert failure.slice == last.remaining
    assert len(sink.facts) == 100  # both pages were applied before the chain broke

    # Resume: a new scan from the remainder reads the rest; together nothing is missing.
    resumed = FakeSource(mine, timer=timer)
    sink2, result2 = await scan(resumed, [Work(stream, last.remaining)], options, timer)
    assert result2.failures == ()
    assert sink2.seen[0].slice == last.remaining
    assert keys_alive(sink.facts + sink2.facts) == expected(mine)


async def test_invalid_token_restarts_from_the_last_applied_page() -> None:
    records = history(150, noise_every=0)
    stream = StreamId(ACCOUNTS[0], "us-east-1", WRITE_STREAM)
    mine = [r for r in records if r.account_id == stream.account_id and r.region == stream.region]

    class ForgetfulSource(FakeSource):
        async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage:
            if token is not None and self.calls == 1:
                token = "stale|0"
            return await super().fetch(stream, bounds, token)

    timer = VirtualTimer()
    source = ForgetfulSource(mine, timer=timer)
    options = ScanOptions(rate=None, concurrency=1, retry=FAST_RETRY)
    sink, result = await scan(source, [Work(stream, WINDOW)], options, timer)
    assert result.failures == ()
    restarted = [call for call in source.call_log[1:] if call[2] is None]
    assert restarted, "the chain should have restarted without a token"
    assert restarted[0][1].end < WINDOW.end  # from where it had got to, not from the top
    assert keys_alive(sink.facts) == expected(mine)


async def test_slow_busy_region_is_split_across_chains() -> None:
    stream = StreamId(ACCOUNTS[0], "us-east-1", WRITE_STREAM)
    mine = [
        record(f"c{i}", WINDOW.start + timedelta(seconds=i * 311), "CreateThing", f"t{i}")
        for i in range(2500)
    ]
    timer = VirtualTimer()
    source = FakeSource(mine, timer=timer, latency=4.0)
    options = ScanOptions(rate=2.0, concurrency=8, retry=FAST_RETRY)
    sink, result = await scan(source, [Work(stream, WINDOW)], options, timer)
    assert result.failures == ()
    assert any(page.spawned for page in sink.seen)
    assert source.max_in_flight >= 6  # about rate x latency = 8 calls in flight
    assert keys_alive(sink.facts) == expected(mine)
    # Every fact arrives once, however the slices overlap at their boundaries.
    assert len(sink.facts) == len({f.event_id for f in sink.facts})
    # Splitting costs a few partial pages, not a multiple of the calls.
    pages_needed = -(-len(mine) // 50)
    assert result.stats.api_calls <= pages_needed * 1.3


async def test_empty_region_costs_one_call() -> None:
    timer = VirtualTimer()
    source = FakeSource([], timer=timer, latency=1.0)
    work = [Work(StreamId(ACCOUNTS[0], "sa-east-1", WRITE_STREAM), WINDOW)]
    _, result = await scan(source, work, ScanOptions(rate=2.0, retry=FAST_RETRY), timer)
    assert result.stats.api_calls == 1


async def test_auto_switches_noisy_region_to_event_name_chains() -> None:
    stream = StreamId(ACCOUNTS[0], "us-east-1", WRITE_STREAM)
    records: list[Record] = []
    for index in range(2000):
        when = WINDOW.start + timedelta(seconds=index * 400)
        records.append(record(f"n{index}", when, "CreateTags", "x", stream.account_id))
    for index in range(20):
        when = WINDOW.start + timedelta(seconds=index * 40_000 + 7)
        records.append(record(f"c{index}", when, "CreateThing", f"t{index}", stream.account_id))
    timer = VirtualTimer()
    source = FakeSource(records, timer=timer, latency=0.1)
    options = ScanOptions(
        rate=2.0, concurrency=1, retry=FAST_RETRY, switch_to=lambda s: event_streams_for(s, EVENTS)
    )
    sink, result = await scan(source, [Work(stream, WINDOW)], options, timer)
    assert result.failures == ()
    assert {s.name for s, _, _ in source.call_log} > {WRITE_STREAM}
    assert keys_alive(sink.facts) == expected(records)
    assert result.stats.api_calls < 2020 / 50 / 2


class HangsOnce(FakeSource):
    """The first call of each region never answers (a hung connection); later ones do."""

    hung: set[tuple[str, str]] = set()  # noqa: RUF012 (one instance per test)

    async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage:
        where = (stream.account_id, stream.region)
        if where not in self.hung:
            self.hung.add(where)
            await anyio.sleep_forever()
        return await super().fetch(stream, bounds, token)


async def test_a_call_without_an_answer_in_time_is_retried_and_counted() -> None:
    records = history(per_region=20)
    source = HangsOnce(records)
    source.hung = set()
    retry = replace(FAST_RETRY, call_timeout_seconds=0.05)
    plan = build_plan([(a, r) for a in ACCOUNTS for r in REGIONS], WINDOW, EVENTS, "read_only")
    progress = ScanProgress()
    sink = RecordingSink()
    with anyio.fail_after(30):
        result = await run_scan(
            source, plan, sink, extract, ScanOptions(rate=None, retry=retry), progress=progress
        )
    assert result.failures == ()
    assert keys_alive(sink.facts) == expected(records)
    for live in progress.regions.values():
        assert (live.retried, live.failed_calls, dict(live.errors)) == (1, 1, {"timeout": 1})
    assert result.stats.retried == len(ACCOUNTS) * len(REGIONS)
