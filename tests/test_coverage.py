"""How much of a region's window is read, counted from the pages as they are applied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanner.coverage import Coverage
from scanner.pages import Page
from scanner.plan import Slice, StreamId, Work

NOW = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)
WRITES = StreamId("111111111111", "us-east-1", "read_only")
KEY = ("111111111111", "us-east-1")


def days_ago(days: float) -> datetime:
    return NOW - days * DAY


def window(start: float, end: float) -> Slice:
    return Slice(days_ago(start), days_ago(end))


def test_a_chain_read_page_by_page() -> None:
    coverage = Coverage(clock=lambda: NOW)
    coverage.observe(Page(WRITES, window(90, 0), (), 50, window(90, 30)))
    assert coverage.regions[KEY].fraction == pytest.approx(1 / 3)
    coverage.observe(Page(WRITES, window(90, 30), (), 50, window(90, 45)))
    assert coverage.regions[KEY].fraction == pytest.approx(0.5)
    coverage.observe(Page(WRITES, window(90, 45), (), 50, None))
    assert coverage.regions[KEY].fraction == 1.0
    assert coverage.eta(NOW + timedelta(minutes=5)) is None  # done


def test_a_split_hands_older_pieces_to_other_chains() -> None:
    coverage = Coverage(clock=lambda: NOW)
    older = (Work(WRITES, window(90, 60)), Work(WRITES, window(60, 30)))
    coverage.observe(Page(WRITES, window(90, 0), (), 50, window(30, 20), older))
    region = coverage.regions[KEY]
    assert (region.read, region.left) == (20 * 86400, 70 * 86400)
    coverage.observe(Page(WRITES, window(90, 60), (), 50, None))  # an older piece, whole
    assert region.fraction == pytest.approx(50 / 90)
    # Its ETA follows the pace: 50 days in 10 minutes, 40 to go.
    assert coverage.eta(NOW + timedelta(minutes=10)) == timedelta(minutes=8)


def test_a_switch_to_event_name_chains_reads_the_rest_once_per_chain() -> None:
    coverage = Coverage(clock=lambda: NOW)
    names = [StreamId(*KEY, f"event:{n}") for n in ("RunInstances", "CreateVolume")]
    rest = window(90, 80)
    coverage.observe(Page(WRITES, window(90, 0), (), 50, None, tuple(Work(s, rest) for s in names)))
    region = coverage.regions[KEY]
    assert (region.read, region.left) == (80 * 86400, 2 * 10 * 86400)
    for stream in names:
        coverage.observe(Page(stream, rest, (), 5, None))
    assert region.fraction == 1.0
