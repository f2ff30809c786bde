"""A long outage does not grow pending work: each scan's new window joins the slices the failed
scans left pending, so a throttled region costs the same calls scan after scan."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator import Running
from emulator.api.clock import ManualClock
from scanner.catalog import load_catalog
from scanner.plan import Slice, StreamId, Work
from scanner.service import Service
from scanner.store import Store
from tests.conftest import ACCOUNT_A, EMULATOR_NOW, MakeRecord

from .test_service import aws_env, clock_of
from .world import settings_of, volume_history

__all__ = ["aws_env"]

DOWN = "eu-west-1"
SCANS = 6


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    return volume_history(make_record, ("us-east-1", DOWN))


async def test_failed_scans_of_a_throttled_region_leave_one_slice_per_stream(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    settings = settings_of(
        emulator.endpoint_url,
        tmp_path / "state.db",
        ("us-east-1", DOWN),
        **{"retry.attempts": 2, "retry.base_delay_seconds": 0.001},
    )
    store = await Store.open(tmp_path / "state.db")
    stats = emulator.emulator.stats
    try:
        service = Service(settings, store, load_catalog(), clock=clock_of(manual_clock))
        assert (await service.scan_once()).outcome == "ok"
        emulator.emulator.set_faults(f"throttle/{DOWN}")
        calls: list[int] = []
        slices: list[int] = []
        for _ in range(SCANS):
            manual_clock.advance(3600)
            before = stats.get(ACCOUNT_A, DOWN, "calls")
            assert (await service.scan_once()).outcome == "partial"
            calls.append(stats.get(ACCOUNT_A, DOWN, "calls") - before)
            pending = (await store.regions())[(ACCOUNT_A, DOWN)].pending
            slices.append(len(pending))
        assert slices == [1] * SCANS
        assert calls == [calls[0]] * SCANS
        # The one slice covers every hour the outage left unread, with the overlap.
        [left] = pending
        overlap = timedelta(minutes=settings.service.overlap_minutes)
        first_failed = EMULATOR_NOW + timedelta(hours=1)
        assert left.slice.start == EMULATOR_NOW - overlap
        assert left.slice.end == first_failed + timedelta(hours=SCANS - 1)
        # Once the region answers again, one scan reads it all and nothing stays pending.
        emulator.emulator.set_faults("")
        manual_clock.advance(3600)
        assert (await service.scan_once()).outcome == "ok"
        assert (await store.regions())[(ACCOUNT_A, DOWN)].pending == ()
    finally:
        await store.close()


async def test_begin_region_joins_overlapping_and_adjacent_slices_of_a_stream(
    tmp_path: Path,
) -> None:
    stream = StreamId(ACCOUNT_A, DOWN, "read_only=false")
    other = StreamId(ACCOUNT_A, DOWN, "event_name=RunInstances")
    t = EMULATOR_NOW

    def work(of: StreamId, start: int, end: int) -> Work:
        return Work(of, Slice(t + timedelta(seconds=start), t + timedelta(seconds=end)))

    store = await Store.open(tmp_path / "state.db")
    try:
        await store.begin_region(
            ACCOUNT_A, DOWN, t, [work(stream, 0, 10), work(stream, 11, 20), work(other, 0, 5)]
        )
        await store.begin_region(ACCOUNT_A, DOWN, t, [work(stream, 15, 30), work(stream, 40, 50)])
        pending = (await store.regions())[(ACCOUNT_A, DOWN)].pending
    finally:
        await store.close()
    assert sorted(pending) == sorted(
        # 0-10 and 11-20 touch (ends are inclusive whole seconds), 15-30 overlaps; 40-50 is
        # apart; another stream's slice is its own.
        [work(stream, 0, 30), work(stream, 40, 50), work(other, 0, 5)]
    )
