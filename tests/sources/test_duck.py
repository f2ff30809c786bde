"""DuckDB over trail files: the same records and leftovers as the Python reader and LookupEvents."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from emulator.history.generator import account_ids, ground_truth, write_history
from scanner.catalog import load_catalog
from scanner.pages import MemorySink
from scanner.plan import Slice
from scanner.records import ReadStats, read_paths
from scanner.report import build_report
from scanner.runner import extractor, scan_options
from scanner.scan import run_scan
from scanner.settings import Settings
from scanner.sources.duck import DuckFilesSource, query_files
from scanner.sources.files import FilesSource
from tests.samples import samples_dir
from tests.scan.scan_cli import (
    NOW,
    emulator_for,
    endpoint_flags,
    found,
    role_flags,
    scan_json,
    spec_for,
    truth_set,
)

EVERYTHING = Slice(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
REGIONS4 = ("us-east-1", "eu-west-1", "us-west-2", "ap-south-1")


async def _read_all(source: FilesSource, window: Slice = EVERYTHING) -> dict[str, Any]:
    """Every stream's batch: (event id, body) pairs and events read, per file."""
    out: dict[str, Any] = {}
    for work in source.work(window):
        batch = await source.fetch(work.stream, work.slice, None)
        records = sorted((r.event_id, json.dumps(r.body, sort_keys=True)) for r in batch.records)
        out[work.stream.name] = (records, batch.events_read)
    return out


def _trail_files(records: Iterable[Any], folder: Path, per_file: int) -> list[Path]:
    """Real records written as gzipped trail-log files of `per_file` records each."""
    folder.mkdir(parents=True, exist_ok=True)
    batch = list(records)
    paths = []
    for number, start in enumerate(range(0, len(batch), per_file)):
        path = folder / f"111122223333_CloudTrail_us-east-1_20240101T{number:04d}Z_x.json.gz"
        document = {"Records": batch[start : start + per_file]}
        path.write_bytes(gzip.compress(json.dumps(document).encode()))
        paths.append(path)
    return paths


async def test_duckdb_returns_the_python_readers_records_for_every_sample_record(
    tmp_path: Path,
) -> None:
    stats = ReadStats()
    bodies = [dict(r.body) for r in read_paths([samples_dir()], stats)]
    assert len(bodies) > 1000
    pairs = frozenset((str(b["eventSource"]), str(b["eventName"])) for b in bodies)
    files = _trail_files(bodies, tmp_path / "trail", per_file=97)
    # Every pair watched: every record goes through DuckDB's JSON and back.
    duck = DuckFilesSource(files, lambda _s, _n: True, pairs, chunk_files=5)
    python = FilesSource(files, lambda _s, _n: True)
    assert len(query_files(duckdb.connect(), files, pairs)) == len(files)
    got, want = await _read_all(duck), await _read_all(python)
    assert got == want
    assert sum(len(records) for records, _ in got.values()) == len(bodies)
    assert (duck.read.records, duck.read.skipped) == (python.read.records, python.read.skipped)

    # The catalog's pairs only: fewer, the same ones.
    catalog = load_catalog()
    duck = DuckFilesSource(files, catalog.watches, catalog.events)
    python = FilesSource(files, catalog.watches)
    got, want = await _read_all(duck), await _read_all(python)
    assert got == want
    kept = sum(len(records) for records, _ in got.values())
    assert 0 < kept < len(bodies)


async def test_sample_files_of_every_format_read_alike() -> None:
    """Trail logs go through DuckDB; LookupEvents responses, EventBridge envelopes, JSONL of bare
    records and the rest through the Python reader: together, the Python reader's records."""
    folder = samples_dir()
    pairs = frozenset((r.event_source, r.event_name) for r in read_paths([folder]))
    duck = DuckFilesSource([folder], lambda _s, _n: True, pairs)
    python = FilesSource([folder], lambda _s, _n: True)
    through_duckdb = query_files(duckdb.connect(), duck.files, pairs)
    assert 0 < len(through_duckdb) < len(duck.files)
    got = await _read_all(duck)
    assert got == await _read_all(python)
    assert any(got[f"file:{path}"][0] for path in through_duckdb)
    assert (duck.read.records, duck.read.skipped) == (python.read.records, python.read.skipped)


def test_the_query_keeps_failed_calls_and_skips_what_is_not_a_record(tmp_path: Path) -> None:
    run = {
        "eventSource": "ec2.amazonaws.com",
        "eventName": "RunInstances",
        "awsRegion": "us-east-1",
    }
    records = [
        {**run, "eventTime": "2024-01-01T00:00:00Z", "eventID": "a"},
        {**run, "eventTime": "2024-01-01T00:00:01Z", "eventID": "b", "errorCode": "Denied"},
        {**run, "eventSource": "rds.amazonaws.com", "eventTime": "2024-01-01T00:00:02Z"},
        {**run, "eventName": "DescribeInstances", "eventTime": "2024-01-01T00:00:03Z"},
        {"digestStartTime": "2024-01-01T00:00:00Z"},
        "not an object",
    ]
    (path,) = _trail_files(records, tmp_path, per_file=10)
    events = frozenset({("ec2.amazonaws.com", "RunInstances")})
    rows = query_files(duckdb.connect(), [path], events)[path]
    assert (rows.records, rows.elements) == (4, 6)
    assert sorted(json.loads(text)["eventID"] for text in rows.watched) == ["a", "b"]


async def test_a_file_duckdb_cannot_read_fails_alone_in_the_python_readers_words(
    tmp_path: Path,
) -> None:
    good = _trail_files(
        [{"eventSource": "s3.amazonaws.com", "eventName": "CreateBucket", "awsRegion": "us-east-1",
          "eventTime": "2024-01-01T00:00:00Z", "eventID": "x"}],
        tmp_path, per_file=1,
    )  # fmt: skip
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip at all")
    (tmp_path / "big.json").write_text(json.dumps({"Records": [{"pad": "x" * 5000}]}))
    events = frozenset({("s3.amazonaws.com", "CreateBucket")})
    duck = DuckFilesSource([tmp_path], lambda _s, _n: True, events, max_file_bytes=1000)
    by_file: dict[str, Any] = {}
    for work in duck.work(EVERYTHING):
        try:
            by_file[work.stream.name] = await duck.fetch(work.stream, work.slice, None)
        except Exception as error:  # the scan turns a fetch's error into the stream's failure
            by_file[work.stream.name] = str(error)
    assert by_file[f"file:{tmp_path / 'bad.json.gz'}"] == (
        f"{tmp_path / 'bad.json.gz'}: cannot read (Not a gzipped file (b'no'))"
    )
    assert by_file[f"file:{good[0]}"].events_read == 1
    assert by_file[f"file:{tmp_path / 'big.json'}"].events_read == 0  # the Python reader read it
    assert duck.read.skipped == 1


@pytest.mark.parametrize("organization", [False, True])
async def test_generated_history_gives_the_same_leftovers_through_both_readers(
    organization: bool, tmp_path: Path
) -> None:
    spec = replace(spec_for(21), accounts=10, regions=REGIONS4, days=4, resources=6)
    truth = ground_truth(spec)
    write_history(spec, tmp_path)
    root = tmp_path / "AWSLogs"
    if organization:
        org = tmp_path / "org" / "AWSLogs" / "o-abcdef1234"
        org.parent.mkdir(parents=True)
        root.rename(org)
        root = tmp_path / "org"
    catalog = load_catalog()
    window = Slice(datetime(2000, 1, 1, tzinfo=UTC), NOW)
    reports = []
    for source in (
        DuckFilesSource([root], catalog.watches, catalog.events, chunk_files=64),
        FilesSource([root], catalog.watches),
    ):
        sink = MemorySink()
        options = scan_options(Settings(), catalog, limited=False)
        result = await run_scan(source, source.work(window), sink, extractor(catalog), options)
        assert result.failures == ()
        report = build_report(sink.lifecycles, catalog, window, stats=result.stats)
        reports.append((found(report.to_json()), result.stats.events_read, source.read))
    assert reports[0] == reports[1]
    assert reports[0][0] == truth_set(truth)


def test_files_through_duckdb_give_what_lookup_events_give(
    aws_env: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = replace(spec_for(22), accounts=10, regions=REGIONS4, days=4, resources=6)
    truth = truth_set(ground_truth(spec))
    assert truth
    write_history(spec, tmp_path)
    status, offline = scan_json(capsys, "--source", "files", str(tmp_path / "AWSLogs"))
    assert (status, offline["errors"]) == (1, [])
    regions = [flag for region in REGIONS4 for flag in ("--region", region)]
    with emulator_for(spec).in_thread() as running:
        status, online = scan_json(
            capsys, *endpoint_flags(running), *regions, *role_flags(account_ids(spec))
        )
    assert (status, online["errors"]) == (1, [])
    assert found(offline) == found(online) == truth
