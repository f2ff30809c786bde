"""The record readers over every real sample file and every format they come in."""

from __future__ import annotations

import gzip
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from scanner.records import (
    ReadStats,
    RecordFileError,
    format_time,
    iter_document,
    parse_time,
    read_file,
    read_paths,
    record_files,
    record_from_body,
    record_from_lookup_event,
)
from tests.samples import sample_records, samples_dir

SPOT_RUN = "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_RunInstances.json"


def test_every_sample_file_loads_and_counts_records_and_skips() -> None:
    root = samples_dir()
    files = record_files([root])
    assert len(files) > 500
    records: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for path in files:
        stats = ReadStats()
        for record in read_file(path, stats):
            assert record.event_time.tzinfo is UTC
            assert record.event_name
            assert record.event_source
            assert record.region
            assert record.body["eventName"] == record.event_name
        origin = path.relative_to(root).parts[0]
        records[origin] += stats.records
        skipped[origin] += stats.skipped
    # Origins whose every record is well formed: the counts of INDEX.md.
    assert records["aws-spotlight"] == 277
    assert records["stratus-red-team"] == 310
    assert records["plaso"] == 6
    assert records["OTRF-Security-Datasets"] == 103  # Logstash `@timestamp` records
    assert records["streamalert"] == 34  # {"data": {"Records": [...]}} fixtures
    assert records["trailscraper"] == 5
    assert records["aws-cli-examples"] == 1
    # Hand-minimised records without eventTime / awsRegion / eventSource are skipped, not fatal.
    assert records["panther-analysis"] == 445
    assert records["cloud-custodian"] == 37
    assert records["awsdocs"] >= 200
    assert skipped["aws-spotlight"] == skipped["stratus-red-team"] == skipped["plaso"] == 0
    assert skipped["OTRF-Security-Datasets"] == skipped["streamalert"] == 0


def test_read_paths_matches_file_by_file() -> None:
    root = samples_dir()
    stats = ReadStats()
    total = sum(1 for _ in read_paths([root], stats))
    assert total == stats.records > 1400


@pytest.mark.parametrize(
    ("path", "count", "first_event"),
    [
        (SPOT_RUN, 1, "RunInstances"),  # bare record
        (
            "trailscraper/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json",
            None,
            None,
        ),  # Records[]
        ("cloud-custodian/cwe/event-cloud-trail-create-bucket.json", 1, "CreateBucket"),  # EB
        ("aws-cli-examples/lookup-events.ConsoleLogin.json", 1, "ConsoleLogin"),  # Events[]
        (
            "cloud-custodian/placebo_lookupevents/"
            "test_iam_instanceprofile_delete__cloudtrail.LookupEvents_2.json",
            2,
            "DeleteInstanceProfile",
        ),  # placebo {"data": {"Events": [...]}}
        ("plaso/aws_cloudtrail.jsonl", 6, None),  # JSONL of Events[] items
        ("panther-analysis/cloudtrail_test_logs.jsonl", 445, None),  # JSONL of bare records
        ("stratus-red-team/detonation-logs/aws.execution.ec2-user-data.json", None, None),  # list
        (
            "streamalert/community__cloudwatch_events__cloudtrail_ec2_image_creation.json",
            2,
            None,
        ),  # {"data": EventBridge envelope}
    ],
)
def test_each_format(path: str, count: int | None, first_event: str | None) -> None:
    records = sample_records(path)
    assert records
    if count is not None:
        assert len(records) == count
    if first_event is not None:
        assert records[0].event_name == first_event


def test_lookup_event_string_is_parsed_and_keeps_the_whole_record() -> None:
    (record,) = sample_records("aws-cli-examples/lookup-events.ConsoleLogin.json")
    assert isinstance(record.body, dict)
    assert record.body["eventName"] == "ConsoleLogin"
    plaso = sample_records("plaso/aws_cloudtrail.jsonl")
    assert {r.event_name for r in plaso} >= {"RunInstances", "StopInstances", "TerminateInstances"}
    assert all(r.account_id == "012345678901" for r in plaso)


def test_logstash_records_use_at_timestamp() -> None:
    records = sample_records(
        "OTRF-Security-Datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl"
    )
    assert records[0].event_time == datetime(2020, 9, 14, 0, 44, 23, tzinfo=UTC)


def test_failed_calls_are_records_with_their_error() -> None:
    records = sample_records(
        "stratus-red-team/detonation-logs/aws.execution.ec2-launch-unusual-instances.json"
    )
    failed = [r for r in records if r.event_name == "RunInstances"]
    assert failed
    assert all(r.failed and r.error_code == "Client.UnauthorizedOperation" for r in failed)
    (ok,) = sample_records(SPOT_RUN)
    assert not ok.failed
    assert ok.error_code is None


def test_gzip_and_jsonl_gz_and_s3_layout(tmp_path: Path) -> None:
    raw = (samples_dir() / SPOT_RUN).read_bytes()
    folder = tmp_path / "AWSLogs" / "1" / "CloudTrail" / "us-east-1" / "2024" / "05" / "01"
    folder.mkdir(parents=True)
    (folder / "a.json.gz").write_bytes(gzip.compress(b'{"Records": [' + raw + b"]}"))
    lines = (samples_dir() / "plaso/aws_cloudtrail.jsonl").read_bytes()
    (folder / "b.jsonl.gz").write_bytes(gzip.compress(lines))
    (folder / "notes.txt").write_text("not records")
    files = record_files([tmp_path])
    assert [p.name for p in files] == ["a.json.gz", "b.jsonl.gz"]
    stats = ReadStats()
    assert len(list(read_paths([tmp_path], stats))) == 7
    assert (stats.records, stats.skipped) == (7, 0)


def test_bad_files_name_the_file_and_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(RecordFileError, match=r"bad\.json: not valid JSON"):
        list(read_file(bad))
    bad_line = tmp_path / "bad.jsonl"
    bad_line.write_text('{"a": 1}\n{"b": 2}\n{oops\n')
    with pytest.raises(RecordFileError, match=r"bad\.jsonl: line 3: not valid JSON"):
        list(read_file(bad_line))
    bad_gz = tmp_path / "bad.json.gz"
    bad_gz.write_bytes(b"not gzip")
    with pytest.raises(RecordFileError, match=r"bad\.json\.gz: cannot read"):
        list(read_file(bad_gz))
    # A gzip header followed by a corrupt deflate stream fails inside zlib, not gzip.
    corrupt = bytearray(gzip.compress(b'{"Records": []}' * 100))
    corrupt[12:30] = bytes(b ^ 0xFF for b in corrupt[12:30])
    bad_deflate = tmp_path / "corrupt.json.gz"
    bad_deflate.write_bytes(bytes(corrupt))
    with pytest.raises(RecordFileError, match=r"corrupt\.json\.gz: cannot read"):
        list(read_file(bad_deflate))
    with pytest.raises(RecordFileError, match="no such file or folder"):
        record_files([tmp_path / "missing"])
    with pytest.raises(RecordFileError, match="not a regular file or folder"):
        record_files([Path("/dev/null")])


def test_objects_that_are_not_records_are_skipped() -> None:
    stats = ReadStats()
    document = {
        "Events": [
            {"EventId": "1", "CloudTrailEvent": "{broken"},
            {"EventId": "2", "CloudTrailEvent": orjson.dumps({"eventName": "X"}).decode()},
            {"EventId": "3", "CloudTrailEvent": None},
        ]
    }
    assert list(iter_document([document, 42, "text", {"hello": 1}], stats)) == []
    assert (stats.records, stats.skipped) == (0, 6)


def test_record_without_event_id_gets_a_stable_synthetic_one() -> None:
    body = {
        "eventName": "RunInstances",
        "eventSource": "ec2.amazonaws.com",
        "awsRegion": "us-east-1",
        "eventTime": "2024-05-01T12:00:00Z",
    }
    first, second = record_from_body(dict(body)), record_from_body(dict(body))
    assert first is not None
    assert second is not None
    assert first.event_id == second.event_id
    assert record_from_lookup_event({"CloudTrailEvent": orjson.dumps(body)}) is not None
    assert record_from_body({**body, "eventTime": "yesterday"}) is None
    assert record_from_body({**body, "awsRegion": ""}) is None
    short = record_from_body({**body, "recipientAccountId": "1"})
    assert short is not None
    assert short.account_id == "1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2020-11-05 21:21:46Z", datetime(2020, 11, 5, 21, 21, 46, tzinfo=UTC)),
        ("2024-05-01T12:00:00", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        (datetime(2024, 5, 1, 12), datetime(2024, 5, 1, 12, tzinfo=UTC)),
        (
            datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))),
            datetime(2024, 5, 1, 14, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("", None),
        ("redacted", None),
        (None, None),
        (1714564800, None),
    ],
)
def test_parse_time(text: object, expected: datetime | None) -> None:
    assert parse_time(text) == expected


def test_format_time_round_trips() -> None:
    when = datetime(2024, 5, 1, 12, 0, 7, 123, tzinfo=UTC)
    assert format_time(when) == "2024-05-01T12:00:07Z"
    assert parse_time(format_time(when)) == when.replace(microsecond=0)
