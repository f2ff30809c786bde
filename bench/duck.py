"""DuckDB over gzipped trail files: records/s of the catalog filter, by wall time and by CPU;
and the Python reader over the same files, for comparison."""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench.harness import Figure, Outcome
from emulator.history.generator import parse_spec, write_history
from scanner.catalog import load_catalog
from scanner.records import read_file, record_files
from scanner.sources import Watches
from scanner.sources.duck import CHUNK_BYTES, CHUNK_FILES, chunks, query_files


@dataclass(frozen=True, slots=True)
class DuckConfig:
    """The history written as trail files, the seconds of records per file, and runs (median)."""

    spec: str
    file_seconds: int
    runs: int = 1


#: ~1M records (4 accounts x 2 regions x 30 days), ~670 records per file (6 hours each).
FULL = DuckConfig(
    "accounts=4,regions=us-east-1,eu-west-1,seed=7,days=30,resources=200,noise=250", 6 * 3600, 3
)
SMOKE = DuckConfig("accounts=1,regions=us-east-1,seed=7,days=3,resources=20,noise=20", 3600)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rates(records: int, watched: int, wall: float, cpu: float) -> dict[str, float]:
    return {
        "records": records,
        "watched": watched,
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "records_per_second": round(records / wall),
        "records_per_cpu_second": round(records / cpu),
    }


def _run(files: list[Path], events: frozenset[tuple[str, str]]) -> dict[str, float]:
    """One pass of the source's queries (a chunk of files each) over every file."""
    db = duckdb.connect(":memory:")
    records = watched = 0
    wall, cpu = time.perf_counter(), _cpu()
    for run in chunks(files, CHUNK_FILES, CHUNK_BYTES):
        for rows in query_files(db, run, events).values():
            records += rows.records
            watched += len(rows.watched)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    db.close()
    return _rates(records, watched, wall, cpu)


def _run_python(files: list[Path], watches: Watches) -> dict[str, float]:
    """The same files through the Python reader (`records.read_file`, orjson), one thread."""
    records = watched = 0
    wall, cpu = time.perf_counter(), _cpu()
    for path in files:
        for record in read_file(path):
            records += 1
            watched += watches(record.event_source, record.event_name)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    return _rates(records, watched, wall, cpu)


def bench_duck(config: DuckConfig, workdir: Path) -> Outcome:
    """Write the trail files, then read them with the catalog filter `runs` times."""
    folder = workdir / "duck-trail"
    started = time.perf_counter()
    write_history(parse_spec(config.spec), folder, file_seconds=config.file_seconds)
    built = time.perf_counter() - started
    files = record_files([folder / "AWSLogs"])
    catalog = load_catalog()
    runs = sorted(
        (_run(files, catalog.events) for _ in range(config.runs)),
        key=lambda run: run["records_per_second"],
    )
    result = runs[len(runs) // 2]
    python = sorted(
        (_run_python(files, catalog.watches) for _ in range(config.runs)),
        key=lambda run: run["records_per_second"],
    )[len(runs) // 2]
    outcome = Outcome()
    outcome.figures.append(
        Figure("duckdb_records_per_second", result["records_per_second"], 300_000, "high")
    )
    outcome.figures.append(
        Figure("duckdb_records_per_cpu_second", result["records_per_cpu_second"])
    )
    outcome.figures.append(Figure("python_reader_records_per_second", python["records_per_second"]))
    outcome.details["duckdb"] = {
        "spec": config.spec,
        "files": len(files),
        "gzipped_mb": round(sum(p.stat().st_size for p in files) / 2**20, 1),
        "catalog_events": len(catalog.events),
        "build_seconds": round(built, 1),
        "records_per_second_runs": [run["records_per_second"] for run in runs],
        **result,
        "python_reader": python,
    }
    return outcome
