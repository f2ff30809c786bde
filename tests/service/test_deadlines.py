"""One hung region never stalls the rest: calls time out and are retried, each account-region has
a deadline per scan, the others are published, and the hung region is one error row with a count.
The emulator's `hang` fault holds a call open until the emulator stops."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from emulator import Running
from emulator.api.clock import ManualClock
from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.service import Service
from scanner.store import Store
from tests.conftest import ACCOUNT_A, EMULATOR_NOW, MakeRecord

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


async def test_the_regions_read_are_published_while_a_hung_one_is_still_tried(
    emulator: Running,
    manual_clock: ManualClock,
    aws_env: None,
    tmp_path: Path,
    make_record: MakeRecord,
) -> None:
    """No deadline in sight: the hung region's calls time out and are retried for a long while,
    and the service swaps in what the others read without waiting for it."""
    settings = settings_of(
        emulator.endpoint_url,
        tmp_path / "state.db",
        (*HEALTHY, HUNG),
        deadline_seconds=GUARD_SECONDS * 10,
        **{
            "retry.attempts": 20,
            "retry.call_timeout_seconds": 0.2,
            "retry.base_delay_seconds": 0.5,
            "retry.max_delay_seconds": 0.5,
        },
    )
    store = await Store.open(tmp_path / "state.db")
    try:
        service = Service(settings, store, load_catalog(), clock=clock_of(manual_clock))
        assert (await service.scan_once()).outcome == "ok"
        first = service.snapshot()
        assert first is not None
        emulator.emulator.add_records(
            make_record(
                name="CreateVolume",
                region=region,
                when=EMULATOR_NOW + timedelta(minutes=30),
                responseElements={"volumeId": f"{volume_id(region)}-new", "size": 8},
            )
            for region in (*HEALTHY, HUNG)
        )
        emulator.emulator.set_faults(f"hang/{HUNG}")
        manual_clock.advance(3600)
        finished: list[object] = []
        with anyio.fail_after(GUARD_SECONDS):
            async with anyio.create_task_group() as group:

                async def scan() -> None:
                    finished.append(await service.scan_once())

                group.start_soon(scan)
                while service.snapshot() is first:  # noqa: ASYNC110 (the service has no event)
                    await anyio.sleep(0.05)
                published = service.snapshot()
                assert finished == []  # the scan still tries the hung region
                group.cancel_scope.cancel()
    finally:
        await store.close()
    assert published is not None
    ids = {e.key.resource_id for e in published.entries}
    assert ids >= {f"{volume_id(r)}-new" for r in HEALTHY}
    assert f"{volume_id(HUNG)}-new" not in ids
