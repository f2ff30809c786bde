"""Fixtures for the HTTP tests (API and pages): a state file, and clients of the service's app
over a given snapshot (`client_for(snapshot, token=None, **context_fields)`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from scanner.metrics import build_registry
from scanner.snapshot import Snapshot
from scanner.store import Store
from scanner.web import Context, create_app
from tests.snapshots import NOW

Client = TestClient[Any, Any]
Factory = Callable[..., Any]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "state.db")
    yield store
    await store.close()


@pytest.fixture
async def client_for(store: Store) -> AsyncIterator[Factory]:
    """A factory of started clients (closed after the test), the clock standing at NOW and
    scans an hour apart; other `Context` fields as keywords."""
    clients: list[Client] = []

    async def make(
        snapshot: Snapshot | None = None, token: str | None = None, **extra: Any
    ) -> Client:
        holder = [snapshot]
        context = Context(
            current=lambda: holder[0],
            store=store,
            registry=build_registry(lambda: holder[0]),
            token=token,
            clock=lambda: NOW,
            interval_seconds=3600,
            **extra,
        )
        client: Client = TestClient(TestServer(create_app(context)))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
