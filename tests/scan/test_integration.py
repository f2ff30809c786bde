"""`leftovers scan` end to end against the in-process emulator: generated histories with
assumed roles, Organizations, faults, global types, the original script's case."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from emulator import Emulator, write_history
from emulator.history.generator import account_ids, ground_truth, original_script_case
from emulator.history.scenarios import GLOBAL_TYPES

from .scan_cli import (
    NOW,
    REGIONS,
    TIME_SCALE,
    emulator_for,
    endpoint_flags,
    found,
    parents,
    role_flags,
    scan_json,
    spec_for,
    truth_parents,
    truth_set,
)


@pytest.mark.parametrize("seed", [3, 11])
def test_scan_reports_exactly_the_ground_truth(
    seed: int, aws_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = spec_for(seed)
    truth = ground_truth(spec)
    assert truth.leftovers, "the generated history should leave something behind"
    emulator = emulator_for(spec)
    regions = [flag for region in REGIONS for flag in ("--region", region)]
    with emulator.in_thread() as running:
        status, document = scan_json(
            capsys, *endpoint_flags(running), *regions, *role_flags(account_ids(spec))
        )
    assert document["errors"] == []
    assert status == 1
    assert found(document) == truth_set(truth)
    assert parents(document) == truth_parents(truth)
    assert {p[2].split("/")[0] for p in parents(document)} == {
        "autoscaling.group",
        "cloudformation.stack",
    }
    stats = emulator.stats.as_dict()["totals"]
    assert stats["throttled"] <= max(2, stats["calls"] // 50)
    assert document["stats"]["api_calls"] == stats["calls"]
    for item in document["leftovers"]:
        assert item["console_url"].startswith("https://")
        assert item["created_by"]["arn"]
        assert item["age_seconds"] >= 0

    # The same history as trail-log files, offline, gives the same leftovers.
    write_history(spec, tmp_path)
    status, offline = scan_json(capsys, "--source", "files", str(tmp_path / "AWSLogs"))
    assert status == 1
    assert offline["errors"] == []
    assert found(offline) == truth_set(truth)
    assert parents(offline) == truth_parents(truth)


def test_all_regions_and_event_name_chains(
    aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = replace(spec_for(5), accounts=1, regions=("us-east-1", "eu-west-1"))
    truth = ground_truth(spec)
    emulator = emulator_for(spec)
    with emulator.in_thread() as running:
        status, document = scan_json(
            capsys,
            *endpoint_flags(running),
            "--stream-strategy",
            "event_names",
            *role_flags(account_ids(spec)),
        )
    assert document["errors"] == []
    assert found(document) == truth_set(truth)
    assert status == 1


def test_original_script_case(aws_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    records, truth = original_script_case(NOW)
    emulator = Emulator(records=records, rate=2.0, time_scale=TIME_SCALE, latency="off")
    with emulator.in_thread() as running:
        status, document = scan_json(
            capsys, *endpoint_flags(running), "--region", "us-east-1", "--user", "student"
        )
    assert status == 1
    assert found(document) == truth_set(truth)
    kinds = sorted(item["resource_type"] for item in document["leftovers"])
    assert kinds == ["ec2.instance", "ec2.instance", "rds.db_instance"]
    for item in document["leftovers"]:
        rid = item["resource_id"]
        assert rid in item["console_url"]
        assert "region=us-east-1" in item["console_url"]
        assert item["created_by"]["user_name"] == "student"
    db = next(i for i in document["leftovers"] if i["resource_type"] == "rds.db_instance")
    assert db["resource_id"] == "database-1-instance-1"
    assert db["attributes"]["db_class"] == "db.r5.large"

    # Someone else's name filters everything out: exit 0.
    with emulator.in_thread() as running:
        status, document = scan_json(
            capsys, *endpoint_flags(running), "--region", "us-east-1", "--user", "nobody"
        )
    assert status == 0
    assert document["leftovers"] == []


def test_faults_are_survived_and_a_down_region_is_an_error(
    aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = replace(spec_for(7), regions=REGIONS[:4])
    truth = ground_truth(spec)
    accounts = account_ids(spec)
    denied = accounts[2]
    faults = f"down@*/ap-south-1,denied@{denied},throttle:0.15,5xx:0.1"
    emulator = emulator_for(spec, faults=faults)
    regions = [flag for region in REGIONS[:4] for flag in ("--region", region)]
    with emulator.in_thread() as running:
        status, document = scan_json(
            capsys,
            *endpoint_flags(running),
            *regions,
            *role_flags(accounts),
            "--stream-strategy",
            "read_only",
        )
    assert status == 2
    failed = {(e["account_id"], e["region"]) for e in document["errors"]}
    assert failed == {(a, "ap-south-1") for a in accounts} | {(denied, r) for r in REGIONS[:4]}
    assert all(e["reason"] for e in document["errors"])
    expected = {item for item in truth_set(truth) if item[1] != "ap-south-1" and item[0] != denied}
    assert found(document) == expected
    assert document["stats"]["throttled"] > 0


def test_organization_accounts_and_all_regions_from_a_config_file(
    aws_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = replace(spec_for(9), accounts=2, regions=("us-east-1", "eu-west-1"))
    truth = ground_truth(spec)
    management = account_ids(spec)[0]
    config = tmp_path / "leftovers.yaml"
    config.write_text(
        "accounts:\n  organization:\n    role_name: LeftoversReader\nregions: all\n",
        encoding="utf-8",
    )
    emulator = emulator_for(spec, account=management)
    with emulator.in_thread() as running:
        status, document = scan_json(capsys, "--config", str(config), *endpoint_flags(running))
    assert document["errors"] == []
    assert found(document) == truth_set(truth)
    assert {item["account_id"] for item in document["leftovers"]} == set(account_ids(spec))
    assert status == 1


@pytest.mark.parametrize("strategy", ["auto", "event_names"])
def test_global_types_are_read_from_us_east_1_when_it_is_not_listed(
    strategy: str, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # From 40 resources per region on, the history leaves one of every type behind.
    spec = replace(spec_for(13), accounts=2, regions=("us-east-1", "eu-west-1"), resources=40)
    truth = truth_set(ground_truth(spec))
    zones = {item for item in truth if item[2] in GLOBAL_TYPES}
    assert zones, "the generated history should leave a hosted zone behind"
    assert {item[1] for item in zones} == {"us-east-1"}
    emulator = emulator_for(spec)
    with emulator.in_thread() as running:
        status, document = scan_json(
            capsys,
            *endpoint_flags(running),
            "--region",
            "eu-west-1",
            "--stream-strategy",
            strategy,
            *role_flags(account_ids(spec)),
        )
    assert document["errors"] == []
    assert status == 1
    # eu-west-1's leftovers and the global ones, nothing else of us-east-1.
    assert found(document) == {item for item in truth if item[1] == "eu-west-1"} | zones


def test_user_filter_still_counts_deletions_by_others(
    aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--user` filters who created a resource, not which events are read (as a LookupEvents
    `Username` filter would: then the instance an admin terminated would look left over)."""
    records, truth = original_script_case(NOW)
    (terminate,) = [r for r in records if r["eventName"] == "TerminateInstances"]
    terminate["userIdentity"] = {
        **terminate["userIdentity"],
        "userName": "admin",
        "arn": "arn:aws:iam::123456789012:user/admin",
    }
    emulator = Emulator(records=records, rate=2.0, time_scale=TIME_SCALE, latency="off")
    with emulator.in_thread() as running:
        flags = [*endpoint_flags(running), "--region", "us-east-1"]
        status, document = scan_json(capsys, *flags, "--user", "student")
        assert status == 1
        assert found(document) == truth_set(truth)
        status, document = scan_json(capsys, *flags, "--user", "admin")
        assert status == 0
        assert document["leftovers"] == []
