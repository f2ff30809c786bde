"""`leftovers catalog`: lists types, events and prices; bad input exits 2 with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.commands.catalog import proof_counts
from tests.scan.terminal import run_in_terminal


def test_json_lists_every_type_with_events_and_prices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--format", "json"]) == 0
    data = orjson.loads(capsys.readouterr().out)
    types = {entry["resource_type"]: entry for entry in data["types"]}
    assert len(types) >= 120
    assert data["rules_proven_on_real_records"] + data["rules_checked_on_model_only"] == sum(
        len(entry["events"]) for entry in types.values()
    )
    assert data["prices"]["home_region"] == "us-east-1"
    assert data["prices"]["date"] == "2025-06-01"
    assert data["prices"]["not_included"]
    assert types["ec2.nat_gateway"]["proof"] == "real record"
    assert types["ec2.capacity_reservation"]["proof"] == "model only"
    assert types["opensearch.domain"]["proof"] == "real record (3 of 4 rules)"
    instance = types["ec2.instance"]
    assert {e["event_name"]: e["change"] for e in instance["events"]} == {
        "RunInstances": "create",
        "TerminateInstances": "delete",
        "StopInstances": "state",
        "StartInstances": "state",
        "CreateTags": "tag",
        "DeleteTags": "untag",
    }
    assert "instance_type" in instance["price"]
    renames = [e for e in types["rds.db_instance"]["events"] if e["change"] == "rename"]
    assert [e["event_name"] for e in renames] == ["ModifyDBInstance"]
    assert renames[0]["new_id"] == "requestParameters.newDBInstanceIdentifier"
    assert types["route53.hosted_zone"]["is_global"] is True
    assert types["s3.bucket"]["price"].startswith("$0.0230/GB-month of stored_gb")
    assert types["ec2.nat_gateway"]["price"].startswith("$0.0450/h")
    assert types["kms.key"]["price"].startswith("$1.00/month")
    assert all(entry["price"] for entry in types.values())


def test_table_shows_types_events_and_prices(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["catalog", "--format", "table", "--type", "ec2.nat_gateway", "--type", "eks.cluster"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ec2.nat_gateway" in out
    assert "CreateNatGateway" in out
    assert "$0.0450/h" in out
    assert "eks.cluster" in out
    assert "ec2.instance" not in out
    assert "real record" in out
    words = " ".join(out.split())
    assert "2 resource types, 4 rules: 4 proven on a real CloudTrail record" in words


def test_piped_it_prints_json_and_on_a_terminal_a_table_as_scan_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["catalog", "--type", "eks.cluster"]) == 0
    assert orjson.loads(capsys.readouterr().out)["types"][0]["resource_type"] == "eks.cluster"
    status, shown = run_in_terminal(["catalog", "--type", "eks.cluster"], columns=100)
    assert status == 0
    assert "Resource types" in shown
    assert "CreateCluster" in shown
    assert not shown.lstrip().startswith("{")


def test_unknown_type_and_bad_catalog_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["catalog", "--type", "ec2.nope"]) == 2
    assert "unknown resource type(s) ec2.nope" in capsys.readouterr().err
    bad = tmp_path / "catalog.yaml"
    bad.write_text("version: 1\ntypes: {}\n")
    assert main(["catalog", "--catalog", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("leftovers: error: ")
    assert "catalog.yaml: types" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_a_reader_that_goes_away_is_no_traceback() -> None:
    """`leftovers catalog --format json | head -c 1`: exit as SIGPIPE would, say nothing."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "scanner", "catalog", "--format", "json"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=60,
        )
    finally:
        os.close(write)
    assert done.stderr == ""
    assert done.returncode == 141


def test_the_readme_gives_the_catalog_counts() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    catalog = load_catalog()
    proven, model_only = proof_counts(catalog)
    rules = proven + model_only
    assert f"**{proven} rules are proven on a real record, {model_only} on" in readme
    assert f"It knows {len(catalog.types)} resource types" in readme
    assert f"{len(catalog.types)}\nresource types, {rules} rules" in readme
