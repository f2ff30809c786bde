"""The HTTP API (aiohttp.web): results, one resource, metrics, health, readiness, OpenAPI.

Handlers read only the last finished snapshot (and, for one resource's events, the store).
Every endpoint but `/healthz` and `/readyz` takes an optional bearer token. Bad requests get
a 400 with `{"error": {"parameter": ..., "message": ...}}`; no credentials or raw records leave.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from bisect import bisect_right
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from scanner.lifecycle import Fact, Lifecycle, ResourceKey
from scanner.openapi import openapi_document
from scanner.report import ReportFilter
from scanner.service import WallClock
from scanner.snapshot import Entry, Snapshot
from scanner.store import Store, fact_to_dict
from scanner.ui import add_pages, is_page, is_public_page, page_denial

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
FILTERS = ("account_id", "region", "service", "resource_type", "state", "created_by", "min_age")
_PUBLIC = frozenset({"/healthz", "/readyz"})
_DURATION = re.compile(r"^(\d+)([smhdw]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Context:
    """What the handlers need: the current snapshot, the store, the registry, the token."""

    current: Callable[[], Snapshot | None]
    store: Store
    registry: CollectorRegistry
    token: str | None = None
    clock: WallClock = lambda: datetime.now(UTC)
    interval_seconds: float | None = None
    exposition: tuple[Snapshot | None, bytes] | None = None


CONTEXT = web.AppKey("context", Context)


class BadParameter(Exception):
    """A query parameter is invalid; becomes a 400 naming it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


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


@dataclass(frozen=True, slots=True)
class Query:
    """The parsed query of `/results`."""

    only: ReportFilter
    limit: int
    after: tuple[str, str, str, str] | None


def parse_duration(parameter: str, text: str) -> int:
    """Seconds from `90`, `90s`, `15m`, `24h`, `7d` or `2w`."""
    match = _DURATION.match(text.strip())
    if not match:
        raise BadParameter(parameter, f"{text!r} is not a duration like 3600, 90m, 24h or 7d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def encode_cursor(sort_key: tuple[str, str, str, str]) -> str:
    """An opaque cursor pointing after `sort_key`."""
    return base64.urlsafe_b64encode(orjson.dumps({"after": list(sort_key)})).decode().rstrip("=")


def _decode_cursor(text: str) -> tuple[str, str, str, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        after = data["after"]
        if not (isinstance(after, list) and len(after) == 4):
            raise TypeError("bad shape")
        return (str(after[0]), str(after[1]), str(after[2]), str(after[3]))
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise BadParameter("cursor", "not a cursor returned by this API") from None


def parse_query(params: Mapping[str, str], multi: Callable[[str], list[str]]) -> Query:
    """Validate `/results` query parameters; unknown ones are an error too."""
    for name in params:
        if name not in (*FILTERS, "limit", "cursor"):
            raise BadParameter(name, "unknown parameter")
    values: dict[str, list[str]] = {}
    for name in ("account_id", "region", "service", "resource_type", "state", "created_by"):
        found = [v.strip() for raw in multi(name) for v in raw.split(",") if v.strip()]
        if name in params and not found:
            raise BadParameter(name, "must not be empty")
        values[name] = found
    min_age = params.get("min_age")
    limit_text = params.get("limit")
    limit = DEFAULT_LIMIT
    if limit_text is not None:
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
            raise BadParameter("limit", f"must be an integer from 1 to {MAX_LIMIT}")
        limit = int(limit_text)
    cursor = params.get("cursor")
    only = ReportFilter.of(
        accounts=values["account_id"],
        regions=values["region"],
        services=values["service"],
        types=values["resource_type"],
        states=values["state"],
        created_by=values["created_by"],
        min_age_seconds=parse_duration("min_age", min_age) if min_age is not None else 0,
    )
    return Query(
        only=only,
        limit=limit,
        after=_decode_cursor(cursor) if cursor is not None else None,
    )


def _age(entry: Entry, now: datetime) -> int:
    return max(0, int((now - entry.created_at).total_seconds()))


def select(snapshot: Snapshot, query: Query, now: datetime) -> tuple[list[Entry], str | None]:
    """The page of entries the query asks for, and the cursor of the next page (None: last)."""
    entries = snapshot.entries  # sorted by sort_key: start after the cursor, stop at a page
    start = 0 if query.after is None else bisect_right(entries, query.after, key=_sort_key)
    matching = (e for e in islice(entries, start, None) if query.only.keeps(e.leftover, now))
    page = list(islice(matching, query.limit + 1))
    more = len(page) > query.limit
    page = page[: query.limit]
    return page, encode_cursor(page[-1].sort_key) if more and page else None


def _sort_key(entry: Entry) -> tuple[str, str, str, str]:
    return entry.sort_key


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def results(request: web.Request) -> web.Response:
    """GET /results: the JSON report of the last finished scan, filtered and paged."""
    context = request.app[CONTEXT]
    query = parse_query(request.query, _getall(request))
    snapshot = context.current()
    if snapshot is None:
        return _error(503, "the first scan has not finished yet")
    now = context.clock()
    page, next_cursor = select(snapshot, query, now)
    return _json(
        {
            "generated_at": _stamp(snapshot.generated_at),
            "window": {"start": _stamp(snapshot.window_start), "end": _stamp(snapshot.window_end)},
            "leftovers": [dict(e.item, age_seconds=_age(e, now)) for e in page],
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
    """GET /readyz: the first scan has finished and the store takes writes."""
    context = request.app[CONTEXT]
    snapshot = context.current()
    scanned = snapshot is not None
    writable = await context.store.writable()
    body: dict[str, Any] = {
        "ready": scanned and writable,
        "first_scan_finished": scanned,
        "store_writable": writable,
    }
    if snapshot is not None:
        body["last_scan"] = {
            "id": snapshot.scan_id,
            "outcome": snapshot.outcome,
            "finished_at": _stamp(snapshot.generated_at),
        }
    return _json(body, 200 if scanned and writable else 503)


async def openapi(request: web.Request) -> web.Response:
    """GET /openapi.json: this API, described."""
    return _json(openapi_document(bearer=request.app[CONTEXT].token is not None))


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
    return app


async def serve_http(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start the HTTP server; the caller cleans the runner up."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner
