"""The service checks leftovers after a scan, again only once their verdict has aged, and
counts the outcomes in `leftovers_verifications_total`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest

from emulator import Running
from emulator.api.clock import ManualClock
from scanner.catalog import load_catalog
from scanner.metrics import build_registry
from scanner.service import Service
from scanner.snapshot import Snapshot
from scanner.store import Store
from tests.conftest import EMULATOR_NOW, MakeRecord
from tests.service.world import settings_of
from tests.verify.moto import Moto, endpoint_variable, moto_server

REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    yield from moto_server()


@pytest.fixture(scope="module")
def volumes(moto: Moto) -> list[str]:
    ec2 = moto.client("ec2")
    return [ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"] for _ in range(3)]


@pytest.fixture
def emulator_history(make_record: MakeRecord, volumes: list[str]) -> list[dict[str, Any]]:
    return [
        make_record(
            name="CreateVolume",
            region=REGION,
            when=EMULATOR_NOW - timedelta(days=1, minutes=n),
            responseElements={"volumeId": volume, "size": 8},
        )
        for n, volume in enumerate(volumes)
    ]


@pytest.fixture(autouse=True)
def aws_env(emulator: Running, moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv(endpoint_variable("ec2"), moto.endpoint_url)


def _live(snapshot: Snapshot | None) -> set[str]:
    assert snapshot is not None
    return {entry.key.resource_id for entry in snapshot.entries}


def _gone(snapshot: Snapshot | None) -> set[str]:
    assert snapshot is not None
    assert snapshot.verified_gone is not None
    return {str(item["resource_id"]) for item in snapshot.verified_gone}


def _counted(service: Service) -> str:
    text = generate_latest(build_registry(service.snapshot)).decode()
    return "\n".join(line for line in text.splitlines() if line.startswith("leftovers_verif"))


async def test_checks_after_each_scan_once_the_verdict_has_aged(
    emulator: Running,
    manual_clock: ManualClock,
    moto: Moto,
    volumes: list[str],
    tmp_path: Path,
) -> None:
    settings = settings_of(
        emulator.endpoint_url,
        tmp_path / "state.db",
        (REGION,),
        verify=True,
        verify_max_age_seconds=3600,
    )
    store = await Store.open(tmp_path / "state.db")

    def clock() -> datetime:
        return datetime.fromtimestamp(manual_clock.now(), UTC).replace(microsecond=0)

    ec2 = moto.client("ec2")
    try:
        service = Service(settings, store, load_catalog(), clock=clock)
        ec2.delete_volume(VolumeId=volumes[0])
        await service.scan_once()
        assert (_live(service.snapshot()), _gone(service.snapshot())) == (
            set(volumes[1:]),
            {volumes[0]},
        )
        entry = service.snapshot().entries[0]  # type: ignore[union-attr]
        assert entry.item["verification"]["outcome"] == "present"
        assert entry.item["verification"]["live_state"] == "available"

        ec2.delete_volume(VolumeId=volumes[1])
        manual_clock.advance(600)  # checked 10 minutes ago: not asked again
        await service.scan_once()
        assert _live(service.snapshot()) == set(volumes[1:])

        manual_clock.advance(3600)
        await service.scan_once()
        assert _live(service.snapshot()) == {volumes[2]}
        assert _gone(service.snapshot()) == set(volumes[:2])
        assert _counted(service).splitlines() == [
            'leftovers_verifications_total{outcome="gone"} 2.0',
            'leftovers_verifications_total{outcome="present"} 3.0',
            'leftovers_verifications_total{outcome="unknown"} 0.0',
        ]
    finally:
        await store.close()
