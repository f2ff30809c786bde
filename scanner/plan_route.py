"""GET /plan: the reviewed cleanup plan of the last finished scan, as a shell script to download."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aiohttp import web

from scanner.catalog import Catalog, load_catalog
from scanner.cleanup_plan import plan_script
from scanner.snapshot import Snapshot


@cache
def _catalog() -> Catalog:
    return load_catalog()


def add_plan(app: web.Application, current: Callable[[], Snapshot | None]) -> None:
    """Serve GET /plan from the snapshot `current` gives (the service never runs the script)."""

    async def plan(request: web.Request) -> web.Response:
        snapshot = current()
        if snapshot is None:
            raise web.HTTPServiceUnavailable(text="the first scan has not finished yet\n")
        items = [entry.item for entry in snapshot.entries]
        script = plan_script(items, _catalog(), snapshot.generated_at)
        return web.Response(
            text=script,
            content_type="text/x-shellscript",
            headers={"Content-Disposition": 'attachment; filename="leftovers-plan.sh"'},
        )

    app.router.add_get("/plan", plan)


#: How /openapi.json describes GET /plan.
PLAN_PATH: dict[str, Any] = {
    "get": {
        "summary": "The reviewed cleanup plan: aws CLI deletes, never run by the service",
        "operationId": "getPlan",
        "responses": {
            "200": {"description": "a bash script", "content": {"text/x-shellscript": {}}},
            "503": {"description": "the first scan has not finished yet"},
        },
    }
}
