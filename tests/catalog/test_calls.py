"""What the full catalog costs in LookupEvents calls: one write chain per region whatever its
size (an idle incremental scan: one call per region), one chain per event name only when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scanner.catalog import load_catalog
from scanner.plan import build_plan, prefer_event_names, window_for
from scanner.runner import event_set

CATALOG = load_catalog()
EVENTS = event_set(CATALOG)
TARGETS = [("111111111111", "us-east-1"), ("111111111111", "eu-west-1")]
WINDOW = window_for(datetime(2026, 11, 1, tzinfo=UTC), 90)


def streams_per_region(strategy: str) -> dict[str, int]:
    plan = build_plan(TARGETS, WINDOW, EVENTS, strategy)  # type: ignore[arg-type]
    counts: dict[str, int] = {}
    for work in plan:
        counts[work.stream.region] = counts.get(work.stream.region, 0) + 1
    return counts


def test_read_only_and_auto_read_a_region_with_one_chain() -> None:
    assert streams_per_region("read_only") == {"us-east-1": 1, "eu-west-1": 1}
    assert streams_per_region("auto") == {"us-east-1": 1, "eu-west-1": 1}


def test_event_names_cost_one_chain_per_name() -> None:
    assert len(EVENTS.regional) == 272
    assert len(EVENTS.regional | EVENTS.global_) == 277
    assert streams_per_region("event_names") == {"us-east-1": 277, "eu-west-1": 272}


def test_auto_switches_only_where_names_need_fewer_calls_than_the_write_chain() -> None:
    """`auto` leaves the write chain for EventName chains only when they cost clearly less: with
    277 names, only in a region with hundreds of pages of writes to read."""
    hour = timedelta(hours=1)
    names = len(EVENTS.regional | EVENTS.global_)
    # An idle or ordinary region (a page of writes an hour, 90 days): keep the write chain.
    assert not prefer_event_names(50, 5, 24 * hour, 89 * 24 * hour, event_streams=names)
    assert not prefer_event_names(0, 0, hour, 89 * 24 * hour, event_streams=names)
    # A busy region (a page of writes every minute for 90 days, 1 in 50 watched): switch.
    assert prefer_event_names(50, 1, timedelta(minutes=1), 90 * 24 * hour, event_streams=names)
