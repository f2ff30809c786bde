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
#: How many filtered views (filter and sort) are kept per snapshot.
KEPT_VIEWS = 16

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
    optional: tuple[str, ...] = ()  # shown only when some item has one of these keys
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


#: The item keys another part of the report may add (a verification outcome, an ignore reason).
VERIFICATION = ("verification", "verified")
IGNORED = ("ignore_reason", "ignored")

#: The columns in the order the list shows them (the template follows this order).
COLUMNS: tuple[Column, ...] = (
    Column("type", "Type", lambda e: e.key.resource_type),
    Column("id", "Resource", lambda e: e.leftover.name or e.key.resource_id),
    Column("cost", "USD/hour", lambda e: e.hourly_cost, numeric=True, first_descending=True),
    Column("age", "Age", lambda e: -e.created_at.timestamp(), numeric=True, first_descending=True),
    Column("state", "State", lambda e: e.leftover.state),
    Column("owner", "Owner", lambda e: owner_of(e.item)),
    Column("account", "Account", lambda e: e.key.account_id),
    Column("region", "Region", lambda e: e.key.region),
    Column(
        "verification",
        "Verified",
        _item_text(*VERIFICATION),
        optional=VERIFICATION,
    ),
    Column("ignored", "Ignored because", _item_text(*IGNORED), optional=IGNORED),
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
    _views: OrderedDict[tuple[ReportFilter, Sort, int], tuple[int, ...]] = field(
        default_factory=OrderedDict
    )
    _choices: dict[str, list[str]] | None = None

    def __post_init__(self) -> None:
        keys = {key for c in COLUMNS for key in c.optional}
        found = {key for e in self.snapshot.entries for key in keys if e.item.get(key)}
        self.columns = tuple(c for c in COLUMNS if not c.optional or found & set(c.optional))

    def order(self, sort: Sort) -> tuple[int, ...]:
        """Entry positions in this sort; entries without a value last either way; ties keep
        the cost-then-age order (the default)."""
        found = self._orders.get(sort)
        if found is None:
            found = self._orders[sort] = self._sorted(sort)
        return found

    def _sorted(self, sort: Sort) -> tuple[int, ...]:
        entries = self.snapshot.entries
        if sort == DEFAULT:  # the dearest first, the oldest first among equal costs
            leftovers = [e.leftover for e in entries]
            return tuple(
                sorted(
                    range(len(leftovers)),
                    key=[
                        (x.hourly_cost is None, -(x.hourly_cost or 0.0), x.created_at)
                        for x in leftovers
                    ].__getitem__,
                )
            )
        base = self.order(DEFAULT)
        value = BY_NAME[sort.column].value
        values: list[Any] = [value(e) for e in entries]
        present = [i for i in base if values[i] is not None]
        missing = [i for i in base if values[i] is None]
        present.sort(key=values.__getitem__, reverse=sort.descending)
        return (*present, *missing)

    def choices(self) -> dict[str, list[str]]:
        """The values the filters' suggestion lists offer, from the metrics' label sets."""
        if self._choices is None:
            labels = list(self.snapshot.metrics.resources)  # (account, region, service, type,
            self._choices = {  # state)
                name: sorted({label[at] for label in labels})
                for at, name in enumerate(
                    ("account_id", "region", "service", "resource_type", "state")
                )
            }
        return self._choices

    def view(self, only: ReportFilter, sort: Sort, now: datetime) -> Sequence[int]:
        """Every position the filter keeps, in sort order; a filtered view is kept for its
        next pages (with `min_age`, for the minute)."""
        order = self.order(sort)
        if only == ReportFilter():
            return order
        key = (only, sort, int(now.timestamp() // 60) if only.min_age_seconds else 0)
        found = self._views.get(key)
        if found is None:
            entries = self.snapshot.entries
            kept = {i for i, e in enumerate(entries) if only.keeps(e.leftover, now)}
            found = self._views[key] = tuple(i for i in order if i in kept)
            while len(self._views) > KEPT_VIEWS:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(key)
        return found


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
