"""The HTTP benchmark's server child: the service's app over an existing state file."""

from __future__ import annotations

import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import anyio

from scanner.catalog import load_catalog
from scanner.logs import configure
from scanner.metrics import build_registry
from scanner.service import Service
from scanner.settings import ServiceSettings, Settings
from scanner.store import Store
from scanner.web import Context, create_app, serve_http


async def serve(state: Path, port: int) -> None:
    """Mark a finished scan (so a snapshot exists), build it, serve until SIGTERM."""
    configure("warning")
    store = await Store.open(state)
    settings = Settings(service=ServiceSettings(state_path=str(state)))
    service = Service(settings, store, load_catalog())
    if await store.last_finished_scan() is None:
        now = datetime.now(UTC).replace(microsecond=0)
        scan_id = await store.begin_scan(now)
        await store.finish_scan(scan_id, finished_at=now, outcome="ok", stats={}, errors=[])
    snapshot = await service.refresh()
    context = Context(
        current=service.snapshot, store=store, registry=build_registry(service.snapshot)
    )
    runner = await serve_http(create_app(context), "127.0.0.1", port)
    entries = len(snapshot.entries) if snapshot is not None else 0
    print(f"serving {runner.addresses[0][1]} leftovers {entries}", flush=True)
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            break
    await runner.cleanup()
    await store.close()


if __name__ == "__main__":
    anyio.run(serve, Path(sys.argv[1]), int(sys.argv[2]))
