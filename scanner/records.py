"""CloudTrail records: one frozen type, and readers for every format real records come in."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import itertools
import json
import re
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

#: Suffixes of files that may hold CloudTrail records, plain or gzipped.
RECORD_FILE_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")


class RecordFileError(Exception):
    """A file of records could not be read; the message names the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Record:
    """One CloudTrail record: the fields every consumer needs, and the whole record as `body`."""

    event_id: str
    event_name: str
    event_source: str
    event_time: datetime
    region: str
    account_id: str
    error_code: str | None
    read_only: bool | None
    body: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def failed(self) -> bool:
        """True for a call that failed (CloudTrail records those with a non-empty errorCode)."""
        return bool(self.error_code)


@dataclass(slots=True)
class ReadStats:
    """What a reader saw: records taken and objects skipped because they are not records."""

    records: int = 0
    skipped: int = 0


def parse_time(value: object) -> datetime | None:
    """Parse a CloudTrail timestamp (ISO 8601, `Z` or an offset) to an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace(" ", "T", 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """Format a datetime the way CloudTrail writes `eventTime` (second precision, `Z`)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_only(body: Mapping[str, Any]) -> bool | None:
    value = body.get("readOnly")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _account_of(body: Mapping[str, Any]) -> str:
    account = body.get("recipientAccountId")
    if isinstance(account, str) and account:
        return account
    identity = body.get("userIdentity")
    if isinstance(identity, Mapping):
        account = identity.get("accountId")
        if isinstance(account, str) and account:
            return account
    return ""


def _synthetic_event_id(body: Mapping[str, Any]) -> str:
    """A stable id for the rare record without `eventID` (hand-minimised samples)."""
    digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()
    return str(uuid.UUID(bytes=digest[:16], version=5))


def record_from_body(body: object) -> Record | None:
    """Build a Record from a bare CloudTrail record, or None when it is not one."""
    if not isinstance(body, dict):
        return None
    name = body.get("eventName")
    source = body.get("eventSource")
    region = body.get("awsRegion")
    if not (isinstance(name, str) and name and isinstance(source, str) and source):
        return None
    if not (isinstance(region, str) and region):
        return None
    # Records shipped through Logstash (OTRF datasets) carry `@timestamp` instead of `eventTime`.
    when = parse_time(body.get("eventTime", body.get("@timestamp")))
    if when is None:
        return None
    event_id = body.get("eventID")
    if not (isinstance(event_id, str) and event_id):
        event_id = _synthetic_event_id(body)
    error = body.get("errorCode")
    return Record(
        event_id=event_id,
        event_name=name,
        event_source=source,
        event_time=when,
        region=region,
        account_id=_account_of(body),
        error_code=error if isinstance(error, str) and error else None,
        read_only=_read_only(body),
        body=body,
    )


def record_from_lookup_event(event: Mapping[str, Any]) -> Record | None:
    """Build a Record from one LookupEvents `Events[]` item (its `CloudTrailEvent` string)."""
    inner = event.get("CloudTrailEvent")
    if isinstance(inner, str | bytes):
        try:
            inner = orjson.loads(inner)
        except orjson.JSONDecodeError:
            return None
    return record_from_body(inner)


def iter_document(document: object, stats: ReadStats | None = None) -> Iterator[Record]:
    """Yield the records of one parsed JSON value in any known format; count what is skipped.

    Formats: a bare record; `{"Records": [...]}` (trail log file); `{"Events": [...]}`
    (LookupEvents response, also wrapped as `{"data": {...}}` by placebo recordings); one
    `Events[]` item; an EventBridge envelope `{"detail-type": ..., "detail": {...}}`; any of
    these wrapped as `{"data": ...}` (placebo, StreamAlert fixtures); or a JSON list of them.
    """
    stats = stats if stats is not None else ReadStats()
    pending: list[object] = [document]
    while pending:
        item = pending.pop()
        record: Record | None = None
        if isinstance(item, list):
            pending.extend(reversed(item))
            continue
        if isinstance(item, dict):
            if isinstance(item.get("Records"), list):
                pending.extend(reversed(item["Records"]))
                continue
            if isinstance(item.get("Events"), list):
                pending.extend(reversed(item["Events"]))
                continue
            if isinstance(item.get("data"), dict) and "eventName" not in item:
                # placebo recordings wrap a response as {"data": {"Events": ...}}; StreamAlert
                # test fixtures wrap {"Records": [...]} or an EventBridge envelope the same way.
                pending.append(item["data"])
                continue
            if "CloudTrailEvent" in item:
                record = record_from_lookup_event(item)
            elif isinstance(item.get("detail"), dict):
                record = record_from_body(item["detail"])
            else:
                record = record_from_body(item)
        if record is None:
            stats.skipped += 1
            continue
        stats.records += 1
        yield record


def _decode(path: Path, raw: bytes) -> Iterator[object]:
    """Yield the JSON values of a file: one document, or one per line (JSONL)."""
    try:
        yield orjson.loads(raw)
        return
    except orjson.JSONDecodeError as whole_error:
        lines = [line for line in raw.splitlines() if line.strip()]
        try:
            first = orjson.loads(lines[0]) if len(lines) > 1 else None
        except orjson.JSONDecodeError:
            first = None
        if first is None:
            raise RecordFileError(path, f"not valid JSON ({whole_error})") from None
    for number, line in enumerate(lines, start=1):
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError as line_error:
            raise RecordFileError(path, f"line {number}: not valid JSON ({line_error})") from None


#: A file of records larger than this once decompressed is refused (`max_file_mb`).
DEFAULT_MAX_FILE_BYTES = 512 * 2**20
_CHUNK_BYTES = 1 << 20
#: How a trail log file (`{"Records": [...]}`) starts; those are read one record at a time.
_TRAIL = r'[ \t\n\r]*\{[ \t\n\r]*"Records"[ \t\n\r]*:[ \t\n\r]*\['
_TRAIL_START = re.compile(_TRAIL)
_TRAIL_START_BYTES = re.compile(_TRAIL.encode())
_SPACE = re.compile(r"[ \t\n\r]*")


def _chunks(path: Path, max_bytes: int) -> Iterator[bytes]:
    """The file's bytes (decompressed when it ends in .gz), a chunk at a time, up to a cap."""
    try:
        with path.open("rb") as raw:
            stream = gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw
            total = 0
            while chunk := stream.read(_CHUNK_BYTES):
                total += len(chunk)
                if total > max_bytes:
                    raise RecordFileError(
                        path,
                        f"more than {max_bytes / 2**20:g} MiB once decompressed: not read "
                        "(the max_file_mb setting raises the limit)",
                    )
                yield chunk
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise RecordFileError(path, f"cannot read ({error})") from None


class _Text:
    """The text of a stream of chunks, decoded as it is needed; `pos` is where reading is."""

    def __init__(self, path: Path, chunks: Iterator[bytes]) -> None:
        self.path = path
        self.text = ""
        self.pos = 0
        self._chunks = chunks
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._ended = False

    def fill(self, at_least: int) -> bool:
        """Read on until `at_least` characters are ahead of `pos`; False at the end."""
        if self._ended:
            return False
        parts = [self.text[self.pos :]]
        ahead = len(parts[0])
        try:
            while ahead < at_least:
                chunk = next(self._chunks, None)
                parts.append(self._utf8.decode(chunk or b"", final=chunk is None))
                ahead += len(parts[-1])
                if chunk is None:
                    self._ended = True
                    break
        except UnicodeDecodeError as error:
            raise RecordFileError(self.path, f"not UTF-8 text ({error.reason})") from None
        self.text, self.pos = "".join(parts), 0
        return True

    def next_char(self) -> str | None:
        """The next character that is not white space (None at the end), without taking it."""
        while True:
            match = _SPACE.match(self.text, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill(1):
                return None

    def value(self, decoder: json.JSONDecoder) -> object:
        """The JSON value at `pos`, reading on as far as it needs."""
        while True:
            try:
                value, self.pos = decoder.raw_decode(self.text, self.pos)
                return value
            except json.JSONDecodeError as error:
                # Cut off by the end of what was read (then the error is at its end, or is a
                # string left open): read twice as far and retry. Anything else is broken.
                cut = error.pos >= len(self.text) - 16 or error.msg.startswith("Unterminated")
                if not (cut and self.fill(2 * max(len(self.text) - self.pos, _CHUNK_BYTES))):
                    raise RecordFileError(self.path, f"not valid JSON ({error.msg})") from None


def _trail_records(path: Path, text: _Text) -> Iterator[object]:
    """The items of a trail log file's `Records` list, parsed one at a time."""
    match = _TRAIL_START.match(text.text)
    text.pos = match.end() if match else 0
    decoder = json.JSONDecoder()
    if text.next_char() == "]":
        return
    while True:
        yield text.value(decoder)
        following = text.next_char()
        if following == "]":
            return  # what follows the list is no record
        if following != ",":
            raise RecordFileError(path, "not valid JSON (expected ',' or ']' after a record)")
        text.pos += 1
        text.next_char()  # raw_decode takes no leading white space


def read_file(
    path: Path, stats: ReadStats | None = None, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> Iterator[Record]:
    """Yield the records of one file (.json, .jsonl, optionally .gz) of at most `max_bytes`
    decompressed. A trail log file is parsed a record at a time, so memory holds one record
    and a chunk, not the file; other formats are parsed whole."""
    chunks = _chunks(path, max_bytes)
    head = next(chunks, b"")
    if _TRAIL_START_BYTES.match(head):
        text = _Text(path, itertools.chain([head], chunks))
        text.fill(1)
        for item in _trail_records(path, text):
            yield from iter_document(item, stats)
        return
    raw = head + b"".join(chunks)
    for document in _decode(path, raw):
        yield from iter_document(document, stats)


def record_files(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders (recursively, S3 delivery layout included) to record files."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.name.endswith(RECORD_FILE_SUFFIXES)
                )
            )
        elif path.is_file():
            found.append(path)
        elif path.exists():
            raise RecordFileError(path, "not a regular file or folder")
        else:
            raise RecordFileError(path, "no such file or folder")
    return found


def read_paths(paths: Iterable[Path], stats: ReadStats | None = None) -> Iterator[Record]:
    """Yield the records of every record file under the given files and folders."""
    for path in record_files(paths):
        yield from read_file(path, stats)
