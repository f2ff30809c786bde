"""The engine benchmark's child: read page frames, parse, pair and store them on one core."""

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
from botocore.parsers import create_parser

from scanner.catalog import load_catalog
from scanner.lifecycle import Fact
from scanner.pairing import extract
from scanner.plan import Slice, StreamId, Work
from scanner.scan import Page
from scanner.sources.lookup import parse_page
from scanner.store import Store

FRAME = struct.Struct("<II")
STREAM = "ReadOnly=false"


def frames(path: Path) -> Any:
    """(header, body) of each frame in the pages file."""
    with path.open("rb") as handle:
        while head := handle.read(FRAME.size):
            header_length, body_length = FRAME.unpack(head)
            header = orjson.loads(handle.read(header_length))
            yield header, handle.read(body_length)


async def run(pages: Path, database: Path, parser_name: str) -> dict[str, Any]:
    """Every frame through the response parser, the catalog's extraction and the store.

    `botocore` parses as the scanner's aiobotocore clients do; `orjson` parses the bytes alone,
    to show what the engine costs without botocore's response parsing.
    """
    catalog = load_catalog()
    model = botocore.session.get_session().get_service_model("cloudtrail")
    shape = model.operation_model("LookupEvents").output_shape
    parser = create_parser("json")
    store = await Store.open(database)
    end = datetime.now(UTC).replace(microsecond=0)
    window = Slice(end - timedelta(days=90), end)
    begun: set[tuple[str, str]] = set()
    seen: set[str] = set()
    events = facts_count = 0
    started = time.perf_counter()
    cpu = time.process_time()
    for header, body in frames(pages):
        account, region = header["a"], header["r"]
        stream = StreamId(account, region, STREAM)
        if (account, region) not in begun:
            begun.add((account, region))
            await store.begin_region(account, region, end, [Work(stream, window)])
        if parser_name == "orjson":
            answer = orjson.loads(body)
        else:
            answer = parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
        batch = parse_page(answer, catalog.watches)
        facts: list[Fact] = []
        for record in batch.records:
            if record.event_id in seen:
                continue
            seen.add(record.event_id)
            facts.extend(extract(record, catalog))
        remaining = None if header["last"] else window
        page = Page(stream, window, tuple(facts), batch.events_read, batch.event_ids, remaining)
        await store.apply(page)
        events += batch.events_read
        facts_count += len(facts)
    elapsed = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await store.close()
    return {
        "parser": parser_name,
        "events_read": events,
        "facts": facts_count,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "events_per_second": round(events / elapsed),
        "peak_rss_mb": round(peak, 1),
    }


def main() -> None:
    """Pin to one core, run, print the figures as JSON."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    database = Path(sys.argv[2])
    result = anyio.run(run, Path(sys.argv[1]), database, sys.argv[3])
    result["database_mb"] = round(database.stat().st_size / 1e6, 1)
    with contextlib.closing(sqlite3.connect(database)) as connection:
        result["tracked_resources"] = connection.execute(
            "SELECT count(*) FROM lifecycles"
        ).fetchone()[0]
    sys.stdout.buffer.write(orjson.dumps(result))


if __name__ == "__main__":
    main()
