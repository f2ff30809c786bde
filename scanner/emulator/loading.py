"""Records into the emulator: files and folders in every real format, or parsed documents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog

from scanner.errors import InputError
from scanner.records import ReadStats, Record, RecordFileError, iter_document, read_paths

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class LoadStats:
    """What a load did: records read, added, dropped as duplicates, objects skipped."""

    read: int = 0
    added: int = 0
    duplicates: int = 0
    skipped: int = 0

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
