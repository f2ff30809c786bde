"""Where records come from, behind one protocol: LookupEvents (`lookup`) or trail-log files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from scanner.plan import Slice, StreamId
from scanner.records import Record

#: (eventSource, eventName) -> whether the catalog has a rule for it; unwatched events are
#: counted but never parsed.
Watches = Callable[[str, str], bool]

ErrorKind = Literal["throttled", "transient", "invalid_token", "fatal"]
#: What a failure was, as a metric label: fixed values, never error text.
Category = Literal["throttled", "access_denied", "unavailable", "timeout", "other"]
_CATEGORY_OF_KIND: dict[ErrorKind, Category] = {
    "throttled": "throttled",
    "transient": "unavailable",
    "invalid_token": "other",
    "fatal": "other",
}


class SourceError(Exception):
    """A call failed; `kind` says whether to retry it, restart its chain, or give the stream up;
    `category` what it was (by default, what its kind suggests)."""

    def __init__(self, kind: ErrorKind, reason: str, category: Category | None = None) -> None:
        super().__init__(reason)
        self.kind: ErrorKind = kind
        self.reason = reason
        self.category: Category = category or _CATEGORY_OF_KIND[kind]


@dataclass(frozen=True, slots=True)
class SourcePage:
    """One page of a stream as a source reads it: its watched records, and what is needed to go
    on or resume (the scan hands it on as a `pages.Page` of facts)."""

    records: tuple[Record, ...]
    events_read: int
    oldest: datetime | None
    next_token: str | None


class Source(Protocol):
    """Reads pages of a stream's slice. `time_sliced` sources page newest first within a slice,
    so what is left of a slice ends at the oldest event read (resume) and can be split by time."""

    @property
    def time_sliced(self) -> bool: ...

    async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage: ...
