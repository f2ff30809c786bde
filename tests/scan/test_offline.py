"""`leftovers scan --source files`: trail-log files offline, bad files, filters."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from emulator import write_history
from emulator.history.generator import account_ids, ground_truth, original_script_case
from scanner.cli import main

from .scan_cli import NOW, found, scan_json, spec_for, truth_set


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


def test_files_are_read_whole_unless_a_lookback_is_set_anywhere(
    aws_env: None,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a lookback, trail files are read back as far as they go; one set by a flag, the
    environment or the config file limits them alike."""
    records, truth = original_script_case(NOW - timedelta(days=200))
    trails = tmp_path / "trails"
    trails.mkdir()
    (trails / "old.json").write_text(json.dumps({"Records": records}), encoding="utf-8")
    assert found(scan_json(capsys, "--source", "files", str(trails))[1]) == truth_set(truth)
    config = tmp_path / "leftovers.yaml"
    config.write_text("lookback_days: 30\n", encoding="utf-8")
    ways = (
        ["--lookback-days", "30"],
        ["--config", str(config)],
    )
    for flags in ways:
        assert found(scan_json(capsys, *flags, "--source", "files", str(trails))[1]) == set()
    monkeypatch.setenv("LEFTOVERS_LOOKBACK_DAYS", "30")
    assert found(scan_json(capsys, "--source", "files", str(trails))[1]) == set()
