"""Loading histories: every real format, de-duplication, the 90-day horizon, runtime appends."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from emulator import Emulator, Running
from emulator.api.clock import ManualClock
from scanner.errors import InputError
from scanner.records import ReadStats, read_paths
from tests.conftest import ACCOUNT_A, EMULATOR_NOW, UNLIMITED_RATE, MakeRecord
from tests.emulator.api.emulator_clients import client


def _all_events(running: Running, emulator: Emulator) -> list[dict[str, Any]]:
    """Every event of every account-region, through boto3 (AssumeRole for other accounts)."""
    sts = client("sts", running.endpoint_url)
    events: list[dict[str, Any]] = []
    for account, region in sorted(emulator.history.counts()):
        credentials = None
        if account != emulator.default_account:
            credentials = sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/scan", RoleSessionName="scan"
            )["Credentials"]
        cloudtrail = client("cloudtrail", running.endpoint_url, region, credentials)
        for page in cloudtrail.get_paginator("lookup_events").paginate():
            events.extend(page["Events"])
    return events


def test_all_samples_load_and_are_served(cloudtrail_samples: Path) -> None:
    emulator = Emulator(
        history=[cloudtrail_samples], latency="off", horizon_days=None, rate=UNLIMITED_RATE
    )
    stats = ReadStats()
    unique = {record.event_id for record in read_paths([cloudtrail_samples], stats)}
    loaded = emulator.load_stats
    assert loaded.read == stats.records
    assert loaded.skipped == stats.skipped
    assert loaded.added == len(unique) == len(emulator.history)
    assert loaded.duplicates == stats.records - len(unique)
    with emulator.in_thread() as running:
        events = _all_events(running, emulator)
    assert len(events) == loaded.added
    assert {event["EventId"] for event in events} == unique


def test_every_file_format_loads(tmp_path: Path, make_record: MakeRecord) -> None:
    records = [make_record(name=f"Call{i}") for i in range(7)]
    delivery = tmp_path / "AWSLogs" / ACCOUNT_A / "CloudTrail" / "us-east-1" / "2026" / "11" / "01"
    delivery.mkdir(parents=True)
    (delivery / f"{ACCOUNT_A}_CloudTrail_us-east-1_20261101T1200Z_abc.json.gz").write_bytes(
        gzip.compress(json.dumps({"Records": records[:2]}).encode())
    )
    (tmp_path / "bare.json").write_text(json.dumps(records[2]))
    (tmp_path / "lines.jsonl").write_text(json.dumps(records[3]) + "\n" + json.dumps(records[4]))
    lookup = {
        "Events": [{"EventId": records[5]["eventID"], "CloudTrailEvent": json.dumps(records[5])}]
    }
    (tmp_path / "lookup.json").write_text(json.dumps(lookup))
    bridge = {"detail-type": "AWS API Call via CloudTrail", "detail": records[6]}
    (tmp_path / "bridge.json").write_text(json.dumps(bridge))
    emulator = Emulator(history=[tmp_path], latency="off", horizon_days=None)
    assert emulator.load_stats.added == 7
    assert emulator.history.counts()[(ACCOUNT_A, "us-east-1")] == 7


def test_malformed_file_is_named_in_the_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"Records": [')
    with pytest.raises(InputError, match=r"broken\.json"):
        Emulator(history=[bad], latency="off")
    with pytest.raises(InputError, match="missing"):
        Emulator(history=[tmp_path / "missing"], latency="off")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("no records here")
    with pytest.raises(InputError, match=rf"no CloudTrail log files \(.*\) in {notes}$"):
        Emulator(history=[notes], latency="off")


def test_objects_that_are_not_records_are_skipped_with_one_warning(
    make_record: MakeRecord,
) -> None:
    with capture_logs() as logs:
        emulator = Emulator(
            records=[make_record(), {"not": "a record"}, [1, 2], {"eventName": "NoTime"}],
            latency="off",
        )
    assert emulator.load_stats.added == 1
    assert emulator.load_stats.skipped == 4
    warnings = [log for log in logs if log["log_level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["skipped"] == 4


def test_records_without_account_are_served_in_the_default_account(
    make_record: MakeRecord,
) -> None:
    orphan = make_record(account="")
    orphan.pop("recipientAccountId")
    orphan["userIdentity"].pop("accountId")
    emulator = Emulator(records=[orphan, make_record(), make_record()], latency="off")
    assert emulator.default_account == ACCOUNT_A
    assert emulator.history.counts()[(ACCOUNT_A, "us-east-1")] == 3


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    """Events 1, 50, 89 and 91 days old; one duplicated eventID."""
    ages = [1, 50, 89, 91]
    records = [make_record(when=EMULATOR_NOW - timedelta(days=age)) for age in ages]
    return [*records, dict(records[0])]


def test_the_90_day_horizon_follows_the_emulator_clock(
    emulator_thread: Running, manual_clock: ManualClock, emulator_history: list[dict[str, Any]]
) -> None:
    cloudtrail = client("cloudtrail", emulator_thread.endpoint_url)
    seen = [e["EventId"] for e in cloudtrail.lookup_events()["Events"]]
    assert seen == [r["eventID"] for r in emulator_history[:3]]
    manual_clock.advance(timedelta(days=2).total_seconds())
    seen = [e["EventId"] for e in cloudtrail.lookup_events()["Events"]]
    assert seen == [r["eventID"] for r in emulator_history[:2]]
    old_range = cloudtrail.lookup_events(
        StartTime=EMULATOR_NOW - timedelta(days=100), EndTime=EMULATOR_NOW - timedelta(days=95)
    )
    assert old_range["Events"] == []


async def test_records_appended_at_runtime_are_served(
    emulator: Running, make_record: MakeRecord
) -> None:
    fresh = make_record(name="CreateVolume", when=EMULATOR_NOW + timedelta(seconds=5))
    async with aiohttp.ClientSession() as session:
        async with session.post(
            emulator.endpoint_url + "/_emulator/records", json={"Records": [fresh, fresh]}
        ) as response:
            assert response.status == 200
            added = await response.json()
        async with session.get(emulator.endpoint_url + "/_emulator/stats") as response:
            stats = await response.json()
    assert added == {"read": 2, "added": 1, "duplicates": 1, "skipped": 0}
    assert stats["history"]["events"] == 5
    emulator.emulator.add_records([make_record(name="AttachVolume", when=EMULATOR_NOW)])
    page = emulator.emulator.lookup.answer(ACCOUNT_A, "us-east-1", {}, EMULATOR_NOW.timestamp())
    names = [e["EventName"] for e in json.loads(page)["Events"]]
    assert names[:2] == ["CreateVolume", "AttachVolume"]
