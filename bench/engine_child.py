"""The engine benchmark's child: the scanner's own scan over page frames, on one core.

Each stream's pages come from the frames file instead of HTTP; everything after the response
body is the scanner's code: the LookupEvents response parser its clients use, `parse_page`, the
catalog's extraction, `run_scan`'s pumps and consumer, and the store's batched transactions.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sqlite3
import struct
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import botocore.session
import orjson

from scanner.catalog import load_catalog
from scanner.logs import configure
from scanner.plan import Slice, StreamId, Work
from scanner.runner import extractor, freeze_start_up
from scanner.scan import ScanOptions, run_scan
from scanner.sources import SourcePage, Watches
from scanner.sources.answers import LookupParserFactory
from scanner.sources.lookup import parse_page
from scanner.store import Store

FRAME = struct.Struct("<II")
STREAM = "ReadOnly=false"


def index_frames(path: Path) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """(account, region) -> (offset, length) of each of its page bodies, in order."""
    found: dict[tuple[str, str], list[tuple[int, int]]] = {}
    with path.open("rb") as handle:
        while head := handle.read(FRAME.size):
            header_length, body_length = FRAME.unpack(head)
            header = orjson.loads(handle.read(header_length))
            found.setdefault((header["a"], header["r"]), []).append((handle.tell(), body_length))
            handle.seek(body_length, os.SEEK_CUR)
    return found


class FrameSource:
    """LookupSource's parsing over recorded bodies: each stream's pages in order, no HTTP."""

    time_sliced = False

    def __init__(self, path: Path, watches: Watches) -> None:
        self._handle = path.open("rb")
        self._frames = index_frames(path)
        self._next = dict.fromkeys(self._frames, 0)
        self._watches = watches
        self._parser = LookupParserFactory().create_parser("json")  # one per client, as botocore's
        self._shape = (
            botocore.session.get_session()
            .get_service_model("cloudtrail")
            .operation_model("LookupEvents")
            .output_shape
        )

    def streams(self) -> list[tuple[str, str]]:
        return list(self._frames)

    async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage:
        key = (stream.account_id, stream.region)
        offset, length = self._frames[key][self._next[key]]
        self._next[key] += 1
        self._handle.seek(offset)
        body = self._handle.read(length)
        answer = await self._parser.parse(
            {"body": body, "headers": {}, "status_code": 200, "context": {}}, self._shape
        )
        return parse_page(answer, self._watches)


async def run(pages: Path, database: Path) -> dict[str, Any]:
    """Every frame through the scanner's scan into the store."""
    catalog = load_catalog()
    source = FrameSource(pages, catalog.watches)
    store = await Store.open(database)
    end = datetime.now(UTC).replace(microsecond=0)
    window = Slice(end - timedelta(days=90), end)
    work = [Work(StreamId(a, r, STREAM), window) for a, r in source.streams()]
    for item in work:
        await store.begin_region(item.stream.account_id, item.stream.region, end, [item])
    freeze_start_up()  # as the CLI's scan and the service do
    started = time.perf_counter()
    cpu = time.process_time()
    # No rate limit: the pages are recorded; one chain per stream, the default buffer.
    result = await run_scan(
        source, work, store, extractor(catalog), ScanOptions(rate=None, concurrency=1)
    )
    elapsed = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await store.close()
    if result.failures:
        raise RuntimeError(f"streams failed: {result.failures}")
    events = result.stats.events_read
    return {
        "path": "scanner (run_scan, fast LookupEvents parser, batched store)",
        "events_read": events,
        "events_matched": result.stats.events_matched,
        "api_calls": result.stats.api_calls,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "events_per_second": round(events / elapsed),
        "peak_rss_mb": round(peak, 1),
    }


def main() -> None:
    """Pin to one core, run, print the figures as JSON."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    configure("warning", stream=sys.stderr)
    database = Path(sys.argv[2])
    result = anyio.run(run, Path(sys.argv[1]), database)
    result["database_mb"] = round(database.stat().st_size / 1e6, 1)
    with contextlib.closing(sqlite3.connect(database)) as connection:
        result["tracked_resources"] = connection.execute(
            "SELECT count(*) FROM lifecycles"
        ).fetchone()[0]
    sys.stdout.buffer.write(orjson.dumps(result))


if __name__ == "__main__":
    main()
