"""The HTTP API against its own OpenAPI document: schemathesis generates requests from it
(seeded, a bounded number per operation) and checks every answer, 2xx for every valid query."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from snapshots import NOW, build

from scanner.metrics import build_registry
from scanner.openapi import openapi_document
from scanner.service import serve_http
from scanner.store import Store
from scanner.web import Context, create_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _serve(folder: Path, port: int, started: threading.Event, stop: asyncio.Event | None) -> None:
    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        holder["stop"] = (asyncio.get_running_loop(), stop)
        store = await Store.open(folder / "state.db")
        snapshot = build()
        context = Context(
            current=lambda: snapshot,
            store=store,
            registry=build_registry(lambda: snapshot),
            clock=lambda: NOW,
        )
        runner = await serve_http(create_app(context), "127.0.0.1", port)
        started.set()
        await stop.wait()
        await runner.cleanup()
        await store.close()

    asyncio.run(main())


holder: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    started = threading.Event()
    thread = threading.Thread(
        target=_serve, args=(tmp_path_factory.mktemp("api"), port, started, None), daemon=True
    )
    thread.start()
    assert started.wait(10)
    yield f"http://127.0.0.1:{port}"
    loop, stop = holder["stop"]
    loop.call_soon_threadsafe(stop.set)
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
def test_the_api_answers_as_its_document_says(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url)
