"""GET /plan: the last scan's cleanup plan, behind the same bearer token as /results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from scanner.metrics import build_registry
from scanner.snapshot import Snapshot
from scanner.store import Store
from scanner.web import Context, create_app
from tests.snapshots import NOW, build


async def serve(tmp_path: Path, snapshot: Snapshot | None) -> tuple[TestClient[Any, Any], Store]:
    store = await Store.open(tmp_path / "state.db")
    context = Context(
        current=lambda: snapshot,
        store=store,
        registry=build_registry(lambda: snapshot),
        token="a-token-of-sixteen+",
        clock=lambda: NOW,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(context)))
    await client.start_server()
    return client, store


async def test_plan_is_the_script_of_the_last_scan(tmp_path: Path) -> None:
    client, store = await serve(tmp_path, build())
    try:
        assert (await client.get("/plan")).status == 401
        auth = {"Authorization": "Bearer a-token-of-sixteen+"}
        response = await client.get("/plan", headers=auth)
        assert response.status == 200
        assert response.content_type == "text/x-shellscript"
        script = await response.text()
        assert script.startswith("#!/usr/bin/env bash\n")
        assert "ec2 delete-volume --volume-id vol-1" in script
        assert "vol-9" not in script  # deleted in CloudTrail
        nat = script.index("delete-nat-gateway --nat-gateway-id nat-1")
        assert "# ---- account 222222222222, region eu-west-1" in script[nat:]
    finally:
        await client.close()
        await store.close()


async def test_plan_before_the_first_scan_is_503(tmp_path: Path) -> None:
    client, store = await serve(tmp_path, None)
    try:
        headers = {"Authorization": "Bearer a-token-of-sixteen+"}
        assert (await client.get("/plan", headers=headers)).status == 503
    finally:
        await client.close()
        await store.close()
