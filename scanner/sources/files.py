"""Trail-log files as a source: records from local files and folders, no network."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread

from scanner.errors import InputError
from scanner.plan import Slice, StreamId, Work
from scanner.records import (
    RECORD_FILE_SUFFIXES,
    ReadStats,
    Record,
    RecordFileError,
    read_file,
    record_files,
)
from scanner.sources import SourceError, SourcePage, Watches

FILES_STREAM = StreamId("*", "*", "files")
_FILE_PREFIX = "file:"


class FilesSource:
    """One stream per file (`file:<path>`), read in one page; a bad file fails alone.

    Keeps the records of watched events inside the window, of the wanted accounts and regions
    (None: all of them). `read` counts the records of every file read and the JSON objects
    skipped because they are not records. No record file under `paths` is an InputError.
    """

    time_sliced = False

    def __init__(
        self,
        paths: Sequence[Path],
        watches: Watches,
        accounts: frozenset[str] | None = None,
        regions: frozenset[str] | None = None,
    ) -> None:
        try:
            self.files = record_files(paths)
        except RecordFileError as error:
            raise InputError(str(error)) from None
        if not self.files:
            suffixes = ", ".join(f"*{suffix}" for suffix in RECORD_FILE_SUFFIXES)
            where = ", ".join(str(p) for p in paths)
            raise InputError(f"no CloudTrail log files ({suffixes}) in {where}")
        self.read = ReadStats()
        self._watches = watches
        self._accounts = accounts
        self._regions = regions

    def _wanted(self, record: Record, bounds: Slice) -> bool:
        return (
            bounds.start <= record.event_time <= bounds.end
            and (self._accounts is None or record.account_id in self._accounts)
            and (self._regions is None or record.region in self._regions)
        )

    def work(self, window: Slice) -> list[Work]:
        """One slice per file: the whole window."""
        return [
            Work(
                StreamId(FILES_STREAM.account_id, FILES_STREAM.region, f"{_FILE_PREFIX}{p}"), window
            )
            for p in self.files
        ]

    def _read(self, path: Path, bounds: Slice) -> tuple[SourcePage, ReadStats]:
        stats = ReadStats()
        try:
            records = list(read_file(path, stats))
        except RecordFileError as error:
            raise SourceError("fatal", str(error)) from None
        kept = tuple(
            r
            for r in records
            if self._wanted(r, bounds) and self._watches(r.event_source, r.event_name)
        )
        fetched = SourcePage(
            records=kept,
            events_read=len(records),
            oldest=None,
            next_token=None,
        )
        return fetched, stats

    async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage:
        del token
        if not stream.name.startswith(_FILE_PREFIX):
            raise SourceError("fatal", f"{stream.name}: not a file stream")
        path = Path(stream.name[len(_FILE_PREFIX) :])
        fetched, stats = await anyio.to_thread.run_sync(self._read, path, bounds)
        self.read.records += stats.records
        self.read.skipped += stats.skipped
        return fetched
