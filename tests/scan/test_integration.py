"""`leftovers scan` end to end against the in-process emulator and against trail-log files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanner.cli import main
from scanner.emulator.generator import (
    GeneratorSpec,
    GroundTruth,
    account_ids,
    generate,
    ground_truth,
    original_script_case,
    write_history,
)
from scanner.emulator.runtime import Emulator, Running

REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-south-1", "eu-central-1", "sa-east-1")
#: The emulator runs this many times faster than AWS; the scanner's rate follows.
TIME_SCALE = 40.0
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def spec_for(seed: int) -> GeneratorSpec:
    return GeneratorSpec(
        accounts=3, regions=REGIONS, seed=seed, days=10, resources=25, noise=2.0, now=NOW
    )


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEMULATOR00000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    for name in [n for n in os.environ if n.startswith("LEFTOVERS_")]:
        monkeypatch.delenv(name)
    # Back off as the emulator's time runs: TIME_SCALE times faster than AWS.
    monkeypatch.setenv("LEFTOVERS_RETRY__BASE_DELAY_SECONDS", str(0.5 / TIME_SCALE))
    monkeypatch.setenv("LEFTOVERS_RETRY__MAX_DELAY_SECONDS", str(20 / TIME_SCALE))


def role_flags(accounts: list[str]) -> list[str]:
    flags: list[str] = []
    for account in accounts:
        flags += ["--account", f"{account}=arn:aws:iam::{account}:role/LeftoversReader"]
    return flags


def scan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["scan", "--format", "json", *argv])
    out = capsys.readouterr().out
    return status, json.loads(out)


def found(document: dict[str, Any]) -> set[tuple[str, str, str, str, str]]:
    return {
        (i["account_id"], i["region"], i["resource_type"], i["resource_id"], i["state"])
        for i in document["leftovers"]
    }


def truth_set(truth: GroundTruth) -> set[tuple[str, str, str, str, str]]:
    return {
        (i.account_id, i.region, i.resource_type, i.resource_id, i.state) for i in truth.leftovers
    }


def emulator_for(spec: GeneratorSpec, **options: Any) -> Emulator:
    return Emulator(
        records=generate(spec), rate=2.0, time_scale=TIME_SCALE, latency="off", seed=1, **options
    )


def endpoint_flags(running: Running) -> list[str]:
    return ["--endpoint-url", running.endpoint_url, "--rate", str(2.0 * TIME_SCALE)]


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


def test_a_bad_trail_file_is_an_error_and_the_others_are_read(
    aws_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    records, truth = original_script_case(NOW)
    (tmp_path / "good.json").write_text(json.dumps({"Records": records}), encoding="utf-8")
    (tmp_path / "broken.json.gz").write_bytes(b"not gzip at all")
    status, document = scan_json(capsys, "--source", "files", str(tmp_path))
    assert status == 2
    assert found(document) == truth_set(truth)
    assert [e["stream"] for e in document["errors"]] == [f"file:{tmp_path / 'broken.json.gz'}"]
    assert "broken.json.gz" in document["errors"][0]["reason"]


def test_files_that_hold_no_records_are_an_error(
    aws_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("not a trail log", encoding="utf-8")
    for folder in ("empty", "notes"):
        assert main(["scan", "--source", "files", str(tmp_path / folder)]) == 2
        err = capsys.readouterr().err
        suffixes = "*.json, *.jsonl, *.json.gz, *.jsonl.gz"
        assert f"no CloudTrail log files ({suffixes}) in {tmp_path / folder}" in err
        assert "Traceback" not in err

    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"foo": 1}, {"Records": [{"bar": 2}]}]), encoding="utf-8")
    assert main(["scan", "--source", "files", str(other)]) == 2
    err = capsys.readouterr().err
    assert "no CloudTrail records in 1 file(s), only 2 JSON object(s) of another kind" in err


def test_offline_scan_makes_no_api_calls_and_counts_skipped_objects(
    aws_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    records, truth = original_script_case(NOW)
    (tmp_path / "trail.json").write_text(
        json.dumps({"Records": [*records, {"digestStartTime": "not a record"}]}), encoding="utf-8"
    )
    status = main(["scan", "--format", "json", "--source", "files", str(tmp_path)])
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert status == 1
    assert found(document) == truth_set(truth)
    assert document["stats"]["api_calls"] == 0
    assert document["stats"]["events_read"] == len(records)
    assert '"objects_skipped"' in err


@pytest.mark.parametrize("strategy", ["auto", "event_names"])
def test_global_types_are_read_from_us_east_1_when_it_is_not_listed(
    strategy: str, aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # From 40 resources per region on, the history leaves one of every type behind.
    spec = replace(spec_for(13), accounts=2, regions=("us-east-1", "eu-west-1"), resources=40)
    truth = truth_set(ground_truth(spec))
    zones = {item for item in truth if item[2] == "route53.hosted_zone"}
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


@pytest.mark.slow
def test_ctrl_c_stops_a_scan_cleanly(aws_env: None) -> None:
    """SIGINT while calls are in flight: exit 130 and one line, no traceback, no report."""
    records, _ = original_script_case(NOW)
    emulator = Emulator(records=records, latency="30", time_scale=1.0)
    with emulator.in_thread() as running:
        process = subprocess.Popen(
            [sys.executable, "-m", "scanner", "scan", "--endpoint-url", running.endpoint_url,
             "--region", "us-east-1", "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            while emulator.stats.as_dict()["totals"]["calls"] == 0:
                assert process.poll() is None, process.communicate()
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130
    assert err == "leftovers: interrupted\n"
    assert out == ""


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


@pytest.mark.slow
def test_debug_logs_of_a_scan_through_assumed_roles_hold_no_credentials(aws_env: None) -> None:
    """In a process of its own, so that the standard logging set-up is the command's own."""
    spec = replace(spec_for(4), accounts=2, regions=("eu-west-1",))
    emulator = emulator_for(spec, faults="throttle:0.3")
    with emulator.in_thread() as running:
        done = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", "-v", "--format", "json",
             *endpoint_flags(running), "--region", "eu-west-1", *role_flags(account_ids(spec))],
            env={**os.environ, "LEFTOVERS_LOG_LEVEL": "debug"},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["errors"] == []
    assert '"level": "debug"' in done.stderr  # retries of throttled calls are logged at debug
    # The base keys, and any key AssumeRole issued (all ASIA...: in headers next to the token).
    for secret in ("AKIAEMULATOR", "emulator-secret-key", "ASIA", "Security-Token"):
        assert secret not in done.stderr


def test_offline_scan_keeps_the_accounts_and_regions_asked_for(
    aws_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = replace(spec_for(6), accounts=3, regions=("us-east-1", "eu-west-1"))
    truth = truth_set(ground_truth(spec))
    write_history(spec, tmp_path)
    first, _, third = account_ids(spec)
    status, document = scan_json(
        capsys, "--source", "files", str(tmp_path / "AWSLogs"),
        "--account", first, "--account", third, "--region", "eu-west-1",
    )  # fmt: skip
    assert status == 1
    expected = {i for i in truth if i[0] in (first, third) and i[1] == "eu-west-1"}
    assert expected
    assert found(document) == expected


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_no_credentials_at_all_is_one_line_and_exit_2(
    aws_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookups
    endpoint = f"http://127.0.0.1:{closed_port()}"
    status = main(["scan", "--endpoint-url", endpoint, "--region", "us-east-1"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err == "leftovers: error: cannot list the accounts to scan: no AWS credentials found\n"


def test_an_unreachable_endpoint_is_reported_per_region(
    aws_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEFTOVERS_RETRY__ATTEMPTS", "1")
    endpoint = f"http://127.0.0.1:{closed_port()}"
    # Without an account, even finding out who we are fails: one line.
    assert main(["scan", "--endpoint-url", endpoint, "--region", "us-east-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("leftovers: error: cannot list the accounts to scan: Could not connect")
    # With one, each region's failure is data in the report.
    status, document = scan_json(
        capsys, "--endpoint-url", endpoint, "--region", "us-east-1", "--region", "eu-west-1",
        "--account", "111111111111",
    )  # fmt: skip
    assert status == 2
    assert document["leftovers"] == []
    assert {(e["account_id"], e["region"]) for e in document["errors"]} == {
        ("111111111111", "us-east-1"),
        ("111111111111", "eu-west-1"),
    }
    assert all("Could not connect" in e["reason"] for e in document["errors"])
