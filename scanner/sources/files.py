"""Trail-log files as a source: records from local files and folders, no network."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread

from scanner.errors import InputError
from scanner.plan import Slice, StreamId, Work
from scanner.records import Record, RecordFileError, read_file, record_files
from scanner.sources import Batch, SourceError, Watches

FILES_STREAM = StreamId("*", "*", "files")
_FILE_PREFIX = "file:"


class FilesSource:
    """One stream per file (`file:<path>`), read in one page; a bad file fails alone.

    Keeps the records of watched events inside the window, of the wanted accounts and regions
    (None: all of them).
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
        self._watches = watches
        self._accounts = accounts
        self._regions = regions

    def _wanted(self, record: Record, window: Slice) -> bool:
        return (
            window.start <= record.event_time <= window.end
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

    def _read(self, path: Path, window: Slice) -> Batch:
        try:
            records = list(read_file(path))
        except RecordFileError as error:
            raise SourceError("fatal", str(error)) from None
        kept = tuple(
            r
            for r in records
            if self._wanted(r, window) and self._watches(r.event_source, r.event_name)
        )
        return Batch(
            records=kept,
            events_read=len(records),
            event_ids=tuple(r.event_id for r in kept),
            oldest=None,
            next_token=None,
        )

    async def fetch(self, stream: StreamId, window: Slice, token: str | None) -> Batch:
        del token
        if not stream.name.startswith(_FILE_PREFIX):
            raise SourceError("fatal", f"{stream.name}: not a file stream")
        path = Path(stream.name[len(_FILE_PREFIX) :])
        return await anyio.to_thread.run_sync(self._read, path, window)
