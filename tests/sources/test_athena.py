"""The Athena backfill's client side against moto's Athena and S3 in server mode.

moto accepts StartQueryExecution and walks a query through QUEUED and RUNNING to SUCCEEDED (one
step per GetQueryExecution with a manual transition), and StopQueryExecution cancels it; it never
runs SQL, never reports FAILED and always reports 0 bytes scanned. So each batch's UNLOAD output
is made here: its SELECT, transpiled to DuckDB, runs over the same trail files and the Parquet is
put where the UNLOAD would have written it. FAILED is checked on an answer of Athena's shape.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aioboto3
import anyio
import boto3
import duckdb
import pytest
import sqlglot

from emulator.history.generator import account_ids, ground_truth, write_history
from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.plan import Slice
from scanner.records import read_paths
from scanner.sources.athena import (
    CHECKPOINT,
    MIN_BILLED_BYTES,
    AthenaBackfill,
    BackfillBatch,
    Checkpoint,
    ParquetSource,
    cost_usd,
    outcome,
    plan_batches,
)
from scanner.sources.athena_sql import TrailTable, unload_query
from tests.scan.scan_cli import NOW, closed_port, found, spec_for, truth_set

from .athena_local import create_table

REGIONS = ("us-east-1", "eu-west-1")
TABLE = TrailTable("default", "trail", "s3://trail/", None, REGIONS)
OUTPUT = "s3://athena-out/results/"
WINDOW = Slice(NOW - timedelta(days=5), NOW)


def _transition(moto_url: str, transition: dict[str, Any] | None) -> None:
    action = "set-transition" if transition else "unset-transition"
    body = {"model_name": "athena::execution", **({"transition": transition} if transition else {})}
    request = urllib.request.Request(
        f"{moto_url}/moto-api/state-manager/{action}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


@pytest.fixture
def moto_aws(aws_env: None, moto_url: str) -> Iterator[str]:
    """S3 with the output bucket, and Athena's queries stepping QUEUED -> RUNNING -> SUCCEEDED."""
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    if "athena-out" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="athena-out")
    _transition(moto_url, {"progression": "manual", "times": 1})
    yield moto_url
    _transition(moto_url, None)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("athena-history")
    spec = replace(spec_for(51), accounts=4, regions=REGIONS, days=4, resources=10)
    write_history(spec, folder, file_seconds=6 * 3600)
    return folder, account_ids(spec)


async def _clients(moto_url: str) -> AsyncIterator[tuple[Any, Any]]:
    session = aioboto3.Session()
    async with (
        session.client("athena", region_name="us-east-1", endpoint_url=moto_url) as athena,
        session.client("s3", region_name="us-east-1", endpoint_url=moto_url) as s3,
    ):
        yield athena, s3


def _backfill(athena: Any, s3: Any, cache: Path, **options: Any) -> AthenaBackfill:
    return AthenaBackfill(
        athena, s3, TABLE, load_catalog().events, workgroup="primary",
        output_location=OUTPUT, cache_dir=cache, poll_seconds=0, page_size=2, **options,
    )  # fmt: skip


def _unload_here(
    moto_url: str, history: Path, backfill: AthenaBackfill, batches: list[BackfillBatch]
) -> int:
    """Do what Athena's UNLOAD would: each batch's rows as Parquet (a file per region) at the
    target of its first attempt. Returns the number of files."""
    db = duckdb.connect()
    create_table(db, TABLE, sorted((history / "AWSLogs").rglob("*.json.gz")))
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    count = 0
    for batch in batches:
        select = backfill.select(batch)
        target = backfill.target(batch.key(select), 0)
        bucket, prefix = target.removeprefix("s3://").split("/", 1)
        local = sqlglot.transpile(select, read="trino", write="duckdb")[0]
        for n, region in enumerate(REGIONS):
            path = history.parent / f"{batch.key(select)}-{n}.parquet"
            db.execute(f"COPY (SELECT * FROM ({local}) WHERE region = '{region}') TO '{path}'")
            s3.upload_file(str(path), bucket, f"{prefix}{n:04d}_part.parquet")
            count += 1
    return count


def _expected(history: Path, accounts: list[str]) -> list[tuple[str, str]]:
    catalog = load_catalog()
    return sorted(
        (r.event_id, r.event_name)
        for r in read_paths([history / "AWSLogs"])
        if catalog.watches(r.event_source, r.event_name)
        and r.account_id in accounts
        and WINDOW.start <= r.event_time <= WINDOW.end
    )


async def _records(files: dict[str, list[str]]) -> list[tuple[str, str]]:
    source = ParquetSource(files, load_catalog().watches)
    out = []
    for work in source.work(WINDOW):
        batch = await source.fetch(work.stream, work.slice, None)
        out += [(r.event_id, r.event_name) for r in batch.records]
    return sorted(out)


def _queries(moto_url: str) -> list[str]:
    athena = boto3.client("athena", endpoint_url=moto_url, region_name="us-east-1")
    ids = athena.list_query_executions()["QueryExecutionIds"]
    return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]


class Crash(BaseException):
    """Stands for a kill: nothing below catches it."""


async def test_backfill_polls_lists_pages_reads_parquet_and_resumes_from_its_checkpoint(
    moto_aws: str, history: tuple[Path, list[str]], tmp_path: Path
) -> None:
    folder, accounts = history
    batches = plan_batches(accounts, WINDOW, per_query=2, days=4)
    assert len(batches) == 2 * 2
    before = len(_queries(moto_aws))
    async for athena, s3 in _clients(moto_aws):
        polls = 0

        async def crash_on_the_third_poll(_: float) -> None:
            nonlocal polls
            polls += 1
            if polls == 3:
                raise Crash

        first = _backfill(athena, s3, tmp_path / "cache", sleep=crash_on_the_third_poll)
        files_made = _unload_here(moto_aws, folder, first, batches)
        with pytest.raises(BaseExceptionGroup):
            await first.run(batches)
        started = first.stats.queries
        assert 0 < started <= len(batches)
        steps = [state["step"] for state in first.checkpoint.load().values()]
        assert "started" in steps

        second = _backfill(athena, s3, tmp_path / "cache")
        files = await second.run(batches)
        assert second.stats.failures == []
        assert second.stats.queries + started == len(batches)  # no query run twice
        assert second.stats.resumed == steps.count("started")
        assert sum(len(f) for f in files.values()) == files_made
        assert await _records(files) == _expected(folder, accounts)

        third = _backfill(athena, s3, tmp_path / "cache")
        assert await third.run(batches) == files
        assert (third.stats.queries, third.stats.files) == (0, 0)

    queries = _queries(moto_aws)[before:]
    expected = {
        unload_query(first.select(b), first.target(b.key(first.select(b)), 0)) for b in batches
    }
    assert set(queries) == expected
    assert len(queries) == len(batches)


async def test_a_cancelled_query_fails_its_batch_and_the_next_run_uses_a_new_target(
    moto_aws: str, history: tuple[Path, list[str]], tmp_path: Path
) -> None:
    _, accounts = history
    batch = plan_batches(accounts[:1], WINDOW, per_query=1, days=10)
    _transition(moto_aws, {"progression": "manual", "times": 1_000_000})
    before = len(_queries(moto_aws))
    client = boto3.client("athena", endpoint_url=moto_aws, region_name="us-east-1")
    async for athena, s3 in _clients(moto_aws):
        backfill = _backfill(athena, s3, tmp_path / "cache")

        async def cancel_when_started() -> None:
            while True:
                ids = await anyio.to_thread.run_sync(client.list_query_executions)
                if len(ids["QueryExecutionIds"]) > before:
                    newest = ids["QueryExecutionIds"][-1]
                    stop = functools.partial(client.stop_query_execution, QueryExecutionId=newest)
                    await anyio.to_thread.run_sync(stop)
                    return
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as group:
            group.start_soon(cancel_when_started)
            assert await backfill.run(batch) == {}
        ((key, reason),) = backfill.stats.failures
        assert reason.endswith("CANCELLED")
        assert key == batch[0].key(backfill.select(batch[0]))

        _transition(moto_aws, {"progression": "immediate"})
        again = _backfill(athena, s3, tmp_path / "cache")
        assert await again.run(batch) == {key: []}
        assert again.stats.queries == 1
    last = _queries(moto_aws)[-1]
    assert again.target(key, 1) in last


def test_a_failed_querys_reason_and_the_cost_estimate() -> None:
    answer = {
        "Status": {
            "State": "FAILED",
            "StateChangeReason": "SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved\nmore",
            "AthenaError": {"ErrorCategory": 2, "ErrorMessage": "Column 'x' cannot be resolved"},
        },
        "Statistics": {"DataScannedInBytes": 123},
    }
    assert outcome(answer) == (
        "FAILED", "SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved", 123
    )  # fmt: skip
    assert cost_usd(0) == cost_usd(MIN_BILLED_BYTES) == MIN_BILLED_BYTES / 1e12 * 5
    assert cost_usd(2 * 10**12) == 10.0


def _athena_scan_env(
    moto_url: str, history: tuple[Path, list[str]], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[BackfillBatch], list[str]]:
    """Settings for `--source athena` against moto, and each batch's UNLOAD output in place;
    the batches and the scan's account flags."""
    folder, accounts = history
    monkeypatch.setenv("AWS_ENDPOINT_URL_ATHENA", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_url)
    settings = {
        "TRAIL_BUCKET__URL": "s3://trail/",
        "TRAIL_BUCKET__CACHE_DIR": str(cache),
        "ATHENA__OUTPUT_LOCATION": OUTPUT,
        "ATHENA__DATABASE": TABLE.database,
        "ATHENA__TABLE": TABLE.table,
        "ATHENA__POLL_SECONDS": "0.01",
        "ATHENA__BATCH_ACCOUNTS": "3",
        "REGIONS": ",".join(REGIONS),
        "LOOKBACK_DAYS": "7",
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"LEFTOVERS_{name}", value)
    batches = plan_batches(accounts, Slice(NOW - timedelta(days=7), NOW), per_query=3, days=31)
    maker = AthenaBackfill(
        None, None, TABLE, load_catalog().events, workgroup="primary",
        output_location=OUTPUT, cache_dir=cache.parent / "unused",
    )  # fmt: skip
    _unload_here(moto_url, folder, maker, batches)
    return batches, [flag for a in accounts for flag in ("--account", a)]


TRUTH = replace(spec_for(51), accounts=4, regions=REGIONS, days=4, resources=10)


def test_scan_source_athena_gives_the_ground_truth(
    moto_aws: str,
    history: tuple[Path, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    batches, argv = _athena_scan_env(moto_aws, history, tmp_path / "cache", monkeypatch)
    status = main(["scan", "--format", "json", "--source", "athena", *argv])
    document = json.loads(capsys.readouterr().out)
    assert (status, document["errors"]) == (1, [])
    assert found(document) == truth_set(ground_truth(TRUTH))
    figures = document["athena"]
    assert (figures["queries"], figures["failed_batches"]) == (len(batches), 0)
    # moto reports 0 bytes scanned: each query is billed Athena's 10 MB minimum.
    assert figures["estimated_cost_usd"] == round(len(batches) * cost_usd(0), 6)


def test_a_backfill_killed_while_its_queries_run_resumes_them_without_running_them_again(
    moto_aws: str,
    history: tuple[Path, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache = tmp_path / "cache"
    batches, argv = _athena_scan_env(moto_aws, history, cache, monkeypatch)
    checkpoint = Checkpoint(cache / "athena" / CHECKPOINT)
    _transition(moto_aws, {"progression": "manual", "times": 1_000_000})  # queries keep running
    before = len(_queries(moto_aws))
    command = [sys.executable, "-m", "scanner", "scan", "--source", "athena", *argv]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while child.poll() is None:
            steps = [state.get("step") for state in checkpoint.load().values()]
            if steps.count("started") == len(batches):
                break
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert len(_queries(moto_aws)) == before + len(batches)

    _transition(moto_aws, {"progression": "manual", "times": 1})
    status = main(["scan", "--format", "json", "--source", "athena", *argv])
    document = json.loads(capsys.readouterr().out)
    assert (status, document["errors"]) == (1, [])
    assert found(document) == truth_set(ground_truth(TRUTH))
    figures = document["athena"]
    assert (figures["queries"], figures["queries_resumed"]) == (0, len(batches))
    assert len(_queries(moto_aws)) == before + len(batches)


def test_athena_settings_missing_or_unreachable_are_one_line(
    aws_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("LEFTOVERS_TRAIL_BUCKET__URL", "s3://trail/")
    assert main(["scan", "--source", "athena"]) == 2
    assert "--source athena: set athena.output_location" in capsys.readouterr().err
    monkeypatch.setenv("LEFTOVERS_ATHENA__OUTPUT_LOCATION", OUTPUT)
    monkeypatch.setenv("LEFTOVERS_TRAIL_BUCKET__CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("LEFTOVERS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    assert main(["scan", "--source", "athena"]) == 2  # the current account: STS unreachable
    err = capsys.readouterr().err
    assert "cannot list the accounts to backfill: Could not connect" in err
    assert "Traceback" not in err


def test_the_checkpoint_keeps_whole_lines_and_ignores_the_rest(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / CHECKPOINT)
    checkpoint.append(batch="a", step="planned", attempt=0, target="s3://out/a/0/")
    checkpoint.append(batch="a", step="started", query="q-1")
    with checkpoint.path.open("ab") as out:
        out.write(b'7\n{"step": "done"}\n{"batch": "b", "step": "sta')  # stray and cut lines
    assert checkpoint.load() == {
        "a": {
            "batch": "a",
            "step": "started",
            "attempt": 0,
            "target": "s3://out/a/0/",
            "query": "q-1",
        }
    }
