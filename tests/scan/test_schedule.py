"""Scheduling policy: blind cuts of a slow region's first call, hedges of late calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scanner.plan import Slice, StreamId
from scanner.schedule import (
    BLIND_CUT_AFTER,
    HEDGE_AFTER,
    HEDGE_LATE,
    Chain,
    Pace,
    pick_cut,
    pick_hedge,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = Slice(START, START + timedelta(days=2))
STREAM = StreamId("111111111111", "us-east-1", "read_only=false")


def calling(since: float) -> Pace:
    pace = Pace()
    pace.chains.add(Chain(STREAM, WINDOW, calling=True, since=since))
    return pace


def test_a_first_call_late_past_the_scans_median_has_its_slice_cut_in_half() -> None:
    picked = pick_cut(calling(0.0), 4.0, 8, now=BLIND_CUT_AFTER * 0.5 + 0.1, prior=0.5)
    assert picked is not None
    chain, piece = picked
    assert chain.current == WINDOW
    assert piece == Slice(WINDOW.start, WINDOW.start + timedelta(days=1))


def test_a_first_call_answering_at_the_scans_pace_is_not_cut() -> None:
    assert pick_cut(calling(0.0), 4.0, 8, now=BLIND_CUT_AFTER * 0.5 - 0.1, prior=0.5) is None


def test_no_blind_cut_before_any_call_of_the_scan_has_answered() -> None:
    assert pick_cut(calling(0.0), 4.0, 8, now=100.0, prior=None) is None


def test_no_blind_cut_once_the_region_has_shown_its_density() -> None:
    pace = calling(0.0)
    pace.read(1, timedelta(days=1))  # one event a day: nothing worth a cut
    assert pick_cut(pace, 4.0, 8, now=100.0, prior=0.5) is None


def test_a_call_out_past_twice_the_regions_median_is_hedged_once_its_latency_is_known() -> None:
    pace = calling(0.0)
    for _ in range(8):
        pace.observe(1.0)
    assert pick_hedge(pace, now=HEDGE_LATE * 1.0 - 0.1, prior=0.1) is None
    assert pick_hedge(pace, now=HEDGE_LATE * 1.0 + 0.1, prior=0.1) in pace.chains


def test_before_the_region_has_answered_the_scans_median_stands_in_with_a_wider_margin() -> None:
    pace = calling(0.0)
    assert pick_hedge(pace, now=HEDGE_AFTER * 0.5 - 0.1, prior=0.5) is None
    assert pick_hedge(pace, now=HEDGE_AFTER * 0.5 + 0.1, prior=0.5) in pace.chains


def test_an_incremental_window_is_neither_cut_blind_nor_hedged_against_the_scans_median() -> None:
    """An incremental scan reads the interval plus the overlap: a page or none, so a guess made
    before the region has answered would only cost calls (one call per stream when idle)."""
    pace = Pace()
    short = Slice(START, START + timedelta(minutes=75))
    pace.chains.add(Chain(STREAM, short, calling=True, since=0.0))
    assert pick_cut(pace, 4.0, 8, now=100.0, prior=0.5) is None
    assert pick_hedge(pace, now=100.0, prior=0.5) is None
