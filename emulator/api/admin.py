"""Admin endpoints: append records, switch faults and read counters while the emulator runs."""

from __future__ import annotations

import orjson
from aiohttp import web

from emulator.api.state import state_of


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def stats(request: web.Request) -> web.Response:
    """GET /_emulator/stats: calls per account-region, and what the history holds."""
    emulator = state_of(request)
    counts = emulator.history.counts()
    body = emulator.stats.as_dict()
    body["history"] = {
        "events": len(emulator.history),
        "default_account": emulator.default_account,
        "per_account_region": {f"{a}/{r}": n for (a, r), n in sorted(counts.items())},
    }
    return web.json_response(body)


async def add_records(request: web.Request) -> web.Response:
    """POST /_emulator/records: a JSON body in any record format (or JSONL) is appended."""
    raw = await request.read()
    try:
        documents: list[object] = [orjson.loads(raw)]
    except orjson.JSONDecodeError:
        try:
            documents = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
        except orjson.JSONDecodeError as error:
            return _bad(f"body is neither JSON nor JSON lines: {error}")
    loaded = state_of(request).add_records(documents)
    return web.json_response(loaded.as_dict())


async def get_faults(request: web.Request) -> web.Response:
    """GET /_emulator/faults: the rules in force."""
    rules = state_of(request).faults.rules
    return web.json_response({"faults": ",".join(str(rule) for rule in rules)})


async def set_faults(request: web.Request) -> web.Response:
    """POST /_emulator/faults: `{"faults": "SPEC"}` or the spec as plain text; empty clears."""
    raw = (await request.read()).decode("utf-8", "replace").strip()
    spec = raw
    if raw.startswith("{"):
        try:
            spec = str(orjson.loads(raw).get("faults") or "")
        except (orjson.JSONDecodeError, AttributeError):
            return _bad('body must be {"faults": "SPEC"} or the spec as text')
    try:
        state_of(request).set_faults(spec)
    except ValueError as error:
        return _bad(str(error))
    return await get_faults(request)
