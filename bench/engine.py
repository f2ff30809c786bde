"""Engine throughput and memory: LookupEvents pages in, parse + pair + SQLite store out."""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.harness import REGIONS_8, Figure, Outcome, run_child
from emulator import parse_spec
from emulator.api.events import serve_event
from emulator.history.generator import generate_slices
from scanner.records import record_from_body

PAGE_SIZE = 50
FRAME = struct.Struct("<II")


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """The history whose pages the engine reads, and how many times it reads them (the median
    run is reported: single runs on a shared 2-core machine vary by about 10%)."""

    spec: str
    runs: int = 1


#: ~1M events, ~100k resources created across 3 accounts x 8 regions.
FULL = EngineConfig(
    "accounts=3,regions=" + ",".join(REGIONS_8) + ",seed=5,resources=4200,noise=3", runs=3
)
SMOKE = EngineConfig("accounts=1,regions=us-east-1,eu-west-1,seed=5,resources=60,noise=3")


def write_pages(spec_text: str, path: Path) -> tuple[int, int]:
    """Every (account, region)'s events as LookupEvents answers, newest first; (events, pages).

    Each frame: header length, body length, the header `{"a": account, "r": region, "last": b}`,
    then the response body exactly as the emulator serialises it.
    """
    events = pages = 0
    with path.open("wb") as out:
        for account, region, bodies in generate_slices(parse_spec(spec_text)):
            items = []
            for body in bodies:
                record = record_from_body(body)
                if record is not None:
                    items.append(serve_event(record).item)
            items.reverse()
            for start in range(0, len(items), PAGE_SIZE):
                chunk = items[start : start + PAGE_SIZE]
                last = start + PAGE_SIZE >= len(items)
                answer = b'{"Events":[' + b",".join(chunk) + b"]"
                if not last:
                    answer += b',"NextToken":"' + f"{account}-{region}-{start}".encode() + b'"'
                answer += b"}"
                header = orjson.dumps({"a": account, "r": region, "last": last})
                out.write(FRAME.pack(len(header), len(answer)) + header + answer)
                events += len(chunk)
                pages += 1
    return events, pages


def _child(pages_file: Path, database: Path) -> dict[str, Any]:
    """Run the engine child over the pages; its figures."""
    for stale in database.parent.glob(database.name + "*"):
        stale.unlink()
    return run_child("bench.engine_child", [str(pages_file), str(database)], timeout=1800)


def bench_engine(config: EngineConfig, workdir: Path) -> Outcome:
    """Build the pages, then run the scanner's scan over them in a child pinned to one core."""
    pages_file = workdir / "engine-pages.bin"
    database = workdir / "engine.db"
    started = time.perf_counter()
    events, pages = write_pages(config.spec, pages_file)
    built = time.perf_counter() - started
    runs = [_child(pages_file, database) for _ in range(config.runs)]
    pages_file.unlink()
    runs.sort(key=lambda run: run["events_per_second"])
    result = runs[len(runs) // 2]  # the median run (each starts from an empty state file)
    peak = max(run["peak_rss_mb"] for run in runs)
    outcome = Outcome()
    outcome.figures.append(
        Figure("engine_events_per_second", round(result["events_per_second"]), 50_000, "high")
    )
    outcome.figures.append(Figure("engine_peak_rss_mb", peak, 300, "low"))
    outcome.details["engine"] = {
        "spec": config.spec,
        "events": events,
        "pages": pages,
        "pages_build_seconds": round(built, 1),
        "runs": len(runs),
        "events_per_second_runs": [run["events_per_second"] for run in runs],
        **result,
        "peak_rss_mb": peak,
    }
    return outcome
