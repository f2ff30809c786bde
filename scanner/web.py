"""The HTTP API (aiohttp.web): results, one resource, metrics, health, readiness, OpenAPI.

Handlers read only the last finished snapshot (and, for one resource's events, the store).
Every endpoint but `/healthz` and `/readyz` takes an optional bearer token. Bad requests get
a 400 with `{"error": {"parameter": ..., "message": ...}}`; no credentials or raw records leave.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from scanner.bookkeeping import Readiness, WallClock
from scanner.lifecycle import Fact, Lifecycle, ResourceKey
from scanner.openapi import openapi_document
from scanner.plan_route import add_plan
from scanner.query import (
    FILTERS,
    BadParameter,
    Sort,
    ordered,
    packaged_types,
    parse_query,
    select,
)
from scanner.report import unread_json
from scanner.snapshot import Entry, Snapshot
from scanner.store import Store, fact_to_dict
from scanner.ui import add_pages, is_page, is_public_page, page_denial

_PUBLIC = frozenset({"/healthz", "/readyz"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Context:
    """What the handlers need: the current snapshot, the store, the registry, the token, and
    the service's readiness."""

    current: Callable[[], Snapshot | None]
    store: Store
    registry: CollectorRegistry
    token: str | None = None
    clock: WallClock = lambda: datetime.now(UTC)
    interval_seconds: float | None = None
    exposition: tuple[Snapshot | None, bytes] | None = None
    readiness: Callable[[], Readiness] = Readiness
    #: The aws CLI command that would delete a leftover (its JSON item), for its page.
    delete_command: Callable[[Mapping[str, Any]], str | None] = lambda _item: None
    #: The catalog's resource types, which `resource_type` may name.
    resource_types: tuple[str, ...] = field(default_factory=packaged_types)
    #: The last snapshot's entries in each sort order asked for.
    orders: dict[Sort | None, tuple[Snapshot, list[Entry]]] = field(default_factory=dict)

    def in_order(self, snapshot: Snapshot, sort: Sort | None) -> list[Entry]:
        """The snapshot's entries in a sort order, sorted once per snapshot and order."""
        cached = self.orders.get(sort)
        if cached is None or cached[0] is not snapshot:
            cached = (snapshot, ordered(snapshot.entries, sort))
            self.orders[sort] = cached
        return cached[1]


CONTEXT = web.AppKey("context", Context)


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(status: int, message: str, parameter: str | None = None) -> web.Response:
    error: dict[str, str] = {"message": message}
    if parameter is not None:
        error["parameter"] = parameter
    return _json({"error": error}, status)


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer token check, JSON errors for 4xx raised by aiohttp (404, 405 with its Allow)."""
    context = request.app[CONTEXT]
    if is_page(request.path):  # the pages: Basic or a session cookie (a browser's means)
        denied = None if is_public_page(request.path) else page_denial(request, context.token)
        if denied is not None:
            return denied
    elif context.token and request.path not in _PUBLIC:
        given = request.headers.get("Authorization", "")
        scheme, _, credential = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credential.strip().encode(), context.token.encode()
        ):
            response = _error(401, "a valid bearer token is required")
            response.headers["WWW-Authenticate"] = 'Bearer realm="leftovers"'
            return response
    try:
        return await handler(request)
    except BadParameter as bad:
        return _error(400, bad.message, bad.parameter)
    except web.HTTPException as http:
        if http.status >= 400:
            response = _error(http.status, http.reason)
            if "Allow" in http.headers:  # a 405 says which methods the path takes
                response.headers["Allow"] = http.headers["Allow"]
            return response
        raise


# --- /results ------------------------------------------------------------------------------


def _age(entry: Entry, now: datetime) -> int:
    return max(0, int((now - entry.created_at).total_seconds()))


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def results(request: web.Request) -> web.Response:
    """GET /results: the JSON report of the last finished scan, filtered and paged."""
    context = request.app[CONTEXT]
    query = parse_query(request.query, _getall(request), context.resource_types)
    snapshot = context.current()
    if snapshot is None:
        return _error(503, "the first scan has not finished yet")
    now = context.clock()
    page, next_cursor = select(context.in_order(snapshot, query.sort), query, now)
    return _json(
        {
            "generated_at": _stamp(snapshot.generated_at),
            "window": {"start": _stamp(snapshot.window_start), "end": _stamp(snapshot.window_end)},
            "leftovers": [dict(e.item, age_seconds=_age(e, now)) for e in page],
            "incomplete": [
                dict(e.item, age_seconds=_age(e, now))
                for e in snapshot.incomplete
                if query.after is None and query.only.keeps(e.leftover, now)
            ],
            "incomplete_regions": unread_json(snapshot.unread),
            "ignored": [
                dict(e.item, age_seconds=_age(e, now))
                for e in snapshot.ignored
                if query.after is None and query.only.keeps(e.leftover, now)
            ],
            "errors": list(snapshot.errors),
            "stats": dict(snapshot.stats),
            **({} if snapshot.verified_gone is None else {"verified_gone": snapshot.verified_gone}),
            "next_cursor": next_cursor,
        }
    )


def _getall(request: web.Request) -> Callable[[str], list[str]]:
    def getall(name: str) -> list[str]:
        return list(request.query.getall(name, []))

    return getall


# --- /resources/... --------------------------------------------------------------------------


def _public_fact(fact: Fact) -> dict[str, Any]:
    data = fact_to_dict(fact)
    data.pop("key")
    data["time"] = _stamp(fact.time)
    return data


def _public_lifecycle(lifecycle: Lifecycle) -> dict[str, Any]:
    return {
        part: _public_fact(fact) if fact else None
        for part, fact in (
            ("created", lifecycle.created),
            ("deleted", lifecycle.deleted),
            ("state_change", lifecycle.state_change),
        )
    }


async def resource(request: web.Request) -> web.Response:
    """GET /resources/{account_id}/{region}/{resource_type}/{resource_id}."""
    context = request.app[CONTEXT]
    snapshot = context.current()
    if snapshot is None:
        return _error(503, "the first scan has not finished yet")
    info = request.match_info
    key = ResourceKey(
        info["account_id"], info["region"], info["resource_type"], info["resource_id"]
    )
    lifecycle = snapshot.lifecycles.get(key)
    if lifecycle is None:
        return _error(404, "no such resource in the last finished scan")
    entry = next((e for e in snapshot.entries if e.key == key), None)
    now = context.clock()
    facts = [f for f in await context.store.facts(key) if f.time <= snapshot.window_end]
    return _json(
        {
            "account_id": key.account_id,
            "region": key.region,
            "resource_type": key.resource_type,
            "resource_id": key.resource_id,
            "service": snapshot.services.get(key.resource_type),
            "leftover": dict(entry.item, age_seconds=_age(entry, now)) if entry else None,
            "lifecycle": _public_lifecycle(lifecycle),
            "events": [_public_fact(f) for f in facts],
        }
    )


# --- metrics, health, readiness, OpenAPI -------------------------------------------------------


async def metrics(request: web.Request) -> web.Response:
    """GET /metrics: the Prometheus text exposition of our own registry."""
    context = request.app[CONTEXT]
    snapshot = context.current()
    cached = context.exposition
    if cached is not None and cached[0] is snapshot:
        body = cached[1]  # the registry reads only the snapshot, which never changes in place
    else:
        body = generate_latest(context.registry)
        context.exposition = (snapshot, body)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: the process answers."""
    del request
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """GET /readyz: the first scan has finished, the last one's store writes went through and it
    read some region. Only in-memory facts: a probe never waits for the store."""
    context = request.app[CONTEXT]
    snapshot = context.current()
    scanned = snapshot is not None
    readiness = context.readiness()
    ready = scanned and readiness.store_writable and not readiness.all_regions_failed
    body: dict[str, Any] = {
        "ready": ready,
        "first_scan_finished": scanned,
        "store_writable": readiness.store_writable,
        "all_regions_failed": readiness.all_regions_failed,
    }
    if snapshot is not None:
        body["last_scan"] = {
            "id": snapshot.scan_id,
            "outcome": snapshot.outcome,
            "finished_at": _stamp(snapshot.generated_at),
        }
    return _json(body, 200 if ready else 503)


async def openapi(request: web.Request) -> web.Response:
    """GET /openapi.json: this API, described."""
    context = request.app[CONTEXT]
    return _json(openapi_document(context.token is not None, context.resource_types))


def create_app(context: Context) -> web.Application:
    """The aiohttp application over a context."""
    app = web.Application(middlewares=[_guard])
    app[CONTEXT] = context
    app.router.add_get("/results", results)
    app.router.add_get(
        "/resources/{account_id}/{region}/{resource_type}/{resource_id:.+}", resource
    )
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/openapi.json", openapi)
    add_pages(app, context, parse_query, BadParameter, FILTERS)
    add_plan(app, context.current)
    return app


async def serve_http(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start the HTTP server; the caller cleans the runner up."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner
