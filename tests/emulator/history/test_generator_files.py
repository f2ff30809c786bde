"""The generator's spec grammar, its files on disk (S3 layout, truth.json), small and unpinned
specs, and the original script's case."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from emulator import GeneratorSpec, generate, parse_spec, write_history
from emulator.history.generator import GroundTruth, ground_truth, original_script_case
from scanner.errors import InputError
from scanner.records import ReadStats, read_paths, record_files

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SPEC = GeneratorSpec(now=NOW)


@pytest.fixture(scope="module")
def truth() -> GroundTruth:
    return ground_truth(SPEC)


# files ---------------------------------------------------------------------------------------
def test_write_history_layout_round_trips(tmp_path: Path) -> None:
    spec = GeneratorSpec(
        accounts=2, regions=("us-east-1", "eu-west-1"), resources=45, days=2, noise=2, now=NOW
    )
    truth = write_history(spec, tmp_path)
    assert truth == ground_truth(spec)
    pattern = re.compile(
        r"AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/"
        r"\1_CloudTrail_\2_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz"
    )
    files = record_files([tmp_path / "AWSLogs"])
    assert len(files) > 10
    for file in files:
        match = pattern.fullmatch(file.relative_to(tmp_path).as_posix())
        assert match, file
        year, month, day, stamp = match.group(3, 4, 5, 6)
        assert stamp.startswith(f"{year}{month}{day}T")
        document = orjson.loads(gzip.decompress(file.read_bytes()))
        assert set(document) == {"Records"}
        account, region = match.group(1, 2)
        times = []
        for body in document["Records"]:
            assert body["recipientAccountId"] == account
            assert body["awsRegion"] == region
            times.append(body["eventTime"])
        begin = datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        assert all(begin <= datetime.fromisoformat(t) < begin + timedelta(minutes=5) for t in times)
    stats = ReadStats()
    from_files = sorted(r.event_id for r in read_paths([tmp_path / "AWSLogs"], stats))
    assert stats.skipped == 0
    assert from_files == sorted(r["eventID"] for r in generate(spec))
    assert GroundTruth.read(tmp_path / "truth.json") == truth


def test_truth_json_round_trip(tmp_path: Path, truth: GroundTruth) -> None:
    path = tmp_path / "truth.json"
    truth.write(path)
    assert GroundTruth.read(path) == truth
    assert GroundTruth.from_json(orjson.loads(orjson.dumps(truth.to_json()))) == truth
    data = truth.to_json()
    data["leftovers"][0]["resource_id"] = ""
    with pytest.raises(InputError, match="resource_id"):
        GroundTruth.from_json(data)
    path.write_text("{not json")
    with pytest.raises(InputError, match=r"truth\.json"):
        GroundTruth.read(path)


# spec ----------------------------------------------------------------------------------------
def test_parse_spec_reads_every_key() -> None:
    spec = parse_spec(
        "accounts=2,regions=us-east-1,eu-west-1,ap-south-1,seed=7,days=30,resources=200,"
        "noise=4.5,now=2025-01-02T03:04:00Z"
    )
    assert spec.accounts == 2
    assert spec.regions == ("us-east-1", "eu-west-1", "ap-south-1")
    assert (spec.seed, spec.days, spec.resources, spec.noise) == (7, 30, 200, 4.5)
    assert spec.now == datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    assert parse_spec(spec.text()) == spec
    assert parse_spec("") == GeneratorSpec()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("acounts=3", "acounts"),
        ("accounts=three", "accounts"),
        ("accounts=0", "accounts"),
        ("regions=us-east-1,moon-1", "regions"),
        ("seed=1,2", "seed"),
        ("noise=-1", "noise"),
        ("days=1000", "days"),
        ("now=yesterday", "now"),
        ("accounts=1,accounts=2", "accounts"),
    ],
)
def test_parse_spec_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(InputError, match=repr(key)):
        parse_spec(text)


def test_small_specs_still_work() -> None:
    spec = GeneratorSpec(accounts=1, regions=("eu-west-1",), resources=5, noise=0, now=NOW)
    records = list(generate(spec))
    assert records
    assert not any(r["readOnly"] for r in records)
    assert ground_truth(spec).stats.created >= 5
    empty = GeneratorSpec(accounts=1, regions=("eu-west-1",), resources=0, now=NOW)
    assert list(generate(empty)) == []


def test_history_ends_now_when_unpinned() -> None:
    spec = GeneratorSpec(accounts=1, regions=("us-east-1",), resources=3, days=1, noise=1)
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    truth = ground_truth(spec)
    assert before <= truth.window_end <= datetime.now(UTC)
    for body in generate(spec):
        assert datetime.fromisoformat(body["eventTime"]) <= datetime.now(UTC)


# the original script's case --------------------------------------------------------------------
def test_original_script_case() -> None:
    records, truth = original_script_case(NOW)
    assert all(r["awsRegion"] == "us-east-1" for r in records)
    assert len({r["userIdentity"]["arn"] for r in records}) == 1
    launches = [r for r in records if r["eventName"] == "RunInstances"]
    launched = [
        i["instanceId"] for r in launches for i in r["responseElements"]["instancesSet"]["items"]
    ]
    assert len(launched) == 3
    assert all(
        i["instanceType"] == "t2.micro"
        for r in launches
        for i in r["responseElements"]["instancesSet"]["items"]
    )
    terminated = [
        i["instanceId"]
        for r in records
        if r["eventName"] == "TerminateInstances"
        for i in r["requestParameters"]["instancesSet"]["items"]
    ]
    assert len(terminated) == 1
    db = [r for r in records if r["eventName"] == "CreateDBInstance"]
    assert len(db) == 1
    assert db[0]["requestParameters"]["dBInstanceClass"] == "db.r5.large"
    left = sorted((i.resource_type, i.resource_id) for i in truth.leftovers)
    expected = sorted(
        [("ec2.instance", i) for i in launched if i not in terminated]
        + [("rds.db_instance", "database-1-instance-1")]
    )
    assert left == expected
    assert all(NOW - timedelta(hours=2) <= i.created_at <= NOW for i in truth.leftovers)
    assert records == sorted(records, key=lambda r: r["eventTime"])
    assert original_script_case(NOW)[0] == records
