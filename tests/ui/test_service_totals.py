"""What the service does for the pages when it swaps a snapshot: totals kept once per scan, and
the snapshot frozen out of the collector's sight."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scanner.catalog import load_catalog
from scanner.lifecycle import Actor, Change, Fact, ResourceKey
from scanner.pages import Page
from scanner.plan import Slice, StreamId, Work
from scanner.service import Service
from scanner.settings import ServiceSettings, Settings
from scanner.store import ScanTotal, Store

NOW = datetime.now(UTC).replace(microsecond=0)


def volume(account: str, n: int) -> Fact:
    key = ResourceKey(account, "eu-west-1", "ec2.volume", f"vol-{n}")
    attributes = (("size_gb", "100"), ("volume_type", "gp3"))  # 100 GB x 0.08 / 730 h
    return Fact(
        key,
        Change.CREATE,
        NOW - timedelta(days=1),
        f"e{n}",
        "CreateVolume",
        Actor(),
        attributes=attributes,
    )


async def test_refresh_keeps_totals_once_per_scan_and_freezes_the_snapshot(
    tmp_path: Path,
) -> None:
    store = await Store.open(tmp_path / "state.db")
    try:
        window = Slice(NOW - timedelta(days=2), NOW)
        by_account: dict[str, tuple[Fact, ...]] = {
            "111111111111": (volume("111111111111", 1), volume("111111111111", 2)),
            "222": (volume("222", 3),),
        }
        for account, facts in by_account.items():  # each region's window read in full
            stream = StreamId(account, "eu-west-1", "read_only=false")
            await store.begin_region(account, "eu-west-1", NOW, [Work(stream, window)])
            await store.apply(Page(stream, window, facts, len(facts), None))
        scan = await store.begin_scan(NOW)
        await store.finish_scan(scan, finished_at=NOW, outcome="ok", stats={}, errors=[])
        settings = Settings(service=ServiceSettings(state_path=str(tmp_path / "state.db")))
        service = Service(settings, store, load_catalog(), clock=lambda: NOW)
        gc.unfreeze()
        snapshot = await service.refresh()
        assert snapshot is not None
        assert gc.get_freeze_count() > len(snapshot.lifecycles)
        await service.refresh()  # a restart rebuilds the same scan's snapshot
        cost = 100 * 0.08 / 730
        rows = await store.totals_since(NOW - timedelta(days=1))
        assert [(r.account_id, r.leftovers) for r in rows] == [("111111111111", 2), ("222", 1)]
        assert rows[0] == ScanTotal(scan, NOW, "111111111111", 2, rows[0].hourly_cost)
        assert abs(rows[0].hourly_cost - 2 * cost) < 1e-9
    finally:
        gc.unfreeze()
        await store.close()
