"""The page handlers: overview, the list (HTML, JSON, CSV), one resource, login and logout."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
from aiohttp import web

from scanner.lifecycle import Change, Fact, ResourceKey
from scanner.report import ReportFilter
from scanner.snapshot import Entry, Snapshot
from scanner.store import Store, fact_to_dict
from scanner.ui import auth
from scanner.ui.chart import Chart, chart, series
from scanner.ui.listing import (
    BY_NAME,
    DEFAULT,
    PER_PAGE,
    PER_PAGE_CHOICES,
    Column,
    Indexes,
    Paging,
    Sort,
    csv_lines,
    json_item,
    owner_of,
    session_of,
)
from scanner.ui.overview import Overview, next_scan, overview
from scanner.ui.render import (
    STATIC,
    age_text,
    cost_text,
    path_of,
    render,
    safe_href,
    secure,
    with_query,
)

#: How far back the overview's chart reaches.
CHART_DAYS = 90
#: Renames followed back on a resource's timeline.
RENAME_HOPS = 5


class Source(Protocol):
    """What the pages read: the service's context (the snapshot, the store, the clock...)."""

    @property
    def current(self) -> Callable[[], Snapshot | None]: ...
    @property
    def store(self) -> Store: ...
    @property
    def token(self) -> str | None: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def interval_seconds(self) -> float | None: ...


#: Parses `/results`-style filter parameters (raising `bad` naming a bad one) into a query
#: with `.only`, the report filter.
Parse = Callable[[Mapping[str, str], Callable[[str], list[str]]], Any]


@dataclass(slots=True)
class Pages:
    """The pages' dependencies and what they keep per snapshot."""

    source: Source
    parse: Parse
    bad: type[Exception]
    filters: tuple[str, ...]
    indexes: Indexes = field(default_factory=Indexes)
    summary: tuple[Snapshot, Overview, tuple[Chart, ...]] | None = None


PAGES = web.AppKey("pages", Pages)


class BadPage(Exception):
    """A page's own parameter (sort, page, per_page) is invalid."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


def _waiting() -> web.Response:
    return render("waiting.html", status=503)


def _common(pages: Pages, snapshot: Snapshot | None, section: str) -> dict[str, Any]:
    return {
        "section": section,
        "snapshot": snapshot,
        "signed_in": bool(pages.source.token),
        "now": pages.source.clock(),
    }


# --- the overview -----------------------------------------------------------------------------


async def _summary(pages: Pages, snapshot: Snapshot) -> tuple[Overview, tuple[Chart, ...]]:
    held = pages.summary
    if held is not None and held[0] is snapshot:
        return held[1], held[2]
    rows = await pages.source.store.totals_since(snapshot.generated_at - timedelta(days=CHART_DAYS))
    times, counts = series(rows, lambda r: float(r.leftovers))
    _, costs = series(rows, lambda r: r.hourly_cost)
    charts = (
        chart("Leftovers per account", times, counts, lambda v: f"{v:,.0f}"),
        chart("Estimated USD/hour per account", times, costs, lambda v: cost_text(v) if v else "0"),
    )
    summary = overview(snapshot)
    pages.summary = (snapshot, summary, charts)
    return summary, charts


async def overview_page(request: web.Request) -> web.StreamResponse:
    """GET /: totals, breakdowns, scan health, the next scan and the charts."""
    pages = request.app[PAGES]
    snapshot = pages.source.current()
    if snapshot is None:
        return _waiting()
    summary, charts = await _summary(pages, snapshot)
    now = pages.source.clock()
    return render(
        "overview.html",
        **_common(pages, snapshot, "overview"),
        view=summary,
        charts=charts,
        next_scan=next_scan(summary.started_at, pages.source.interval_seconds, now),
    )


# --- the list ---------------------------------------------------------------------------------


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


def list_query(pages: Pages, request: web.Request) -> ListQuery:
    """The filter parameters (as `/results` takes them; empty form fields dropped), the sort
    and the page."""
    params = tuple(
        (name, value.strip())
        for name, value in request.query.items()
        if name in pages.filters and value.strip()
    )
    first = dict(reversed(params))

    def multi(name: str) -> list[str]:
        return [v for n, v in params if n == name]

    only = pages.parse(first, multi).only
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


def _bad(pages: Pages, error: Exception) -> web.Response:
    parameter = getattr(error, "parameter", "")
    message = getattr(error, "message", str(error))
    return render("error.html", status=400, message=f"{parameter}: {message}")


async def list_page(request: web.Request) -> web.StreamResponse:
    """GET /leftovers: one page of the filtered, sorted list."""
    pages = request.app[PAGES]
    snapshot = pages.source.current()
    if snapshot is None:
        return _waiting()
    try:
        query = list_query(pages, request)
    except (pages.bad, BadPage) as error:
        return _bad(pages, error)
    now = pages.source.clock()
    index = pages.indexes.of(snapshot)
    view = index.view(query.only, query.sort, now)
    paging = Paging(query.page, query.per_page, len(view))
    entries = snapshot.entries
    shown = [entries[i] for i in view[paging.first : paging.last]]
    builder = Rows(query, index.columns, now)
    return render(
        "leftovers.html",
        **_common(pages, snapshot, "leftovers"),
        query=query,
        columns=index.columns,
        rows=[builder.row(e) for e in shown],
        paging=paging,
        filtered=bool(query.params),
        options=index.choices(),
        per_page_choices=PER_PAGE_CHOICES,
    )


async def _view_entries(request: web.Request) -> tuple[Pages, Snapshot, list[Entry]] | web.Response:
    pages = request.app[PAGES]
    snapshot = pages.source.current()
    if snapshot is None:
        return _waiting()
    try:
        query = list_query(pages, request)
    except (pages.bad, BadPage) as error:
        return _bad(pages, error)
    index = pages.indexes.of(snapshot)
    entries = snapshot.entries
    view = index.view(query.only, query.sort, pages.source.clock())
    return pages, snapshot, [entries[i] for i in view]


async def list_json(request: web.Request) -> web.StreamResponse:
    """GET /leftovers.json: every leftover of the view, as `/results` items, in its order."""
    found = await _view_entries(request)
    if isinstance(found, web.Response):
        return found
    pages, snapshot, entries = found
    now = pages.source.clock()
    body = orjson.dumps(
        {
            "generated_at": f"{snapshot.generated_at:%Y-%m-%dT%H:%M:%SZ}",
            "count": len(entries),
            "leftovers": [json_item(e, now) for e in entries],
        }
    )
    response = web.Response(body=body, content_type="application/json")
    secure(response)
    return response


async def list_csv(request: web.Request) -> web.StreamResponse:
    """GET /leftovers.csv: the same view as a CSV download."""
    found = await _view_entries(request)
    if isinstance(found, web.Response):
        return found
    pages, snapshot, entries = found
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="leftovers-{snapshot.scan_id}.csv"',
        }
    )
    secure(response)
    await response.prepare(request)
    columns = pages.indexes.of(snapshot).columns
    for chunk in csv_lines(entries, columns, pages.source.clock()):
        await response.write(chunk.encode())
    await response.write_eof()
    return response


# --- one resource -------------------------------------------------------------------------------


def _entry_of(snapshot: Snapshot, key: ResourceKey) -> Entry | None:
    wanted = (key.account_id, key.region, key.resource_type, key.resource_id)
    entries = snapshot.entries
    at = bisect_left(entries, wanted, key=lambda e: e.sort_key)
    return entries[at] if at < len(entries) and entries[at].key == key else None


def _change_text(fact: Fact) -> str:
    if fact.change is Change.CREATE:
        return "renamed from " + fact.renamed_from.resource_id if fact.renamed_from else "created"
    if fact.change is Change.DELETE:
        return "deleted"
    return f"state: {fact.state}" if fact.state else "state changed"


async def _timeline(pages: Pages, snapshot: Snapshot, key: ResourceKey) -> list[dict[str, Any]]:
    """The resource's facts, and those of the names it was renamed from, oldest first."""
    facts: list[Fact] = []
    seen = {key}
    todo: ResourceKey | None = key
    for _ in range(RENAME_HOPS):
        if todo is None:
            break
        found = await pages.source.store.facts(todo)
        facts += found
        todo = next((f.renamed_from for f in found if f.renamed_from not in (None, *seen)), None)
        if todo is not None:
            seen.add(todo)
    kept = sorted((f for f in facts if f.time <= snapshot.window_end), key=lambda f: f.order)
    return [
        {
            "fact": fact,
            "change": _change_text(fact),
            "raw": orjson.dumps(fact_to_dict(fact), option=orjson.OPT_INDENT_2).decode(),
        }
        for fact in kept
    ]


async def resource_page(request: web.Request) -> web.StreamResponse:
    """GET /leftovers/{account_id}/{region}/{resource_type}/{resource_id}: one resource."""
    pages = request.app[PAGES]
    snapshot = pages.source.current()
    if snapshot is None:
        return _waiting()
    info = request.match_info
    key = ResourceKey(
        info["account_id"], info["region"], info["resource_type"], info["resource_id"]
    )
    if key not in snapshot.lifecycles:
        return render(
            "error.html", status=404, message="No such resource in the last finished scan."
        )
    entry = _entry_of(snapshot, key)
    now = pages.source.clock()
    return render(
        "resource.html",
        **_common(pages, snapshot, "leftovers"),
        key=key,
        service=snapshot.services.get(key.resource_type),
        entry=entry,
        item=entry.item if entry else None,
        owner=owner_of(entry.item) if entry else None,
        age=entry.leftover.age_seconds(now) if entry else None,
        timeline=await _timeline(pages, snapshot, key),
    )


# --- login and logout ---------------------------------------------------------------------------


async def login_form(request: web.Request) -> web.StreamResponse:
    """GET /login: the form (the pages' 401 shows it too)."""
    return auth.login_page(200, request.query.get("next"))


async def login(request: web.Request) -> web.StreamResponse:
    """POST /login."""
    return await auth.login(request, request.app[PAGES].source.token)


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /logout."""
    return await auth.logout(request)


async def favicon(request: web.Request) -> web.StreamResponse:
    """GET /favicon.ico: what browsers ask for on pages without an icon (the JSON view)."""
    del request
    return web.FileResponse(STATIC / "favicon.svg", headers={"Content-Type": "image/svg+xml"})
