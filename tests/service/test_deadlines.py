"""One hung region never stalls the rest: calls time out and are retried, each account-region has
a deadline per scan, the others are published, and the hung region is one error row with a count.
The emulator's `hang` fault holds a call open until the emulator stops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import ACCOUNT_A, MakeRecord

from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.emulator.clock import ManualClock
from scanner.emulator.runtime import Running
from scanner.service import Service
from scanner.store import Store

from .test_service import aws_env, clock_of
from .world import settings_of, volume_history, volume_id

__all__ = ["aws_env"]

HUNG = "eu-west-1"
HEALTHY = ("us-east-1", "us-west-2")
#: A bound for the test itself: without deadlines a hung call waits 60 s, six times over.
GUARD_SECONDS = 60


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    """A volume created yesterday in each region."""
    return volume_history(make_record, (*HEALTHY, HUNG))


def regions_flags() -> list[str]:
    return [flag for region in (*HEALTHY, HUNG) for flag in ("--region", region)]


async def test_a_hung_region_ends_at_its_deadline_and_the_others_are_published(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    emulator.emulator.set_faults(f"hang/{HUNG}")
    # One chain per event name: many streams hang in the hung region.
    settings = settings_of(
        emulator.endpoint_url,
        tmp_path / "state.db",
        (*HEALTHY, HUNG),
        stream_strategy="event_names",
        deadline_seconds=1.0,
    )
    store = await Store.open(tmp_path / "state.db")
    try:
        service = Service(settings, store, load_catalog(), clock=clock_of(manual_clock))
        with anyio.fail_after(GUARD_SECONDS):
            summary = await service.scan_once()
        snapshot = service.snapshot()
        regions = await store.regions()
    finally:
        await store.close()
    assert summary.outcome == "partial"
    assert snapshot is not None
    assert {e.key.resource_id for e in snapshot.entries} >= {volume_id(r) for r in HEALTHY}
    [row] = [e for e in snapshot.errors if e["region"] == HUNG]
    assert row["count"] == len(regions[(ACCOUNT_A, HUNG)].pending) > 1
    assert "deadline" in row["reason"]
    assert [e for e in snapshot.errors if e["region"] != HUNG] == []
    metrics = snapshot.metrics
    assert metrics.scan_errors[(ACCOUNT_A, HUNG, "timeout")] == row["count"]
    assert metrics.last_success[(ACCOUNT_A, HUNG)] == 0
    assert all(metrics.last_success[(ACCOUNT_A, r)] > 0 for r in HEALTHY)


def test_scan_deadline_flag_reports_the_rest_and_the_hung_region_once(
    emulator_thread: Running, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator_thread.emulator.set_faults(f"hang/{HUNG}")
    flags = ["--endpoint-url", emulator_thread.endpoint_url, "--rate", "100"]
    argv = ["scan", "--format", "json", *flags, *regions_flags(), "--deadline", "1"]
    with anyio.from_thread.start_blocking_portal() as portal:
        # The guard runs in a thread of its own: main() runs its own event loop.
        status = portal.call(_guarded, argv)
    document = json.loads(capsys.readouterr().out)
    assert status == 2
    assert {i["resource_id"] for i in document["leftovers"]} == {volume_id(r) for r in HEALTHY}
    [row] = document["errors"]
    assert row["region"] == HUNG
    assert row["count"] >= 1
    assert "deadline" in row["reason"]


async def _guarded(argv: list[str]) -> int:
    with anyio.fail_after(GUARD_SECONDS):
        return await anyio.to_thread.run_sync(main, argv, abandon_on_cancel=True)
