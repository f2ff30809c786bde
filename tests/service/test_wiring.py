"""`leftovers scan` and the service build and run a LookupEvents scan through the one runner path:
the same source, warmed (credentials and a client per account-region) before its first call."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio
import pytest

from emulator import Running
from emulator.api.clock import ManualClock
from scanner import runner
from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.plan import Slice, StreamId
from scanner.service import Service
from scanner.sources import SourcePage
from scanner.sources.lookup import LookupSource
from scanner.store import Store
from tests.conftest import ACCOUNT_A, MakeRecord

from .test_service import aws_env, clock_of
from .world import settings_of, volume_history, volume_id

__all__ = ["aws_env"]

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    """A volume created yesterday in each region."""
    return volume_history(make_record, REGIONS)


class Journal:
    """What the sources built by the runner did, in order."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, object]] = []


def recording_source(journal: Journal) -> type[LookupSource]:
    class Recording(LookupSource):
        """The real LookupSource, noting when it is warmed and called."""

        async def warm(self, keys: Iterable[tuple[str, str]]) -> None:
            wanted = sorted(set(keys))
            await super().warm(wanted)
            journal.entries.append(("warm", tuple(wanted)))

        async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage:
            journal.entries.append(("fetch", (stream.account_id, stream.region)))
            return await super().fetch(stream, bounds, token)

    return Recording


def test_scan_and_serve_build_and_warm_the_same_source(  # noqa: PLR0917 (fixtures)
    emulator_thread: Running,
    manual_clock: ManualClock,
    aws_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    journal = Journal()
    monkeypatch.setattr(runner, "LookupSource", recording_source(journal))
    flags = ["--endpoint-url", emulator_thread.endpoint_url, "--rate", "100"]
    regions = [flag for region in REGIONS for flag in ("--region", region)]
    assert main(["scan", "--format", "json", *flags, *regions]) == 1
    cli_volumes = {i["resource_id"] for i in json.loads(capsys.readouterr().out)["leftovers"]}
    cli_journal, journal.entries = journal.entries, []

    async def serve_once() -> set[str]:
        settings = settings_of(emulator_thread.endpoint_url, tmp_path / "state.db", REGIONS)
        store = await Store.open(tmp_path / "state.db")
        try:
            service = Service(settings, store, load_catalog(), clock=clock_of(manual_clock))
            assert (await service.scan_once()).outcome == "ok"
            snapshot = service.snapshot()
            assert snapshot is not None
            return {e.key.resource_id for e in snapshot.entries}
        finally:
            await store.close()

    served_volumes = anyio.run(serve_once)
    assert cli_volumes == served_volumes == {volume_id(region) for region in REGIONS}
    for entries in (cli_journal, journal.entries):
        # Warmed once, for every account-region read, before the first call.
        assert entries[0] == ("warm", tuple((ACCOUNT_A, region) for region in sorted(REGIONS)))
        assert [kind for kind, _ in entries[1:]] == ["fetch"] * (len(entries) - 1)
        assert {where for _, where in entries[1:]} == {(ACCOUNT_A, r) for r in REGIONS}
