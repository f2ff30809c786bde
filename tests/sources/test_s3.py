"""`--source s3` against moto's S3: the same leftovers as the files, only new objects fetched,
and a scan killed while downloading resumes without reading anything twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aioboto3
import anyio
import boto3
import pytest

from emulator.history.generator import ground_truth, write_history
from scanner.cli import main
from scanner.errors import SettingsError
from scanner.plan import Slice
from scanner.sources.s3 import READ_LOG, S3Location, SyncStats, TrailCache, TrailSync
from tests.scan.scan_cli import NOW, closed_port, found, scan_json, spec_for, truth_set

REGIONS4 = ("us-east-1", "eu-west-1", "us-west-2", "ap-south-1")
ORG = "o-abcdef1234"
HOURS_PER_FILE = 6


def _bucket(moto_url: str, name: str) -> Any:
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket=name)
    return s3


def _upload(s3: Any, bucket: str, root: Path, prefix: str) -> int:
    """Every file under `root/AWSLogs` as `prefix/AWSLogs/o-ID/...`; how many."""
    files = [p for p in (root / "AWSLogs").rglob("*") if p.is_file()]

    def put(path: Path) -> None:
        relative = path.relative_to(root / "AWSLogs").as_posix()
        s3.put_object(
            Bucket=bucket, Key=f"{prefix}AWSLogs/{ORG}/{relative}", Body=path.read_bytes()
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, files))
    return len(files)


def _hold_back_a_day(root: Path, held: Path) -> None:
    """Move the day before the history's last day out of `root` into `held` (same layout)."""
    day = (NOW - timedelta(days=1)).strftime("%Y/%m/%d")
    for folder in list((root / "AWSLogs").glob(f"*/CloudTrail/*/{day}")):
        target = held / folder.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, target)


def _logged(cache: Path) -> list[str]:
    """Every object a sync fetched: one line each in the partitions' read logs."""
    return [line for log in cache.rglob(READ_LOG) for line in log.read_text().splitlines()]


async def _sync(moto_url: str, cache: Path, url: str, **options: Any) -> SyncStats:
    """One sync through the module's API, to see its counts."""
    location = S3Location.parse(url)
    async with aioboto3.Session().client(
        "s3", region_name="us-east-1", endpoint_url=moto_url
    ) as client:
        sync = TrailSync(client, location, TrailCache(cache, location.bucket), **options)
        await sync.run(Slice(NOW - timedelta(days=30), NOW))
    return sync.stats


@pytest.fixture
def s3_env(aws_env: None, moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """botocore's AWS_ENDPOINT_URL_S3 points S3 (only) at moto; the cache in tmp_path."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_url)
    monkeypatch.setenv("LEFTOVERS_TRAIL_BUCKET__CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _scan_s3(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["scan", "--format", "json", "--source", "s3", *argv])
    return status, json.loads(capsys.readouterr().out)


def _accounts(history: Path) -> list[str]:
    return sorted(p.name for p in (history / "AWSLogs").iterdir())


def test_s3_gives_the_files_leftovers_and_then_fetches_only_a_new_days_objects(
    s3_env: Path,
    moto_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = replace(spec_for(31), accounts=10, regions=REGIONS4, days=4, resources=6)
    truth = truth_set(ground_truth(spec))
    history = tmp_path / "history"
    write_history(spec, history, file_seconds=HOURS_PER_FILE * 3600)
    held = tmp_path / "held"
    _hold_back_a_day(history, held)
    s3 = _bucket(moto_url, "trail-one")
    uploaded = _upload(s3, "trail-one", history, "org/")
    first_account = _accounts(history)[0]
    partition = f"org/AWSLogs/{ORG}/{first_account}/CloudTrail/us-east-1/{NOW:%Y/%m/%d}/"
    digest = f"{first_account}_CloudTrail-Digest_us-east-1_x_{NOW:%Y%m%dT%H%MZ}.json.gz"
    s3.put_object(Bucket="trail-one", Key=partition + digest, Body=b"{}")
    s3.put_object(Bucket="trail-one", Key=partition + "notes.txt", Body=b"not a log")

    status, offline = scan_json(capsys, "--source", "files", str(history / "AWSLogs"))
    assert status == 1
    status, first = _scan_s3(capsys, "s3://trail-one/org")
    assert (status, first["errors"]) == (1, [])
    assert found(first) == found(offline) != truth
    assert len(_logged(s3_env)) == uploaded
    assert first["stats"]["api_calls"] > uploaded

    # The held-back day arrives: only its objects are fetched; the leftovers are the truth.
    added = _upload(s3, "trail-one", held, "org/")
    assert added > 0
    status, second = _scan_s3(capsys, "s3://trail-one/org")
    assert (status, second["errors"]) == (1, [])
    assert found(second) == truth
    assert len(_logged(s3_env)) == uploaded + added

    # Nothing new: nothing fetched; the days that ended long enough ago are not even listed;
    # the digest file and the stray object are skipped and counted.
    stats = anyio.run(_sync, moto_url, s3_env, "s3://trail-one/org")
    assert (stats.downloaded, stats.skipped) == (0, 2)
    assert 0 < stats.objects < uploaded + added
    assert 0 < stats.listed < stats.partitions
    assert len(_logged(s3_env)) == uploaded + added

    # Accounts and regions asked for: only their partitions are listed and fetched.
    other = tmp_path / "cache-two"
    monkeypatch.setenv("LEFTOVERS_TRAIL_BUCKET__CACHE_DIR", str(other))
    status, only = _scan_s3(
        capsys, "s3://trail-one/org", "--account", first_account, "--region", "eu-west-1"
    )
    assert found(only) == {i for i in truth if i[:2] == (first_account, "eu-west-1")}
    keys = [line.split(" ", 1)[1].split("/") for line in _logged(other)]
    assert keys
    assert {(key[3], key[5]) for key in keys} == {(first_account, "eu-west-1")}


def test_a_scan_killed_while_downloading_resumes_without_reading_anything_twice(
    s3_env: Path, moto_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = replace(spec_for(32), accounts=4, regions=REGIONS4[:2], days=4, resources=6)
    truth = truth_set(ground_truth(spec))
    history = tmp_path / "history"
    write_history(spec, history, file_seconds=3600)
    uploaded = _upload(_bucket(moto_url, "trail-two"), "trail-two", history, "")
    env = {**os.environ, "LEFTOVERS_TRAIL_BUCKET__CONCURRENCY": "1"}
    command = [sys.executable, "-m", "scanner", "scan", "--source", "s3", "s3://trail-two"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while len(_logged(s3_env)) < 20 and child.poll() is None:
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    before = _logged(s3_env)
    assert 20 <= len(before) < uploaded

    status, document = _scan_s3(capsys, "s3://trail-two")
    assert (status, document["errors"]) == (1, [])
    assert found(document) == truth
    after = _logged(s3_env)
    assert set(before) <= set(after)
    assert len(after) == len(set(after)) == uploaded


def test_a_bad_url_is_one_line() -> None:
    for url in ("s3://", "http://bucket/x", "s3://bucket/a/../b", "s3://B/x"):
        with pytest.raises(SettingsError, match="is not s3://BUCKET"):
            S3Location.parse(url)
    assert S3Location.parse("s3://my-trail/a/b/").prefix == "a/b/"
    assert S3Location.parse("s3://my-trail").prefix == ""


def test_s3_without_a_url_is_one_line(aws_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--source", "s3"]) == 2
    err = capsys.readouterr().err
    assert "--source s3: give s3://BUCKET/PREFIX or set trail_bucket.url" in err
    assert main(["scan", "--source", "s3", "s3://Bad_Bucket"]) == 2
    err = capsys.readouterr().err
    assert "--source s3: 's3://Bad_Bucket' is not s3://BUCKET[/PREFIX]" in err
    assert "Traceback" not in err


def test_the_bucket_is_read_through_the_role_assumed_at_the_sts_endpoint(
    s3_env: Path,
    moto_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Enough resources that some are left over (the test reads them through the role).
    spec = replace(spec_for(33), accounts=1, regions=("eu-west-1",), days=2, resources=8)
    assert ground_truth(spec).leftovers
    history = tmp_path / "history"
    write_history(spec, history, file_seconds=HOURS_PER_FILE * 3600)
    _upload(_bucket(moto_url, "trail-three"), "trail-three", history, "")
    monkeypatch.setenv("LEFTOVERS_TRAIL_BUCKET__ROLE_ARN", "arn:aws:iam::111122223333:role/Reader")
    # STS (as for LookupEvents) at an endpoint that answers nothing: the role cannot be assumed.
    monkeypatch.setenv("LEFTOVERS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    assert main(["scan", "--format", "json", "--source", "s3", "s3://trail-three"]) == 2
    out, err = capsys.readouterr()
    (error,) = json.loads(out)["errors"]
    assert error["stream"] == "s3://trail-three/AWSLogs/"
    assert "Could not connect to the endpoint URL" in error["reason"]
    assert "Traceback" not in err
    assert not _logged(s3_env)
    # moto's STS answers: the role's credentials read the bucket.
    monkeypatch.setenv("LEFTOVERS_ENDPOINT_URL", moto_url)
    status, document = _scan_s3(capsys, "s3://trail-three")
    assert (status, document["errors"]) == (1, [])
    assert found(document) == truth_set(ground_truth(spec))
