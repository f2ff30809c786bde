"""The service in process against the emulator: planning from checkpoints, state kept past the
90-day history, a failing region keeping its last good values, scans that never overlap."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import pytest
from aiohttp.test_utils import TestClient, TestServer

from emulator import Running
from emulator.api.clock import ManualClock
from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.metrics import build_registry
from scanner.plan import Slice, StreamId, Work
from scanner.runner import Targets, event_set, plan_scan
from scanner.service import Service
from scanner.settings import Settings, load_settings
from scanner.snapshot import Snapshot
from scanner.sources.lookup import LookupSource
from scanner.store import RegionState, Store
from scanner.web import Context, create_app
from tests.conftest import ACCOUNT_A, EMULATOR_NOW, MakeRecord

OLD_VOLUME = "vol-0000000000000000a"
NEW_VOLUME = "vol-0000000000000000b"
DAY = timedelta(days=1)


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    """One volume created 80 days ago in us-east-1, one created yesterday in eu-west-1."""
    return [
        make_record(
            name="CreateVolume",
            region=region,
            when=EMULATOR_NOW - age,
            requestParameters={"size": 8},
            responseElements={"volumeId": volume, "size": 8, "volumeType": "gp3"},
        )
        for region, volume, age in (
            ("us-east-1", OLD_VOLUME, 80 * DAY),
            ("eu-west-1", NEW_VOLUME, DAY),
        )
    ]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith(("AWS_", "LEFTOVERS_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEMULATOR00000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def settings_for(endpoint_url: str, state: Path) -> Settings:
    return load_settings(
        None,
        env={},
        flags={
            "regions": ["us-east-1", "eu-west-1"],
            "endpoint_url": endpoint_url,
            "rate": 100.0,
            "retry.attempts": 1,
            "service.state_path": str(state),
        },
    )


def clock_of(manual: ManualClock) -> Any:
    return lambda: datetime.fromtimestamp(manual.now(), UTC).replace(microsecond=0)


@contextlib.asynccontextmanager
async def service_for(
    emulator: Running, clock: ManualClock, state: Path, factory: Any = None
) -> AsyncIterator[Service]:
    """A Service over a state file at `state`, against the emulator, on the manual clock."""
    settings = settings_for(emulator.endpoint_url, state)
    store = await Store.open(state)
    try:
        yield Service(
            settings, store, load_catalog(), clock=clock_of(clock), source_factory=factory
        )
    finally:
        await store.close()


def volumes(snapshot: Snapshot | None) -> set[str]:
    assert snapshot is not None
    return {e.key.resource_id for e in snapshot.entries if e.key.resource_type == "ec2.volume"}


def test_plan_reads_from_the_checkpoint_minus_the_overlap_or_after_pending_work(
    tmp_path: Path,
) -> None:
    settings = settings_for("http://127.0.0.1:9", tmp_path / "state.db")
    events = event_set(load_catalog())
    now = EMULATOR_NOW
    overlap = timedelta(minutes=settings.service.overlap_minutes)
    fresh = (ACCOUNT_A, "us-east-1")
    checked = (ACCOUNT_A, "eu-west-1")
    unfinished = ("222222222222", "eu-west-1")
    pending = Work(StreamId(*unfinished, "read_only=false"), Slice(now - 90 * DAY, now - DAY))
    known = {
        checked: RegionState(*checked, now - 2 * DAY, None, now - 2 * DAY, ()),
        unfinished: RegionState(*unfinished, None, now - DAY, None, (pending,)),
    }
    work = plan_scan([fresh, checked, unfinished], known, now, settings, events)
    # (Regions planned without us-east-1 also get EventName chains there for global types.)
    starts = {
        where: {w.slice.start for w in items if w.stream.name == "read_only=false"}
        for where, items in work.items()
        if where in (fresh, checked, unfinished)
    }
    assert starts == {
        fresh: {now - timedelta(days=settings.lookback_days)},
        checked: {now - 2 * DAY - overlap},
        unfinished: {now - DAY - overlap},
    }
    assert all(w.slice.end == now for items in work.values() for w in items)


async def test_state_older_than_the_history_is_kept(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    async with service_for(emulator, manual_clock, tmp_path / "state.db") as service:
        first = await service.scan_once()
        assert first.outcome == "ok"
        assert volumes(service.snapshot()) == {OLD_VOLUME, NEW_VOLUME}
        # 20 days on, the old volume's creation has left the emulator's 90-day history.
        manual_clock.advance(20 * 86400)
        await service.scan_once()
        assert volumes(service.snapshot()) == {OLD_VOLUME, NEW_VOLUME}
    # A fresh state file, reading the same history now, no longer sees it.
    async with service_for(emulator, manual_clock, tmp_path / "fresh.db") as fresh:
        await fresh.scan_once()
        assert volumes(fresh.snapshot()) == {NEW_VOLUME}


async def test_the_api_serves_no_raw_records_or_access_keys(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    async with service_for(emulator, manual_clock, tmp_path / "state.db") as service:
        await service.scan_once()
        context = Context(service.snapshot, service.store, build_registry(service.snapshot))
        async with TestClient(TestServer(create_app(context))) as client:
            texts = [
                await (await client.get(path)).text()
                for path in (
                    "/results",
                    f"/resources/{ACCOUNT_A}/us-east-1/ec2.volume/{OLD_VOLUME}",
                    "/metrics",
                )
            ]
    assert OLD_VOLUME in texts[1]
    for text in texts:
        # the records' userIdentity.accessKeyId, and parts of the raw record
        for word in ("AKIAALICE", "accessKeyId", "requestParameters", "userIdentity"):
            assert word not in text


async def test_a_failing_region_keeps_its_last_good_values(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    async with service_for(emulator, manual_clock, tmp_path / "state.db") as service:
        await service.scan_once()
        good = service.snapshot()
        assert good is not None
        where = (ACCOUNT_A, "eu-west-1")
        emulator.emulator.set_faults("denied/eu-west-1")
        manual_clock.advance(3600)
        summary = await service.scan_once()
        assert summary.outcome == "partial"
        failed = service.snapshot()
        assert failed is not None
        assert volumes(failed) == volumes(good) == {OLD_VOLUME, NEW_VOLUME}
        assert failed.metrics.last_success[where] == good.metrics.last_success[where]
        other = (ACCOUNT_A, "us-east-1")
        assert failed.metrics.last_success[other] == good.metrics.last_success[other] + 3600
        assert failed.metrics.scan_errors[(*where, "access_denied")] >= 1
        assert {(e["account_id"], e["region"]) for e in failed.errors} == {where}
        # The failed work stays pending and is read once the region answers again.
        emulator.emulator.set_faults("")
        manual_clock.advance(3600)
        assert (await service.scan_once()).outcome == "ok"
        assert (await service.store.regions())[where].pending == ()


async def test_a_scan_that_cannot_find_its_accounts_still_reports_full_stats(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    os.environ.pop("AWS_ACCESS_KEY_ID")
    os.environ.pop("AWS_SECRET_ACCESS_KEY")
    async with service_for(emulator, manual_clock, tmp_path / "state.db") as service:
        assert (await service.scan_once()).outcome == "failed"
        snapshot = service.snapshot()
    assert snapshot is not None
    assert set(snapshot.stats) >= {
        "api_calls",
        "throttled",
        "events_read",
        "events_matched",
        "duration_seconds",
    }
    assert [e["reason"] for e in snapshot.errors] != [""]


class InUse:
    """How many sources are open now, and the most ever open at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0


class CountingSource:
    """A LookupSource that counts how many scans use a source at the same time."""

    def __init__(self, inner: LookupSource, in_use: InUse) -> None:
        self.inner = inner
        self.in_use = in_use
        self.time_sliced = inner.time_sliced

    async def __aenter__(self) -> CountingSource:
        await self.inner.__aenter__()
        self.in_use.now += 1
        self.in_use.most = max(self.in_use.most, self.in_use.now)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.in_use.now -= 1
        await self.inner.__aexit__(kind, error, traceback)

    async def warm(self, keys: Iterable[tuple[str, str]]) -> None:
        await self.inner.warm(keys)

    async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> Any:
        await anyio.sleep(0.01)
        return await self.inner.fetch(stream, bounds, token)


async def test_scans_never_overlap(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> None:
    watches = load_catalog().watches
    in_use = InUse()

    def source(targets: Targets) -> CountingSource:
        sessions = {account: s.session for account, s in targets.sessions.items()}
        return CountingSource(LookupSource(sessions, watches, emulator.endpoint_url), in_use)

    async with service_for(emulator, manual_clock, tmp_path / "state.db", source) as service:
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(service.scan_once)
        assert in_use.most == 1
        scans = await service.store.scans()
    assert [scan.finished_at is not None for scan in scans] == [True] * 3


def test_serve_refuses_a_bad_listen_address_before_touching_the_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], aws_env: None
) -> None:
    state = tmp_path / "state.db"
    assert main(["serve", "--listen", "127.0.0.1:99999", "--state", str(state)]) == 2
    assert capsys.readouterr().err.strip() == (
        "leftovers: error: service.listen: port 99999 is out of range"
    )
    assert not state.exists()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--listen", f"127.0.0.1:{port}", "--state", str(state)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
