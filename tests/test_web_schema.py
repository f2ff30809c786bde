"""The HTTP API against its own OpenAPI document: schemathesis generates requests from it
(seeded, a bounded number per operation) and checks every answer, 2xx for every valid query."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings

from scanner.metrics import build_registry
from scanner.openapi import openapi_document
from scanner.store import Store
from scanner.web import Context, create_app
from tests.snapshots import NOW, build


class Server:
    """The app over a hand-built snapshot, served on loopback from a thread of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started = threading.Event()
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop: asyncio.Event | None = None

    async def main(self) -> None:
        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        store = await Store.open(self.folder / "state.db")
        snapshot = build()
        context = Context(
            current=lambda: snapshot,
            store=store,
            registry=build_registry(lambda: snapshot),
            clock=lambda: NOW,
        )
        runner = web.AppRunner(create_app(context), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self.started.set()
        await self.stop.wait()
        await runner.cleanup()
        await store.close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Server(tmp_path_factory.mktemp("api"))
    thread = threading.Thread(target=asyncio.run, args=(server.main(),), daemon=True)
    thread.start()
    assert server.started.wait(10)
    yield f"http://127.0.0.1:{server.port}"
    assert server.loop is not None
    assert server.stop is not None
    server.loop.call_soon_threadsafe(server.stop.set)
    thread.join(10)


#: What `/openapi.json` serves (bearer=False: the server below takes no token).
schema = schemathesis.openapi.from_dict(openapi_document(bearer=False))
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    deterministic=True,
)


@schema.parametrize()
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case: schemathesis.Case[Any], base_url: str) -> None:
    case.call_and_validate(base_url=base_url)
