"""`/readyz` from the service's own facts: not ready when the last scan's store writes failed
(a real SQLite file that is full) or when it read no region; never waiting for the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
from aiohttp.test_utils import TestClient, TestServer

from emulator import Running
from emulator.api.clock import ManualClock
from scanner.metrics import build_registry
from scanner.service import Service
from scanner.web import Context, create_app
from tests.conftest import EMULATOR_NOW, MakeRecord

from .test_service import aws_env, service_for

__all__ = ["aws_env"]


async def readyz(service: Service) -> tuple[int, dict[str, Any]]:
    context = Context(
        service.snapshot,
        service.store,
        build_registry(service.snapshot),
        readiness=service.readiness,
    )
    async with TestClient(TestServer(create_app(context))) as client:
        answer = await client.get("/readyz")
        body: dict[str, Any] = await answer.json()
        return answer.status, body


async def test_not_ready_when_the_store_cannot_take_the_scans_writes(
    emulator: Running,
    manual_clock: ManualClock,
    aws_env: None,
    tmp_path: Path,
    make_record: MakeRecord,
) -> None:
    async with service_for(emulator, manual_clock, tmp_path / "state.db") as service:
        await service.scan_once()
        assert (await readyz(service))[0] == 200
        # The file may not grow by a page, and the next scan has 400 new resources to store.
        connection = service.store._connection
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        manual_clock.advance(3600)
        emulator.emulator.add_records(
            make_record(
                name="CreateVolume",
                when=EMULATOR_NOW + timedelta(minutes=30),
                responseElements={"volumeId": f"vol-{n:017x}", "size": 8},
            )
            for n in range(400)
        )
        assert (await service.scan_once()).outcome == "crashed"
        assert "database or disk is full" in str(service.health.store_error)
        status, body = await readyz(service)
        assert (status, body["ready"], body["store_writable"]) == (503, False, False)
        assert body["first_scan_finished"] is True
        # Room again: the next scan's writes go through, and the service is ready.
        connection.execute("PRAGMA max_page_count = 1073741823")
        manual_clock.advance(3600)
        assert (await service.scan_once()).outcome == "ok"
        status, body = await readyz(service)
        assert (status, body["ready"], body["store_writable"]) == (200, True, True)


async def test_not_ready_when_every_region_of_the_last_scan_failed(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    async with service_for(emulator, manual_clock, tmp_path / "state.db") as service:
        await service.scan_once()
        assert (await readyz(service))[1]["all_regions_failed"] is False
        for faults in ("down", "denied"):
            emulator.emulator.set_faults(faults)
            manual_clock.advance(3600)
            assert (await service.scan_once()).outcome == "failed"
            status, body = await readyz(service)
            assert (status, body["ready"], body["all_regions_failed"]) == (503, False, True)
            assert body["last_scan"]["outcome"] == "failed"
        emulator.emulator.set_faults("")
        manual_clock.advance(3600)
        assert (await service.scan_once()).outcome == "ok"
        status, body = await readyz(service)
        assert (status, body["ready"], body["all_regions_failed"]) == (200, True, False)


async def test_readyz_does_not_wait_for_the_store(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    async with service_for(emulator, manual_clock, tmp_path / "state.db") as service:
        await service.scan_once()
        # The store's one thread is taken (a long write, a snapshot's read): /readyz answers.
        async with service.store._limiter:
            with anyio.fail_after(10):  # a guard against hanging, not a timing
                status, body = await readyz(service)
        assert (status, body["ready"]) == (200, True)
