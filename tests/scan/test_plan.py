"""Which streams per region, global types in us-east-1 only, slicing arithmetic."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from scanner.catalog import load_catalog
from scanner.plan import (
    WRITE_STREAM,
    EventSet,
    Slice,
    StreamId,
    build_plan,
    estimate_pages,
    event_stream,
    lookup_attribute,
    prefer_event_names,
    split,
    split_count,
    streams_for,
    window_for,
)
from scanner.runner import event_set

EVENTS = EventSet(
    regional=frozenset({"RunInstances", "TerminateInstances"}),
    global_=frozenset({"CreateHostedZone", "DeleteHostedZone"}),
)
END = datetime(2025, 3, 31, 12, 0, 0, 123456, tzinfo=UTC)


def test_lookup_attributes_of_streams() -> None:
    assert lookup_attribute(WRITE_STREAM) == ("ReadOnly", "false")
    assert lookup_attribute(event_stream("RunInstances")) == ("EventName", "RunInstances")
    assert lookup_attribute("files") is None


def test_read_only_is_one_chain_per_region() -> None:
    assert streams_for("1", "eu-west-1", EVENTS, "read_only") == [
        StreamId("1", "eu-west-1", WRITE_STREAM)
    ]
    assert streams_for("1", "eu-west-1", EVENTS, "auto") == [
        StreamId("1", "eu-west-1", WRITE_STREAM)
    ]


def test_event_names_read_global_types_in_us_east_1_only() -> None:
    away = {s.name for s in streams_for("1", "eu-west-1", EVENTS, "event_names")}
    home = {s.name for s in streams_for("1", "us-east-1", EVENTS, "event_names")}
    assert away == {event_stream("RunInstances"), event_stream("TerminateInstances")}
    assert home == away | {event_stream("CreateHostedZone"), event_stream("DeleteHostedZone")}


def test_plan_adds_us_east_1_for_global_types_when_left_out() -> None:
    window = window_for(END, 90)
    plan = build_plan([("1", "eu-west-1"), ("2", "us-east-1")], window, EVENTS, "read_only")
    streams = {(w.stream.account_id, w.stream.region, w.stream.name) for w in plan}
    assert streams == {
        ("1", "eu-west-1", WRITE_STREAM),
        ("1", "us-east-1", event_stream("CreateHostedZone")),
        ("1", "us-east-1", event_stream("DeleteHostedZone")),
        ("2", "us-east-1", WRITE_STREAM),
    }
    assert all(w.slice == window for w in plan)


def test_window_is_whole_seconds_and_lookback_long() -> None:
    window = window_for(END, 90)
    assert window.end.microsecond == 0
    assert window.end - window.start == timedelta(days=90)


def test_split_covers_the_slice_with_shared_boundaries() -> None:
    piece = Slice(END - timedelta(hours=10), END)
    parts = split(piece, 4)
    assert len(parts) == 4
    assert parts[0].start == piece.start
    assert parts[-1].end == piece.end
    for left, right in itertools.pairwise(parts):
        assert left.end == right.start
    assert split(Slice(END, END), 4) == [Slice(END, END)]


def test_estimates_and_split_counts() -> None:
    assert estimate_pages(50, timedelta(hours=1), timedelta(hours=9)) == 9.0
    assert estimate_pages(0, timedelta(hours=1), timedelta(hours=9)) == 0.0
    assert split_count(40.0, free_chains=7) == 8
    assert split_count(5.0, free_chains=7) == 5
    assert split_count(1.5, free_chains=7) == 1
    assert split_count(40.0, free_chains=0) == 1


def test_event_names_preferred_only_when_clearly_cheaper() -> None:
    hour = timedelta(hours=1)
    # 50 writes an hour for 99 more hours, 1 in 50 watched: ~99 pages vs 30 + 2 by names.
    assert prefer_event_names(50, 1, hour, 99 * hour, event_streams=30)
    # A quiet region: one more page at most; thirty name chains cost more.
    assert not prefer_event_names(50, 10, hour, hour, event_streams=30)


def test_a_global_event_shared_with_a_regional_type_stays_global() -> None:
    """CloudFront's CreateDistribution is read from us-east-1 even where us-east-1 is not
    listed, though Lightsail's regional CreateDistribution shares its name."""
    events = event_set(load_catalog())
    assert {"CreateDistribution", "DeleteDistribution"} <= events.global_ & events.regional
    assert {"CreateHostedZone", "CreateHealthCheck"} <= events.global_ - events.regional
