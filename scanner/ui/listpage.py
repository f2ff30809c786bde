"""A list page's request and rows: filters, sort and paging from the URL, links, table rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from scanner.report import ReportFilter
from scanner.snapshot import Entry
from scanner.ui.listing import (
    BY_NAME,
    DEFAULT,
    PER_PAGE,
    PER_PAGE_CHOICES,
    Column,
    Sort,
    owner_of,
    session_of,
)
from scanner.ui.render import age_text, cost_text, path_of, safe_href, with_query

#: Parses `/results`-style filter parameters (raising an error that names a bad one) into a
#: query with `.only`, the report filter.
Parse = Callable[[Mapping[str, str], Callable[[str], list[str]]], Any]


class BadPage(Exception):
    """A page's own parameter (sort, page, per_page) is invalid."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A list page's request: the filter parameters as given, the filter, sort and paging."""

    params: tuple[tuple[str, str], ...]
    only: ReportFilter
    sort: Sort
    page: int
    per_page: int

    def link(self, path: str = "/leftovers", **changes: Any) -> str:
        """This view's URL with some of sort, page, per_page changed (filters kept)."""
        sort = changes.get("sort", self.sort)
        page = changes.get("page", 1)
        per_page = changes.get("per_page", self.per_page)
        pairs = list(self.params)
        if sort != DEFAULT:
            pairs.append(("sort", sort.text))
        if page != 1:
            pairs.append(("page", str(page)))
        if per_page != PER_PAGE:
            pairs.append(("per_page", str(per_page)))
        return with_query(path, pairs)

    def narrowed(self, name: str, value: str) -> str:
        """This view also filtered by `name=value` (first page)."""
        pairs = [(n, v) for n, v in self.params if n != name]
        return ListQuery((*pairs, (name, value)), self.only, self.sort, 1, self.per_page).link()

    def value(self, name: str) -> str:
        return ",".join(v for n, v in self.params if n == name)


def _number(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or int(text) < 1:
        raise BadPage(name, "must be a whole number from 1")
    return int(text)


def list_query(request: web.Request, parse: Parse, filters: Sequence[str]) -> ListQuery:
    """The filter parameters (as `/results` takes them; empty form fields dropped), the sort
    and the page."""
    params = tuple(
        (name, value.strip())
        for name, value in request.query.items()
        if name in filters and value.strip()
    )
    first = dict(reversed(params))

    def multi(name: str) -> list[str]:
        return [v for n, v in params if n == name]

    only = parse(first, multi).only
    sort_text = request.query.get("sort")
    sort = DEFAULT if not sort_text else Sort.parse(sort_text)
    if sort is None:
        raise BadPage("sort", f"must be one of {', '.join(BY_NAME)}, '-' first for descending")
    per_page = _number(request, "per_page", PER_PAGE)
    if per_page not in PER_PAGE_CHOICES:
        raise BadPage("per_page", f"must be one of {', '.join(map(str, PER_PAGE_CHOICES))}")
    return ListQuery(params, only, sort, _number(request, "page", 1), per_page)


@dataclass(frozen=True, slots=True)
class Row:
    """One listed leftover, as the template shows it: text, links, and optional cells."""

    resource_type: str
    resource_id: str
    name: str | None
    cost: str
    age: str
    created_at: str
    state: str
    owner: str
    session: str | None
    source_ip: str | None
    account_id: str
    region: str
    detail: str
    console: str | None
    narrow: Mapping[str, str]
    extra: tuple[tuple[str, str], ...]


class Rows:
    """Builds a page's rows; links narrowing the view by a value are made once per value."""

    def __init__(self, query: ListQuery, columns: Sequence[Column], now: datetime) -> None:
        self.query = query
        self.optional = [c for c in columns if c.optional]
        self.now = now
        self._links: dict[tuple[str, str], str] = {}

    def _narrow(self, name: str, value: str) -> str:
        link = self._links.get((name, value))
        if link is None:
            link = self._links[(name, value)] = self.query.narrowed(name, value)
        return link

    def row(self, entry: Entry) -> Row:
        item = entry.item
        leftover = entry.leftover
        key = leftover.key
        creator = item.get("created_by") or {}
        owner = owner_of(item)
        return Row(
            resource_type=key.resource_type,
            resource_id=key.resource_id,
            name=leftover.name if leftover.name != key.resource_id else None,
            cost=cost_text(leftover.hourly_cost),
            age=age_text(leftover.age_seconds(self.now)),
            created_at=str(item.get("created_at", "")),
            state=leftover.state,
            owner=owner,
            session=session_of(creator.get("arn")),
            source_ip=creator.get("source_ip"),
            account_id=key.account_id,
            region=key.region,
            detail=path_of("leftovers", key.account_id, key.region, key.resource_type)
            + path_of(key.resource_id),
            console=safe_href(leftover.console_url),
            narrow={
                "account": self._narrow("account_id", key.account_id),
                "region": self._narrow("region", key.region),
                "type": self._narrow("resource_type", key.resource_type),
                "owner": self._narrow("created_by", owner),
                "state": self._narrow("state", leftover.state),
            },
            extra=tuple((c.heading, str(c.value(entry) or "")) for c in self.optional),
        )
