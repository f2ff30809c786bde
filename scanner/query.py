"""The `/results` query: its parameters checked one by one, its sort orders, its cursor, and
the OpenAPI description of the same parameters.

Every value the OpenAPI document allows is accepted, and nothing else: numbers are ASCII
digits, a repeated parameter has every value checked, resource types come from the catalog.
A cursor is a position in a sort order (five base64url parts joined by dots), not a handle on
server state: any well-formed cursor is a position, so it survives new scans.
"""

from __future__ import annotations

import base64
import re
from bisect import bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import islice
from typing import Any, Literal, get_args

from scanner.catalog import load_catalog
from scanner.report import ReportFilter
from scanner.snapshot import Entry

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
#: At most this many digits in a number: more is no page size or age, and int() would refuse.
MAX_DIGITS = 12
LIST_FILTERS = ("account_id", "region", "service", "resource_type", "state", "created_by")
#: The parameters that choose leftovers (the others page and sort them).
FILTERS = (*LIST_FILTERS, "min_age")
SINGLE = ("min_age", "limit", "cursor", "sort")
Sort = Literal["estimated_hourly_cost", "age", "created_at"]
SORTS: tuple[Sort, ...] = get_args(Sort)
#: Characters that separate list values besides the comma (what `.strip()` would eat is data).
_BLANK = " \t"
_DURATION = re.compile(rf"([0-9]{{1,{MAX_DIGITS}}})([smhdw]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?"
#: The cursor's grammar; the OpenAPI document publishes the same pattern.
CURSOR_PATTERN = rf"^{_PART}(?:\.{_PART}){{4}}$"
DURATION_PATTERN = rf"^[0-9]{{1,{MAX_DIGITS}}}[smhdw]?$"
_CURSOR = re.compile(CURSOR_PATTERN)
_DESCENDING = str.maketrans("0123456789", "9876543210")

Position = tuple[str, str, str, str, str]


class BadParameter(Exception):
    """A query parameter is invalid; becomes a 400 naming it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True, slots=True)
class Query:
    """The parsed query of `/results`."""

    only: ReportFilter
    limit: int
    sort: Sort | None
    after: Position | None


def parse_duration(parameter: str, text: str) -> int:
    """Seconds from `90`, `90s`, `15m`, `24h`, `7d` or `2w` (ASCII digits only)."""
    match = _DURATION.fullmatch(text)
    if not match:
        raise BadParameter(parameter, f"{text!r} is not a duration like 3600, 90m, 24h or 7d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _limit(text: str) -> int:
    if not (0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()):
        raise BadParameter("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise BadParameter("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return value


def _sort(text: str) -> Sort:
    for name in SORTS:
        if text == name:
            return name
    raise BadParameter("sort", f"{text!r} is not one of {', '.join(SORTS)}")


def _single(name: str, values: list[str]) -> str | None:
    if len(values) > 1 and len(set(values)) > 1:
        raise BadParameter(name, "given more than once with different values")
    return values[0] if values else None


@cache
def packaged_types() -> tuple[str, ...]:
    """The resource types of the packaged catalog."""
    return tuple(load_catalog().types)


def parse_query(
    params: Collection[str],
    multi: Callable[[str], list[str]],
    resource_types: Collection[str] | None = None,
) -> Query:
    """Validate `/results` query parameters (every value of each); unknown ones are errors.
    `resource_type` takes the given types (default: the packaged catalog's)."""
    resource_types = packaged_types() if resource_types is None else resource_types
    for name in params:
        if name not in (*LIST_FILTERS, *SINGLE):
            raise BadParameter(name, "unknown parameter")
    values: dict[str, list[str]] = {}
    for name in LIST_FILTERS:
        found = [v.strip(_BLANK) for raw in multi(name) for v in raw.split(",")]
        found = [v for v in found if v]
        if name in params and not found:
            raise BadParameter(name, "must not be empty")
        values[name] = found
    unknown = sorted(set(values["resource_type"]) - set(resource_types))
    if unknown:
        raise BadParameter(
            "resource_type",
            f"unknown resource type {', '.join(unknown)}: known types are "
            f"{', '.join(sorted(resource_types))}",
        )
    # Every value is checked, a repeated one too, before any is used.
    min_ages = [parse_duration("min_age", text) for text in multi("min_age")]
    limits = [_limit(text) for text in multi("limit")]
    sorts = [_sort(text) for text in multi("sort")]
    cursors = [decode_cursor(text) for text in multi("cursor")]
    for name in SINGLE:
        _single(name, multi(name))
    return Query(
        only=ReportFilter.of(
            accounts=values["account_id"],
            regions=values["region"],
            services=values["service"],
            types=values["resource_type"],
            states=values["state"],
            created_by=values["created_by"],
            min_age_seconds=min_ages[0] if min_ages else 0,
        ),
        limit=limits[0] if limits else DEFAULT_LIMIT,
        sort=sorts[0] if sorts else None,
        after=cursors[0] if cursors else None,
    )


# --- sort orders and positions -----------------------------------------------------------------


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def position(entry: Entry, sort: Sort | None) -> Position:
    """Where an entry stands in a sort order: text that orders as the order does.

    `estimated_hourly_cost`: highest first, unknown last; `age`: oldest first; `created_at`:
    newest first; none: by account, region, type and id, which also breaks every tie.
    """
    if sort is None:
        lead = ""
    elif sort == "estimated_hourly_cost":
        cost = entry.hourly_cost
        lead = "~" if cost is None else f"{cost:020.9f}".translate(_DESCENDING)
    elif sort == "age":
        lead = _stamp(entry.created_at)
    else:
        lead = _stamp(entry.created_at).translate(_DESCENDING)
    return (lead, *entry.sort_key)


def ordered(entries: Sequence[Entry], sort: Sort | None) -> list[Entry]:
    """The entries in a sort order (they come sorted by their key, the order without `sort`)."""
    if sort is None:
        return list(entries)
    return sorted(entries, key=lambda entry: position(entry, sort))


def encode_cursor(after: Position) -> str:
    """The cursor of the page that starts after `after`."""
    return ".".join(base64.urlsafe_b64encode(p.encode()).decode().rstrip("=") for p in after)


def decode_cursor(text: str) -> Position:
    """The position a cursor names; any text of the cursor's grammar names one."""
    if not _CURSOR.fullmatch(text):
        raise BadParameter("cursor", "not a cursor returned by this API")
    parts = [
        base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8", "replace")
        for part in text.split(".")
    ]
    return (parts[0], parts[1], parts[2], parts[3], parts[4])


def select(entries: Sequence[Entry], query: Query, now: datetime) -> tuple[list[Entry], str | None]:
    """The page `query` asks for from entries in its sort order, and the next page's cursor."""
    start = 0
    if query.after is not None:
        after = query.after
        start = bisect_right(entries, after, key=lambda entry: position(entry, query.sort))
    matching = (e for e in islice(entries, start, None) if query.only.keeps(e.leftover, now))
    page = list(islice(matching, query.limit + 1))
    more = len(page) > query.limit
    page = page[: query.limit]
    return page, encode_cursor(position(page[-1], query.sort)) if more and page else None


# --- the OpenAPI description -------------------------------------------------------------------


def _list_filter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"{description}; several values separated by commas or repeated",
        # at least one value: something besides commas, spaces and tabs
        "schema": {"type": "string", "pattern": f"[^,{_BLANK}]"},
    }


def results_parameters(resource_types: Sequence[str]) -> list[dict[str, Any]]:
    """The query parameters of `/results` in OpenAPI terms: what `parse_query` accepts."""
    return [
        _list_filter("account_id", "12-digit account id"),
        _list_filter("region", "AWS region"),
        _list_filter("service", "service, e.g. ec2"),
        {
            "name": "resource_type",
            "in": "query",
            "description": "catalog resource types (`leftovers catalog`), "
            "repeated or separated by commas",
            "explode": True,
            "schema": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "enum": sorted(resource_types)},
            },
        },
        _list_filter("state", "current state, e.g. running"),
        _list_filter("created_by", "the creator's user name, ARN, or last part of its ARN"),
        {
            "name": "min_age",
            "in": "query",
            "description": "minimum age: seconds, or 90m, 24h, 7d, 2w",
            "schema": {"type": "string", "pattern": DURATION_PATTERN},
        },
        {
            "name": "limit",
            "in": "query",
            "description": "page size (default 500)",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        },
        {
            "name": "sort",
            "in": "query",
            "description": "largest first: `estimated_hourly_cost` (unknown "
            "last), `age` (oldest first), `created_at` (newest first); "
            "default: by account, region, type and id",
            "schema": {"type": "string", "enum": list(SORTS)},
        },
        {
            "name": "cursor",
            "in": "query",
            "description": "opaque: `next_cursor` of the previous page, "
            "with the same filters and sort",
            "schema": {"type": "string", "pattern": CURSOR_PATTERN},
        },
    ]
