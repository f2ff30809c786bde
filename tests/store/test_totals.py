"""Totals per scan and account in the state file: schema v5, kept once per scan, read by time."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scanner.store import SCHEMA_VERSION, ScanTotal, Store, account_totals, migrate

T0 = datetime(2025, 1, 1, tzinfo=UTC)


async def test_migrates_forward_from_v4_keeping_scans_and_adding_totals(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    connection = sqlite3.connect(path, isolation_level=None)
    assert migrate(connection, target=4) == 4
    connection.execute(
        "INSERT INTO scans (started_at, finished_at, outcome) VALUES (?, ?, 'ok')",
        (T0.isoformat(), T0.isoformat()),
    )
    connection.close()
    store = await Store.open(path)
    try:
        assert await store.schema_version() == SCHEMA_VERSION == 5
        last = await store.last_finished_scan()
        assert last is not None
        assert last.scan_id == 1
        assert await store.totals_since(T0) == []
        rows = account_totals(1, T0, [("111", 0.5), ("222", None), ("111", 0.25)], ["333"])
        assert await store.record_totals(1, rows)
        assert await store.totals_since(T0) == [
            ScanTotal(1, T0, "111", 2, 0.75),
            ScanTotal(1, T0, "222", 1, 0.0),
            ScanTotal(1, T0, "333", 0, 0.0),
        ]
    finally:
        await store.close()


async def test_totals_are_kept_once_per_scan_and_read_from_a_time(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.db")
    try:
        first = account_totals(1, T0, [("111", 1.0)])
        later = account_totals(2, T0 + timedelta(hours=1), [("111", 1.0), ("111", 2.0)])
        assert await store.record_totals(1, first)
        assert await store.record_totals(2, later)
        # A snapshot rebuilt for the same scan (a restart) keeps the first totals.
        assert not await store.record_totals(2, account_totals(2, T0, [("999", 9.0)]))
        assert await store.totals_since(T0) == [*first, *later]
        assert await store.totals_since(T0 + timedelta(minutes=1)) == later
    finally:
        await store.close()
