"""The cleanup plan script: review gate, grouping, choices, skipped leftovers, shell quoting."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from scanner.catalog import load_catalog
from scanner.cleanup_plan import comment, plan_script
from scanner.cli import main

CATALOG = load_catalog()
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HOSTILE = [
    "it's",
    "$(touch pwned)",
    "`touch pwned`",
    "two words",
    "line\nbreak; touch pwned",
    '"; touch pwned; echo "',
    "${HOME}",
    "-dash",
    "back\\slash\tand 'tab'\n",
]
#: Records each call's arguments, NUL-separated, one call per line of a log (to test quoting).
RECORDER = """#!/usr/bin/env bash
printf '%s\\0' "$@" >> "$CALLS"
printf '\\n' >> "$CALLS"
"""


def item(resource_type: str, resource_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "account_id": extra.pop("account_id", "123456789012"),
        "region": extra.pop("region", "us-east-1"),
        "resource_type": resource_type,
        "resource_id": resource_id,
        "name": extra.pop("name", None),
        "arn": None,
        "created_by": {"user_name": "alice", "arn": None},
        "age_seconds": 90000,
        "estimated_hourly_cost": 0.0116,
        "console_url": "https://console.example/x",
        **extra,
    }


def run(script: str, tmp_path: Path, **env: str) -> tuple[int, list[list[str]], str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "aws").write_text(RECORDER)
    (bin_dir / "aws").chmod(0o755)
    path = tmp_path / "plan.sh"
    path.write_text(script)
    calls = tmp_path / "calls"
    calls.write_bytes(b"")
    done = subprocess.run(
        ["bash", str(path)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), **env},
    )
    lines = [line for line in calls.read_bytes().split(b"\0\n") if line]
    return done.returncode, [[w.decode() for w in line.split(b"\0")] for line in lines], done.stderr


def test_every_value_from_aws_reaches_the_cli_as_one_argument(tmp_path: Path) -> None:
    items = [item("logs.log_group", value, name=value) for value in HOSTILE]
    script = plan_script(items, CATALOG, NOW)
    status, calls, stderr = run(script, tmp_path, LEFTOVERS_REVIEWED="yes", PROFILE_123456789012="")
    assert status == 0, stderr
    assert sorted(call[-1] for call in calls) == sorted(HOSTILE)
    assert all(
        call[:5] == ["--region", "us-east-1", "logs", "delete-log-group", "--log-group-name"]
        for call in calls
    )
    assert not (tmp_path / "pwned").exists()
    for line in script.splitlines():  # a newline in a value never starts a line of its own
        assert not line.startswith(("break", "'"))


def test_the_script_refuses_to_run_unreviewed(tmp_path: Path) -> None:
    script = plan_script([item("ec2.volume", "vol-1")], CATALOG, NOW)
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in script
    status, calls, stderr = run(script, tmp_path, PROFILE_123456789012="")
    assert (status, calls) == (3, [])
    assert "LEFTOVERS_REVIEWED=yes" in stderr
    status, calls, stderr = run(script, tmp_path, LEFTOVERS_REVIEWED="yes")  # no profile chosen
    assert status != 0
    assert calls == []
    assert "PROFILE_123456789012" in stderr


def test_grouped_by_account_and_region_with_a_profile_each(tmp_path: Path) -> None:
    items = [
        item("ec2.volume", "vol-2", account_id="222222222222"),
        item("ec2.volume", "vol-1", region="eu-west-1"),
        item("ec2.volume", "vol-3"),
    ]
    script = plan_script(items, CATALOG, NOW)
    status, calls, stderr = run(
        script,
        tmp_path,
        LEFTOVERS_REVIEWED="yes",
        PROFILE_123456789012="",
        PROFILE_222222222222="b",
    )
    assert status == 0, stderr
    assert [call[-1] for call in calls] == ["vol-1", "vol-3", "vol-2"]
    assert calls[0][:2] == ["--region", "eu-west-1"]
    assert calls[2][:4] == ["--profile", "b", "--region", "us-east-1"]
    assert "# ---- account 222222222222, region us-east-1" in script


def test_dry_run_where_the_api_has_one(tmp_path: Path) -> None:
    items = [item("ec2.volume", "vol-1"), item("s3.bucket", "b")]
    script = plan_script(items, CATALOG, NOW)
    status, calls, stderr = run(
        script, tmp_path, LEFTOVERS_REVIEWED="yes", PROFILE_123456789012="", LEFTOVERS_DRY_RUN="1"
    )
    assert status == 0, stderr
    assert calls == [
        ["--region", "us-east-1", "ec2", "delete-volume", "--volume-id", "vol-1", "--dry-run"]
    ]
    assert "skipped in a dry run" in stderr


def test_irreversible_choices_are_commented_and_the_safe_one_is_given() -> None:
    script = plan_script(
        [item("rds.db_instance", "db1"), item("secretsmanager.secret", "s")], CATALOG, NOW
    )
    assert "#   irreversible, add only if meant: --skip-final-snapshot" in script
    assert "#   irreversible, add only if meant: --force-delete-without-recovery" in script
    (rds,) = [line for line in script.splitlines() if "delete-db-instance" in line]
    assert rds.endswith("--db-instance-identifier db1 --final-db-snapshot-identifier db1-final")
    assert "--skip-final-snapshot" not in rds


def test_each_command_says_owner_age_cost_and_console_url() -> None:
    script = plan_script([item("ec2.volume", "vol-1", name="data")], CATALOG, NOW)
    assert "# ec2.volume vol-1 (data)\n#   owner alice, age 1d 1h, estimated $0.0116/h" in script
    assert "#   https://console.example/x\n" in script


def test_unknown_and_undeletable_are_left_out_or_by_hand() -> None:
    items = [
        item("ec2.volume", "vol-unknown", verification={"outcome": "unknown"}),
        item("ec2.volume", "vol-present", verification={"outcome": "present"}),
        item("cloudfront.distribution", "E123"),
    ]
    script = plan_script(items, CATALOG, NOW)
    assert "vol-unknown" not in script
    assert "delete-volume --volume-id vol-present" in script
    assert "# cloudfront.distribution E123\n" in script
    assert "no delete command is declared for this type" in script


def test_comment_escapes_control_characters() -> None:
    assert comment("a\nb\x1b[31m") == "a\\x0ab\\x1b[31m"


def test_plan_from_a_saved_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "result.json"
    volume = item("ec2.volume", "vol-9")
    saved.write_bytes(orjson.dumps({"generated_at": "2026-11-01T12:00:00Z", "leftovers": [volume]}))
    assert main(["plan", "--from", str(saved)]) == 0
    assert "delete-volume --volume-id vol-9" in capsys.readouterr().out
    saved.write_text("[1, 2]")
    assert main(["plan", "--from", str(saved)]) == 2
    err = capsys.readouterr().err
    assert err == f"leftovers: error: {saved}: not a `leftovers scan --format json` result " + (
        "(no leftovers list)\n"
    )
