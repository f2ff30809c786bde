"""The `/leftovers` view: its columns, sort orders kept per snapshot, filtered and paged rows.

A snapshot never changes, so each sort order over its entries is computed once (on first use)
and a filter's matches are kept for a while: a page of 100k leftovers is a slice of a kept order.
Columns are data: the verification and ignore columns appear only when some entry carries them.
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanner.report import ReportFilter
from scanner.snapshot import Entry, Snapshot

PER_PAGE = 100
PER_PAGE_CHOICES = (25, 100, 500)
#: How many filters' matches are kept per snapshot.
KEPT_FILTERS = 32

SortValue = str | float | None


def session_of(arn: str | None) -> str | None:
    """The session name of an assumed role's ARN (its last part), else None."""
    if arn and ":assumed-role/" in arn:
        return arn.rsplit("/", 1)[-1]
    return None


def owner_of(item: Mapping[str, Any]) -> str:
    """Who made it, in a word: the user name, else the ARN's last part, else `unknown`."""
    creator = item.get("created_by") or {}
    arn = creator.get("arn")
    return str(creator.get("user_name") or (arn.rsplit("/", 1)[-1] if arn else "unknown"))


def _text_of(value: Any) -> str | None:
    """A data-driven cell's text: a string, or a mapping's outcome/reason/state."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        for name in ("outcome", "reason", "state"):
            if value.get(name):
                return str(value[name])
        return None
    return str(value)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the list: its name in URLs, heading, sort value, and whether it is shown
    always or only when some entry has a value for it."""

    name: str
    heading: str
    value: Callable[[Entry], SortValue]
    optional: bool = False
    numeric: bool = False
    first_descending: bool = False


def _item_text(*names: str) -> Callable[[Entry], SortValue]:
    def value(entry: Entry) -> SortValue:
        for name in names:
            text = _text_of(entry.item.get(name))
            if text is not None:
                return text
        return None

    return value


COLUMNS: tuple[Column, ...] = (
    Column("type", "Type", lambda e: e.key.resource_type),
    Column("id", "Resource", lambda e: e.leftover.name or e.key.resource_id),
    Column("cost", "USD/hour", lambda e: e.hourly_cost, numeric=True, first_descending=True),
    Column("age", "Age", lambda e: -e.created_at.timestamp(), numeric=True, first_descending=True),
    Column("state", "State", lambda e: e.leftover.state),
    Column("owner", "Owner", lambda e: owner_of(e.item)),
    Column("account", "Account", lambda e: e.key.account_id),
    Column("region", "Region", lambda e: e.key.region),
    Column("verification", "Verified", _item_text("verification", "verified"), optional=True),
    Column("ignored", "Ignored because", _item_text("ignore_reason", "ignored"), optional=True),
)
BY_NAME = {column.name: column for column in COLUMNS}
DEFAULT_SORT = "cost"


@dataclass(frozen=True, slots=True)
class Sort:
    """A column and a direction."""

    column: str
    descending: bool

    @classmethod
    def parse(cls, text: str | None) -> Sort | None:
        """`cost`, `-cost` (descending); None when the column is unknown."""
        text = (text or "").strip()
        descending = text.startswith("-")
        name = text.lstrip("-")
        if name not in BY_NAME:
            return None
        return cls(name, descending)

    @property
    def text(self) -> str:
        return f"-{self.column}" if self.descending else self.column

    def toggled(self, column: Column) -> Sort:
        """The sort a column's heading links to: the other direction when it is this column,
        else that column's first direction."""
        if column.name == self.column:
            return Sort(column.name, not self.descending)
        return Sort(column.name, column.first_descending)


DEFAULT = Sort(DEFAULT_SORT, descending=True)


@dataclass(slots=True)
class ListIndex:
    """Sort orders and filter matches over one snapshot's entries, computed on first use."""

    snapshot: Snapshot
    columns: tuple[Column, ...] = ()
    _orders: dict[Sort, tuple[int, ...]] = field(default_factory=dict)
    _matches: OrderedDict[tuple[ReportFilter, int], frozenset[int]] = field(
        default_factory=OrderedDict
    )
    _choices: dict[str, list[str]] | None = None

    def __post_init__(self) -> None:
        entries = self.snapshot.entries
        self.columns = tuple(
            c for c in COLUMNS if not c.optional or any(c.value(e) is not None for e in entries)
        )

    def order(self, sort: Sort) -> tuple[int, ...]:
        """Entry positions in this sort; entries without a value last either way; ties keep
        the cost-then-age order (the default)."""
        found = self._orders.get(sort)
        if found is None:
            found = self._orders[sort] = self._sorted(sort)
        return found

    def _sorted(self, sort: Sort) -> tuple[int, ...]:
        entries = self.snapshot.entries
        base = range(len(entries)) if sort == DEFAULT else self.order(DEFAULT)
        value = BY_NAME[sort.column].value
        values: list[Any] = [value(e) for e in entries]
        present = [i for i in base if values[i] is not None]
        missing = [i for i in base if values[i] is None]
        if sort == DEFAULT:  # cost, then the oldest first among equal costs
            age = BY_NAME["age"].value
            ages: list[Any] = [age(e) for e in entries]
            present.sort(key=ages.__getitem__, reverse=True)
            missing.sort(key=ages.__getitem__, reverse=True)
        present.sort(key=values.__getitem__, reverse=sort.descending)
        return (*present, *missing)

    def choices(self) -> dict[str, list[str]]:
        """The values the filters' suggestion lists offer (once per snapshot)."""
        if self._choices is None:
            entries = self.snapshot.entries
            self._choices = {
                "account_id": sorted({e.key.account_id for e in entries}),
                "region": sorted({e.key.region for e in entries}),
                "resource_type": sorted({e.key.resource_type for e in entries}),
                "state": sorted({e.leftover.state for e in entries}),
                "service": sorted({e.service for e in entries}),
            }
        return self._choices

    def matching(self, only: ReportFilter, now: datetime) -> frozenset[int] | None:
        """The positions a filter keeps (None: every entry), kept for the next pages."""
        if only == ReportFilter():
            return None
        minute = int(now.timestamp() // 60) if only.min_age_seconds else 0
        key = (only, minute)
        found = self._matches.get(key)
        if found is None:
            found = frozenset(
                i for i, e in enumerate(self.snapshot.entries) if only.keeps(e.leftover, now)
            )
            self._matches[key] = found
            while len(self._matches) > KEPT_FILTERS:
                self._matches.popitem(last=False)
        else:
            self._matches.move_to_end(key)
        return found

    def view(self, only: ReportFilter, sort: Sort, now: datetime) -> Sequence[int]:
        """Every position the filter keeps, in sort order."""
        order = self.order(sort)
        kept = self.matching(only, now)
        return order if kept is None else [i for i in order if i in kept]


@dataclass(frozen=True, slots=True)
class Paging:
    """Which slice of a view a page shows (1-based page numbers)."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """Offset of the page's first row."""
        return (min(self.page, self.pages) - 1) * self.per_page

    @property
    def last(self) -> int:
        """Offset after the page's last row."""
        return min(self.total, self.first + self.per_page)


class Indexes:
    """The list index of the current snapshot (a new snapshot gets a new one)."""

    def __init__(self) -> None:
        self._held: ListIndex | None = None

    def of(self, snapshot: Snapshot) -> ListIndex:
        held = self._held
        if held is None or held.snapshot is not snapshot:
            held = self._held = ListIndex(snapshot)
        return held


def json_item(entry: Entry, now: datetime) -> dict[str, Any]:
    """An entry as `/results` serves it."""
    return dict(entry.item, age_seconds=entry.leftover.age_seconds(now))


CSV_FIELDS = (
    "account_id",
    "region",
    "service",
    "resource_type",
    "resource_id",
    "name",
    "state",
    "created_at",
    "age_seconds",
    "created_by_user",
    "created_by_arn",
    "source_ip",
    "estimated_hourly_cost",
    "console_url",
)
#: A cell starting with one of these is read as a formula by spreadsheets: quote it.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_lines(entries: Sequence[Entry], columns: Sequence[Column], now: datetime) -> Iterator[str]:
    """The view as CSV text, a header then a line per entry (AWS text never read as formulas)."""
    extra = [c for c in columns if c.optional]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*CSV_FIELDS, *(c.name for c in extra)])
    for count, entry in enumerate(entries, start=1):
        item = entry.item
        creator = item.get("created_by") or {}
        row = {
            **item,
            "age_seconds": entry.leftover.age_seconds(now),
            "created_by_user": creator.get("user_name"),
            "created_by_arn": creator.get("arn"),
            "source_ip": creator.get("source_ip"),
        }
        writer.writerow(
            [_cell(row.get(name)) for name in CSV_FIELDS] + [_cell(c.value(entry)) for c in extra]
        )
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
