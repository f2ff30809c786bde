"""Records into the emulator: files and folders in every real format, or parsed documents."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import structlog

from emulator.api.events import ServedEvent, serve_event
from scanner.errors import InputError
from scanner.records import (
    RECORD_FILE_SUFFIXES,
    ReadStats,
    Record,
    RecordFileError,
    iter_document,
    read_file,
    read_paths,
    record_files,
)

#: Below this many files, loading in one process is faster than starting workers.
PARALLEL_MIN_FILES = 16

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class LoadStats:
    """What a load did: records read, added, dropped as duplicates, objects skipped."""

    read: int = 0
    added: int = 0
    duplicates: int = 0
    skipped: int = 0

    def add(self, other: LoadStats) -> None:
        """Count what `other` counted too."""
        self.read += other.read
        self.added += other.added
        self.duplicates += other.duplicates
        self.skipped += other.skipped

    def as_dict(self) -> dict[str, int]:
        """The counts, for JSON answers."""
        return {
            "read": self.read,
            "added": self.added,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
        }


def records_from_paths(paths: Iterable[Path], stats: ReadStats) -> Iterator[Record]:
    """The records under files and folders; an unreadable file raises InputError naming it."""
    try:
        yield from read_paths(paths, stats)
    except RecordFileError as error:
        raise InputError(f"cannot load history: {error}") from None


def _prepare_file(path: Path) -> tuple[int, int, list[ServedEvent] | str]:
    """In a worker: read one file and serialise its events (or say why it cannot be read)."""
    stats = ReadStats()
    try:
        events = [serve_event(record) for record in read_file(path, stats)]
    except RecordFileError as error:
        return stats.records, stats.skipped, str(error)
    return stats.records, stats.skipped, events


def events_from_paths(
    paths: Iterable[Path], stats: ReadStats, workers: int | None = None
) -> Iterator[Record | ServedEvent]:
    """Like records_from_paths, reading and serialising files in worker processes if many."""
    paths = list(paths)
    try:
        files = record_files(paths)
    except RecordFileError as error:
        raise InputError(f"cannot load history: {error}") from None
    if paths and not files:
        suffixes = ", ".join(f"*{suffix}" for suffix in RECORD_FILE_SUFFIXES)
        where = ", ".join(str(path) for path in paths)
        raise InputError(f"cannot load history: no CloudTrail log files ({suffixes}) in {where}")
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers < 2 or len(files) < PARALLEL_MIN_FILES:
        yield from records_from_paths(files, stats)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for read, skipped, events in pool.map(_prepare_file, files, chunksize=4):
            stats.records += read
            stats.skipped += skipped
            if isinstance(events, str):
                raise InputError(f"cannot load history: {events}")
            yield from events


def records_from_objects(items: Iterable[object], stats: ReadStats) -> Iterator[Record]:
    """Records given as Record values or as parsed JSON in any known format."""
    for item in items:
        if isinstance(item, Record):
            stats.records += 1
            yield item
        else:
            yield from iter_document(item, stats)


def warn_skipped(skipped: int, where: str) -> None:
    """One warning for every object that was not a CloudTrail record."""
    if skipped:
        log.warning("emulator_objects_skipped", skipped=skipped, source=where)
