"""Measure the emulator on a large history: load time, memory, and LookupEvents page latency.

Synthesises N records (default 1,000,000) by cloning real sample records with new ids, times,
accounts and regions, writes them as gzipped trail-log files in the S3 delivery layout, then
times `Emulator(history=[folder])` and paging through it over raw HTTP (no client overhead),
and reports the figures. Run: `.venv/bin/python bench/emulator_load.py [N [KEEP_DIR]]`
"""

from __future__ import annotations

import asyncio
import gzip
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from emulator import Emulator
from emulator.api.clock import ManualClock
from scanner.records import format_time, read_paths

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "data" / "cloudtrail"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
ACCOUNTS = [f"{n:012d}" for n in (111111111111, 222222222222, 333333333333, 444444444444)]
REGIONS = ["us-east-1", "eu-west-1", "ap-south-1", "us-west-2", "eu-central-1"]
PER_FILE = 5000
TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


def synthesise(count: int, folder: Path) -> None:
    """Write `count` cloned records as gzipped trail-log files."""
    templates = [dict(r.body) for r in read_paths([SAMPLES / "aws-spotlight", SAMPLES / "plaso"])]
    rng = random.Random(1)
    horizon = 89 * 86400
    batch: list[dict[str, Any]] = []
    written = 0
    for i in range(count):
        record = dict(rng.choice(templates))
        account, region = ACCOUNTS[i % len(ACCOUNTS)], REGIONS[(i // 4) % len(REGIONS)]
        record["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        record["eventTime"] = format_time(NOW - timedelta(seconds=rng.randrange(horizon)))
        record["recipientAccountId"] = account
        record["awsRegion"] = region
        batch.append(record)
        if len(batch) == PER_FILE or i == count - 1:
            path = folder / f"AWSLogs/{account}/CloudTrail/{region}/{written:06d}.json.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.compress(orjson.dumps({"Records": batch}), compresslevel=1))
            written += 1
            batch = []


async def page_latencies(
    endpoint: str, calls: int, attribute: dict[str, str] | None
) -> list[float]:
    """Time `calls` successive LookupEvents pages over raw HTTP, following NextToken."""
    headers = {
        "X-Amz-Target": TARGET,
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIABENCH/20261101/us-east-1/"
        "cloudtrail/aws4_request, SignedHeaders=host, Signature=0",
    }
    body: dict[str, Any] = {"MaxResults": 50}
    if attribute:
        body["LookupAttributes"] = [attribute]
    times: list[float] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(calls):
            started = time.perf_counter()
            async with session.post(endpoint, data=orjson.dumps(body), headers=headers) as answer:
                payload = orjson.loads(await answer.read())
            times.append(time.perf_counter() - started)
            assert answer.status == 200, payload
            if "NextToken" not in payload:
                break
            body["NextToken"] = payload["NextToken"]
    return times


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    print(
        f"  {label}: median {statistics.median(ordered) * 1000:.2f} ms, "
        f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:.2f} ms over {len(times)} pages"
    )


async def serve_and_measure(emulator: Emulator) -> None:
    async with emulator.running() as running:
        report("page, no filter", await page_latencies(running.endpoint_url, 200, None))
        report(
            "page, ReadOnly=false",
            await page_latencies(
                running.endpoint_url, 200, {"AttributeKey": "ReadOnly", "AttributeValue": "false"}
            ),
        )
        report(
            "page, EventName=RunInstances",
            await page_latencies(
                running.endpoint_url,
                50,
                {"AttributeKey": "EventName", "AttributeValue": "RunInstances"},
            ),
        )


def main() -> None:
    if len(sys.argv) > 1 and Path(sys.argv[1]).is_dir():
        measure(Path(sys.argv[1]))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    keep = len(sys.argv) > 2
    with tempfile.TemporaryDirectory(
        prefix="emulator-bench-",
    ) as tmp:
        folder = Path(sys.argv[2]) if keep else Path(tmp)
        started = time.perf_counter()
        synthesise(count, folder)
        print(f"synthesised {count} records in {time.perf_counter() - started:.1f} s")
        measure(folder)


def measure(folder: Path) -> None:
    """Load the history under `folder`, then page through it."""
    started = time.perf_counter()
    cpu = time.process_time()
    emulator = Emulator(
        history=[folder], latency="off", rate=1e9, clock=ManualClock(NOW), account=ACCOUNTS[0]
    )
    loaded = time.perf_counter() - started
    workers_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"loaded {emulator.load_stats.added} events from files in {loaded:.1f} s "
        f"(CPU: main process {time.process_time() - cpu:.1f} s, "
        f"loader workers {workers_cpu.ru_utime + workers_cpu.ru_stime:.1f} s)"
    )
    started = time.perf_counter()
    emulator.history.build()
    print(f"indexed (sorted, postings) in {time.perf_counter() - started:.1f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MiB")
    asyncio.run(serve_and_measure(emulator))


if __name__ == "__main__":
    main()
