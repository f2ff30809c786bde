"""The leftovers table at 80 to 120 columns, in a real terminal and piped: ARN ids fold, cost
and state are never cut; files mode speaks of files and records and names a skipped file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import ACCOUNT_A, MakeRecord

from .terminal import run_in_terminal
from .test_terminal import after_progress

LB_NAME = "internal-orders-api-production-eu"
LB_ARN = (
    f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT_A}:loadbalancer/app/{LB_NAME}/"
    "50dc6c495c0c9188"
)


@pytest.fixture
def trail(tmp_path: Path, make_record: MakeRecord) -> Path:
    load_balancer = make_record(
        name="CreateLoadBalancer",
        source="elasticloadbalancing.amazonaws.com",
        user="deploy-pipeline-with-a-long-name",
        responseElements={
            "loadBalancers": [
                {
                    "loadBalancerArn": LB_ARN,
                    "loadBalancerName": LB_NAME,
                    "type": "application",
                    "scheme": "internal",
                }
            ]
        },
    )
    path = tmp_path / "trail.json"
    path.write_text(json.dumps({"Records": [load_balancer]}))
    return path


def table_rows(shown: str) -> list[str]:
    return [line for line in shown.splitlines() if line.startswith("│")]


def check_table(shown: str, columns: int) -> None:
    rows = table_rows(shown)
    assert all(len(row) <= columns for row in rows), shown
    first = rows[0]
    assert "$0.0225" in first  # an application load balancer's hourly price, whole
    assert "active" in first
    assert "…" not in shown
    ids = "".join(row.split("│")[1].strip() for row in rows)
    assert ids == LB_ARN  # folded over several lines, nothing lost
    assert "1 file(s), 1 records read, 1 matched" in shown
    assert "calls" not in shown


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_ids_fold_and_cost_and_state_stay_whole(trail: Path, columns: int) -> None:
    status, output = run_in_terminal(
        ["scan", "--source", "files", str(trail), "--format", "table"], columns=columns
    )
    assert status == 1, output
    check_table(re.sub(r"\x1b\[[0-9;]*m", "", after_progress(output)), columns)


def test_piped_the_table_is_160_columns_wide(trail: Path) -> None:
    command = [sys.executable, "-m", "scanner", "scan", "--source", "files", str(trail)]
    done = subprocess.run(
        [*command, "--format", "table"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stderr
    check_table(done.stdout, 160)


def test_a_skipped_object_is_named_with_its_file(
    tmp_path: Path, make_record: MakeRecord, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"Records": [make_record(name="DescribeInstances")]}))
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"not": "a record"}\n{"eventName": "x"}\n')
    status = main(["scan", "--format", "json", "--source", "files", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 0
    warnings = [json.loads(line) for line in err.splitlines() if "objects_skipped" in line]
    assert [(w["file"], w["objects"]) for w in warnings] == [(str(odd), 2)]
