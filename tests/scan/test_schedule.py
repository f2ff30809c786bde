"""Scheduling policy: cuts when a token goes unused (blind for a slow region's first call),
hedges of late calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scanner.plan import PAGE_SIZE, Slice, StreamId
from scanner.schedule import (
    BLIND_CUT_AFTER,
    HEDGE_AFTER,
    HEDGE_LATE,
    KEEP_PAGES,
    MIN_PAGES_TO_CUT,
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
    picked = pick_cut(calling(0.0), 8, now=BLIND_CUT_AFTER * 0.5 + 0.1, prior=0.5)
    assert picked is not None
    chain, piece = picked
    assert chain.current == WINDOW
    assert piece == Slice(WINDOW.start, WINDOW.start + timedelta(days=1))


def test_a_first_call_answering_at_the_scans_pace_is_not_cut() -> None:
    assert pick_cut(calling(0.0), 8, now=BLIND_CUT_AFTER * 0.5 - 0.1, prior=0.5) is None


def test_no_blind_cut_before_any_call_of_the_scan_has_answered() -> None:
    assert pick_cut(calling(0.0), 8, now=100.0, prior=None) is None


def test_no_blind_cut_once_the_region_has_shown_its_density() -> None:
    pace = calling(0.0)
    pace.read(1, timedelta(days=1))  # one event a day: nothing worth a cut
    assert pick_cut(pace, 8, now=100.0, prior=0.5) is None


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
    assert pick_cut(pace, 8, now=100.0, prior=0.5) is None
    assert pick_hedge(pace, now=100.0, prior=0.5) is None


def dense(chains: int, pages_each: float) -> Pace:
    """A region that has shown its density (a page per hour), `chains` chains calling, each with
    `pages_each` pages of its slice left."""
    pace = Pace()
    pace.read(PAGE_SIZE, timedelta(hours=1))
    for n in range(chains):
        start = START + timedelta(days=n)
        rest = Slice(start, start + timedelta(hours=pages_each))
        pace.chains.add(Chain(STREAM, rest, calling=True, since=0.0))
    return pace


def test_an_unused_token_cuts_the_widest_slice_up_to_the_chain_cap() -> None:
    """The pacing target (rate x latency) does not stop a cut: a token going unused shows every
    chain is waiting on its call. Only the cap does."""
    pace = dense(chains=6, pages_each=3.0)
    for _ in range(8):
        pace.observe(0.5)
    assert len(pace.chains) > pace.target_chains(4.0, 8)
    picked = pick_cut(pace, 8, now=1.0, prior=0.5)
    assert picked is not None
    chain, piece = picked
    assert piece.start == chain.current.start
    assert piece.end < chain.current.end
    assert pick_cut(dense(chains=8, pages_each=3.0), 8, now=1.0, prior=0.5) is None


def test_a_slice_with_a_page_and_a_half_left_is_cut_and_a_shorter_one_is_not() -> None:
    picked = pick_cut(dense(chains=1, pages_each=MIN_PAGES_TO_CUT + 0.1), 8, now=1.0, prior=0.5)
    assert picked is not None
    chain, piece = picked
    # The chain keeps what its call out most likely reads; the older rest goes to a new chain.
    assert chain.current.end - piece.end <= timedelta(hours=KEEP_PAGES)
    assert pick_cut(dense(chains=1, pages_each=1.2), 8, now=1.0, prior=0.5) is None
