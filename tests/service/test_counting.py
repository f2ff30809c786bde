"""Every failure is counted by reason: retried 5xx and dropped connections (as the emulator saw
them), and a scan that crashes on a full state file, which the service survives and reports."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator import Running
from emulator.api.clock import ManualClock
from scanner.catalog import load_catalog
from scanner.service import Service
from scanner.store import Store
from tests.conftest import ACCOUNT_A, EMULATOR_NOW, MakeRecord

from .test_service import aws_env, clock_of
from .world import settings_of, volume_history

__all__ = ["aws_env"]

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    """Forty volumes a region: a few pages per region."""
    return volume_history(make_record, REGIONS, per_region=40)


def service_of(emulator: Running, store: Store, clock: ManualClock) -> Service:
    settings = settings_of(
        emulator.endpoint_url,
        store.path,
        REGIONS,
        stream_strategy="event_names",
        **{
            "retry.attempts": 12,
            "retry.base_delay_seconds": 0.001,
            "retry.max_delay_seconds": 0.01,
        },
    )
    return Service(settings, store, load_catalog(), clock=clock_of(clock))


async def test_retried_5xx_and_dropped_connections_are_counted_by_reason(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    emulator.emulator.set_faults("5xx/us-east-1:0.3,drop/eu-west-1:0.3")
    store = await Store.open(tmp_path / "state.db")
    try:
        service = service_of(emulator, store, manual_clock)
        summary = await service.scan_once()
        snapshot = service.snapshot()
    finally:
        await store.close()
    assert summary.outcome == "ok"  # every call got through in the end
    assert snapshot is not None
    metrics = snapshot.metrics
    stats = emulator.emulator.stats
    for region in REGIONS:
        faulted = stats.get(ACCOUNT_A, region, "faulted")
        assert faulted > 0
        assert metrics.lookup_requests[(ACCOUNT_A, region, "error")] == faulted
        assert metrics.scan_errors[(ACCOUNT_A, region, "unavailable")] == faulted
    assert summary.result is not None
    assert summary.result.stats.retried == sum(
        stats.get(ACCOUNT_A, region, "faulted") for region in REGIONS
    )


def fill_up(store: Store) -> None:
    """Let the state file grow no more: SQLite answers `database or disk is full`, as on a full
    disk. (The limit is the connection's own, so it is set on the store's connection.)"""
    connection = store._connection
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")


def free_up(store: Store) -> None:
    store._connection.execute("PRAGMA max_page_count = 4294967294")


async def test_a_scan_that_crashes_on_a_full_state_file_is_counted_and_the_service_goes_on(
    emulator: Running,
    manual_clock: ManualClock,
    aws_env: None,
    tmp_path: Path,
    make_record: MakeRecord,
) -> None:
    store = await Store.open(tmp_path / "state.db")
    try:
        service = service_of(emulator, store, manual_clock)
        assert (await service.scan_once()).outcome == "ok"
        assert service.health.store_write_ok is True
        assert service.health.last_scan_all_failed is False
        # Many new resources: more than the free room in the file's pages.
        emulator.emulator.add_records(
            make_record(
                name="CreateVolume",
                region=region,
                when=EMULATOR_NOW + timedelta(seconds=index + 1),
                responseElements={"volumeId": f"vol-{index:06d}{region[:2]}{1:09d}", "size": 8},
            )
            for region in REGIONS
            for index in range(400)
        )
        manual_clock.advance(3600)
        fill_up(store)
        summary = await service.scan_once()  # does not raise
        assert summary.outcome == "crashed"
        health = service.health
        assert health.store_write_ok is False
        assert health.store_error is not None
        assert "database or disk is full" in health.store_error
        assert health.last_scan_all_failed is True
        snapshot = service.snapshot()
        assert snapshot is not None
        for region in REGIONS:
            assert snapshot.metrics.scan_errors[(ACCOUNT_A, region, "store")] == 1
        # Room again: the next scan reads what the crashed one could not store, and the crash
        # stays counted, now in the state file too.
        free_up(store)
        manual_clock.advance(3600)
        assert (await service.scan_once()).outcome == "ok"
        assert service.health.store_write_ok is True
        assert service.health.last_scan_all_failed is False
        snapshot = service.snapshot()
        assert snapshot is not None
        assert len([e for e in snapshot.entries if e.key.resource_type == "ec2.volume"]) == 880
        counted = {
            (c.region, c.label): c.value for c in await store.counters() if c.name == "scan_errors"
        }
        assert {counted[(region, "store")] for region in REGIONS} == {1}
    finally:
        free_up(store)
        await store.close()


def test_a_full_state_file_says_so() -> None:
    """What the test above relies on: the limit makes SQLite fail as a full disk does."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (x)")
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        connection.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 100)
