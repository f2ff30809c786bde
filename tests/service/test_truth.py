"""The service tells the truth when part of a scan fails: a region with a gap in its reading is
no source of leftovers (its resources are listed apart, not counted), and the state it keeps
forgets deleted resources after the retention without changing what is reported."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from emulator import Running
from emulator.api.clock import ManualClock
from scanner.lifecycle import ResourceKey
from scanner.metrics import build_registry
from scanner.web import Context, create_app
from tests.conftest import ACCOUNT_A, EMULATOR_NOW, MakeRecord

from .test_service import DAY, aws_env, service_for, volumes

__all__ = ["aws_env"]

KEPT = "vol-00000000000000001"
GONE = "vol-00000000000000002"
NEWER = "vol-00000000000000003"
REGION = "eu-west-1"


def volume_record(make_record: MakeRecord, name: str, volume: str, age: timedelta) -> Any:
    body = {"volumeId": volume, "size": 8, "volumeType": "gp3"}
    return make_record(
        name=name,
        region=REGION,
        when=EMULATOR_NOW - age,
        requestParameters={"volumeId": volume} if name == "DeleteVolume" else {"size": 8},
        responseElements=body if name == "CreateVolume" else None,
    )


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    """Two volumes in eu-west-1, created 10 days ago, both alive (for now)."""
    return [volume_record(make_record, "CreateVolume", v, 10 * DAY) for v in (KEPT, GONE)]


async def test_a_gap_left_by_a_failed_scan_publishes_no_deleted_resource(
    emulator: Running,
    manual_clock: ManualClock,
    aws_env: None,
    tmp_path: Path,
    make_record: MakeRecord,
) -> None:
    async with service_for(emulator, manual_clock, tmp_path / "state.db") as service:
        await service.scan_once()
        assert volumes(service.snapshot()) == {KEPT, GONE}
        # An hour on, GONE is deleted, and the scan that would read the deletion fails there.
        manual_clock.advance(3600)
        deletion = volume_record(make_record, "DeleteVolume", GONE, -timedelta(minutes=30))
        emulator.emulator.add_records([deletion])
        emulator.emulator.set_faults(f"denied/{REGION}")
        assert (await service.scan_once()).outcome == "partial"
        snapshot = service.snapshot()
        assert snapshot is not None
        assert volumes(snapshot) == set()
        assert {e.key.resource_id for e in snapshot.incomplete} == {KEPT, GONE}
        context = Context(service.snapshot, service.store, build_registry(service.snapshot))
        async with TestClient(TestServer(create_app(context))) as client:
            body = await (await client.get("/results")).json()
            metrics = await (await client.get("/metrics")).text()
        assert body["leftovers"] == []
        assert {i["resource_id"] for i in body["incomplete"]} == {KEPT, GONE}
        assert all(i["reason"].startswith("a gap after a failed scan") for i in body["incomplete"])
        assert [(r["account_id"], r["region"]) for r in body["incomplete_regions"]] == [
            (ACCOUNT_A, REGION)
        ]
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(metrics)
            for sample in family.samples
        }
        where = (("account_id", ACCOUNT_A), ("region", REGION))
        assert samples[("leftovers_incomplete_regions", where)] == 1
        assert sum(v for (name, _), v in samples.items() if name == "leftovers_resources") == 0
        assert not any(name == "leftovers_estimated_hourly_cost_usd" for name, _ in samples)
        # Once the gap is read, the deletion is known: only KEPT is left over.
        emulator.emulator.set_faults("")
        manual_clock.advance(3600)
        assert (await service.scan_once()).outcome == "ok"
        assert volumes(service.snapshot()) == {KEPT}
        assert service.snapshot().incomplete == ()  # type: ignore[union-attr]


async def test_a_scan_forgets_resources_deleted_longer_ago_than_the_retention(
    emulator: Running,
    manual_clock: ManualClock,
    aws_env: None,
    tmp_path: Path,
    make_record: MakeRecord,
) -> None:
    emulator.emulator.add_records([volume_record(make_record, "DeleteVolume", GONE, 5 * DAY)])
    gone = ResourceKey(ACCOUNT_A, REGION, "ec2.volume", GONE)
    async with service_for(emulator, manual_clock, tmp_path / "state.db") as service:
        await service.scan_once()
        assert volumes(service.snapshot()) == {KEPT}
        # 174 days on, the deletion is 179 days old: kept (the retention is 180 days). A new
        # volume's events are the newest facts (the lifecycle holding the newest never expires).
        manual_clock.advance(174 * 86400)
        emulator.emulator.add_records(
            [volume_record(make_record, "CreateVolume", NEWER, -174 * DAY)]
        )
        await service.scan_once()
        assert await service.store.lifecycle(gone) is not None
        manual_clock.advance(2 * 86400)
        await service.scan_once()
        assert await service.store.lifecycle(gone) is None
        snapshot = service.snapshot()
        assert snapshot is not None
        assert gone not in snapshot.lifecycles
        assert volumes(snapshot) == {KEPT, NEWER}
