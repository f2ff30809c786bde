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
from scanner.snapshot import Entry, Snapshot
from scanner.store import Store, fact_to_dict
from scanner.ui import auth
from scanner.ui.chart import Chart, chart, series
from scanner.ui.listing import (
    PER_PAGE_CHOICES,
    Indexes,
    ListIndex,
    Paging,
    csv_lines,
    json_item,
    owner_of,
)
from scanner.ui.listpage import BadPage, ListQuery, Parse, Rows, list_query
from scanner.ui.overview import Overview, next_scan, overview
from scanner.ui.render import STATIC, cost_text, render, secure

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
    @property
    def delete_command(self) -> Callable[[Mapping[str, Any]], str | None]: ...


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


def _bad(error: Exception) -> web.Response:
    parameter = getattr(error, "parameter", "")
    message = getattr(error, "message", str(error))
    return render("error.html", status=400, message=f"{parameter}: {message}")


@dataclass(frozen=True, slots=True)
class ListView:
    """A list request resolved: its query, the snapshot's index, and the positions it shows."""

    snapshot: Snapshot
    query: ListQuery
    index: ListIndex
    positions: Sequence[int]
    now: datetime

    def entries(self, start: int = 0, stop: int | None = None) -> list[Entry]:
        every = self.snapshot.entries
        return [every[i] for i in self.positions[start:stop]]


def _list_view(request: web.Request) -> ListView | web.Response:
    """The view a list request asks for, or the page saying why there is none."""
    pages = request.app[PAGES]
    snapshot = pages.source.current()
    if snapshot is None:
        return _waiting()
    try:
        query = list_query(request, pages.parse, pages.filters)
    except (pages.bad, BadPage) as error:
        return _bad(error)
    now = pages.source.clock()
    index = pages.indexes.of(snapshot)
    return ListView(snapshot, query, index, index.view(query.only, query.sort, now), now)


async def list_page(request: web.Request) -> web.StreamResponse:
    """GET /leftovers: one page of the filtered, sorted list."""
    view = _list_view(request)
    if isinstance(view, web.Response):
        return view
    query, index = view.query, view.index
    paging = Paging(query.page, query.per_page, len(view.positions))
    builder = Rows(query, index.columns, view.now)
    return render(
        "leftovers.html",
        **_common(request.app[PAGES], view.snapshot, "leftovers"),
        query=query,
        columns=index.columns,
        rows=[builder.row(e) for e in view.entries(paging.first, paging.last)],
        paging=paging,
        filtered=bool(query.params),
        options=index.choices(),
        per_page_choices=PER_PAGE_CHOICES,
    )


async def list_json(request: web.Request) -> web.StreamResponse:
    """GET /leftovers.json: every leftover of the view, as `/results` items, in its order."""
    view = _list_view(request)
    if isinstance(view, web.Response):
        return view
    entries = view.entries()
    body = orjson.dumps(
        {
            "generated_at": f"{view.snapshot.generated_at:%Y-%m-%dT%H:%M:%SZ}",
            "count": len(entries),
            "leftovers": [json_item(e, view.now) for e in entries],
        }
    )
    response = web.Response(body=body, content_type="application/json")
    secure(response)
    return response


async def list_csv(request: web.Request) -> web.StreamResponse:
    """GET /leftovers.csv: the same view as a CSV download."""
    view = _list_view(request)
    if isinstance(view, web.Response):
        return view
    name = f"leftovers-{view.snapshot.scan_id}.csv"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        }
    )
    secure(response)
    await response.prepare(request)
    for chunk in csv_lines(view.entries(), view.index.columns, view.now):
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
        delete_command=pages.source.delete_command(entry.item) if entry else None,
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
