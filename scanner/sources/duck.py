"""Trail-log files through DuckDB: one query per chunk of files keeps only the catalog's events.

DuckDB reads each file (gzipped or not) as JSON objects, unnests `Records`, and returns per file
the number of records and, as JSON text, only those whose (eventSource, eventName) the catalog
watches (failed calls included: the engine ignores them). Those go through `record_from_body`,
the same extraction as every other reader, and the window, account and region filters of
`FilesSource`. Parsing every record of a file in Python is what this saves.

The Python reader (`records.read_file`) still serves every file that is not a trail log:
LookupEvents responses (each record is a JSON string inside `CloudTrailEvent`), EventBridge
envelopes, placebo and StreamAlert wrappers, bare records and lists of them. Those are samples
and recordings, not the delivery layout, and their shapes nest (`iter_document` unwraps them):
one set of rules in Python beats a second copy in SQL. A file DuckDB cannot read (bad gzip,
invalid JSON, an object over `max_object_bytes`) also goes to the Python reader, which reads it
or names what is wrong with it in the same words as for every other file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from scanner.plan import Slice
from scanner.records import ReadStats, Record, record_from_body
from scanner.sources import SourcePage, Watches
from scanner.sources.files import FilesSource, skipped_in

#: DuckDB's `maximum_object_size`: a trail file is one JSON object, so this bounds the
#: decompressed size of one file DuckDB reads (a larger file goes to the Python reader).
MAX_OBJECT_BYTES = 512 * 1024 * 1024

#: Files per query, and their compressed bytes at most: DuckDB reads a query's files in parallel.
CHUNK_FILES = 512
CHUNK_BYTES = 64 * 1024 * 1024

# Per file: whether every object holds a `Records` array, the records `record_from_body` takes
# (eventSource, eventName, awsRegion and a time present), every element, and the watched ones.
_QUERY = """
WITH objects AS (
    SELECT filename, json, json_type(json, '$.Records') = 'ARRAY' AS trail
    FROM read_json_objects($files, format = 'unstructured', filename = true,
                           maximum_object_size = $max_object_size)
), elements AS (
    SELECT filename, trail,
           unnest(CASE WHEN trail THEN json_extract(json, '$.Records[*]')
                       ELSE [NULL::JSON] END) AS rec
    FROM objects
), fields AS (
    SELECT filename, trail, rec,
           json_extract_string(rec, ['$.eventSource', '$.eventName', '$.awsRegion',
                                     '$.eventTime', '$."@timestamp"']) AS f
    FROM elements
)
SELECT filename,
       bool_and(trail),
       count(rec) FILTER (WHERE f[1] <> '' AND f[2] <> '' AND f[3] <> ''
                                AND coalesce(f[4], f[5]) IS NOT NULL),
       count(rec),
       list(rec::VARCHAR) FILTER (WHERE list_contains($names, f[2])
                                        AND list_contains($pairs, [f[1], f[2]]))
FROM fields
GROUP BY filename
"""


@dataclass(frozen=True, slots=True)
class FileRows:
    """What the query returned for one trail file: record counts and the watched records' JSON."""

    records: int
    elements: int
    watched: tuple[str, ...]


def query_files(
    db: duckdb.DuckDBPyConnection,
    files: Sequence[Path],
    events: Iterable[tuple[str, str]],
    max_object_bytes: int = MAX_OBJECT_BYTES,
) -> dict[Path, FileRows]:
    """Run the query over `files`; files that are not trail logs (or hold no record) are absent.

    Raises duckdb.Error when a file cannot be read.
    """
    pairs = sorted(set(events))
    by_name = {str(path): path for path in files}
    rows = db.execute(
        _QUERY,
        {
            "files": list(by_name),
            "max_object_size": max_object_bytes,
            "names": sorted({name for _, name in pairs}),
            "pairs": [list(pair) for pair in pairs],
        },
    ).fetchall()
    return {
        by_name[name]: FileRows(records, elements, tuple(watched or ()))
        for name, trail, records, elements, watched in rows
        if trail
    }


def records_of(rows: FileRows, stats: ReadStats) -> list[Record]:
    """The watched records of one file, built as every reader builds them; counts what is read."""
    kept = [record_from_body(orjson.loads(text)) for text in rows.watched]
    stats.records += rows.records
    stats.skipped += rows.elements - rows.records
    return [record for record in kept if record is not None]


def chunks(files: Sequence[Path], most_files: int, most_bytes: int) -> list[list[Path]]:
    """Consecutive runs of files, each at most `most_files` files and `most_bytes` on disk
    (a larger file makes a run of its own)."""
    runs: list[list[Path]] = []
    size = 0
    for path in files:
        try:
            length = path.stat().st_size
        except OSError:
            length = 0
        if not runs or len(runs[-1]) >= most_files or size + length > most_bytes:
            runs.append([])
            size = 0
        runs[-1].append(path)
        size += length
    return runs


class _Chunk:
    """One query's files; its results wait here until each file's stream takes its own."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.lock = threading.Lock()
        self.results: dict[Path, FileRows | None] | None = None


class DuckFilesSource(FilesSource):
    """`FilesSource` with trail logs read by DuckDB, a chunk of files per query.

    Streams stay one per file, so a bad file still fails alone: when a chunk's query fails,
    its files are queried one by one, and a file DuckDB cannot read goes to the Python reader.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        watches: Watches,
        events: frozenset[tuple[str, str]],
        accounts: frozenset[str] | None = None,
        regions: frozenset[str] | None = None,
        *,
        max_file_bytes: int = MAX_OBJECT_BYTES,
        chunk_files: int = CHUNK_FILES,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        super().__init__(
            paths, watches, accounts=accounts, regions=regions, max_file_bytes=max_file_bytes
        )
        self._events = events
        # A trail file is one JSON object to DuckDB: its object cap is the decompressed-size cap
        # (a larger file falls back to the Python reader, which refuses it naming the file).
        self._max_object_bytes = max_file_bytes
        self._db = duckdb.connect(":memory:")
        self._chunk_of: dict[Path, _Chunk] = {}
        for run in chunks(self.files, chunk_files, chunk_bytes):
            chunk = _Chunk(run)
            self._chunk_of.update((path, chunk) for path in run)

    def _query(self, files: Sequence[Path]) -> dict[Path, FileRows]:
        return query_files(self._db.cursor(), files, self._events, self._max_object_bytes)

    def _load(self, chunk: _Chunk) -> dict[Path, FileRows | None]:
        """Every file of the chunk: its rows, or None for the Python reader."""
        results: dict[Path, FileRows | None] = dict.fromkeys(chunk.files)
        try:
            results.update(self._query(chunk.files))
        except duckdb.Error:
            for path in chunk.files:
                try:
                    results.update(self._query([path]))
                except duckdb.Error:
                    continue
        return results

    def _take(self, path: Path) -> FileRows | None:
        chunk = self._chunk_of.get(path)
        if chunk is None:
            return None
        with chunk.lock:
            if chunk.results is None:
                chunk.results = self._load(chunk)
            if path in chunk.results:
                return chunk.results.pop(path)
        try:  # read again (a retried stream): this file alone
            return self._query([path]).get(path)
        except duckdb.Error:
            return None

    def _read(self, path: Path, bounds: Slice) -> tuple[SourcePage, ReadStats]:
        rows = self._take(path)
        if rows is None:
            return super()._read(path, bounds)
        stats = ReadStats()
        kept = tuple(r for r in records_of(rows, stats) if self._wanted(r, bounds))
        skipped_in(path, stats)
        fetched = SourcePage(records=kept, events_read=rows.records, oldest=None, next_token=None)
        return fetched, stats
