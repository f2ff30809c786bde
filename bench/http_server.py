"""The HTTP benchmark's server child: the service's app over an existing state file; with an
emulator URL and a history spec, it also scans the emulator again and again (a few new events
each time), as the service does on its schedule, while the load runs."""

from __future__ import annotations

import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import anyio
import anyio.to_thread
import orjson

from bench.harness import post_json
from bench.incremental import new_records
from emulator import parse_spec
from scanner.catalog import load_catalog
from scanner.logs import configure
from scanner.metrics import build_registry
from scanner.runner import freeze_start_up
from scanner.service import Service
from scanner.settings import ServiceSettings, Settings
from scanner.sources.aws import AwsClients
from scanner.store import Store
from scanner.web import Context, create_app, serve_http

#: New events the emulator gets before each scan.
NEW_EVENTS = 200


def add_events(url: str, spec: str) -> None:
    """Post `NEW_EVENTS` generated events of the last minutes to the emulator."""
    records = new_records(spec, NEW_EVENTS, datetime.now(UTC))
    post_json(url + "/_emulator/records", b"\n".join(orjson.dumps(r) for r in records))


async def scan_forever(service: Service, url: str, spec: str) -> None:
    """Add events to the emulator, scan, and again; print each scan's duration."""
    round_ = 0
    while True:
        round_ += 1
        await anyio.to_thread.run_sync(add_events, url, spec)  # CPU work: off the loop
        began = time.perf_counter()
        summary = await service.scan_once()
        seconds = time.perf_counter() - began
        print(f"scanned {round_} {seconds:.3f} {summary.outcome}", flush=True)
        await anyio.sleep(0.2)


async def serve(state: Path, port: int, emulator: str | None, spec: str | None) -> None:
    """Mark a finished scan (so a snapshot exists), build it, serve until SIGTERM."""
    configure("warning")
    catalog = load_catalog()
    freeze_start_up()  # as `leftovers serve` does
    store = await Store.open(state)
    settings = Settings(service=ServiceSettings(state_path=str(state)))
    if emulator is not None and spec is not None:
        settings = Settings(
            regions=parse_spec(spec).regions,
            endpoint_url=emulator,
            rate=100.0,
            service=ServiceSettings(state_path=str(state)),
        )
    clients = AwsClients()  # as `leftovers serve` keeps them
    service = Service(settings, store, catalog, clients=clients)
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
    async with anyio.create_task_group() as group:
        if emulator is not None and spec is not None:
            group.start_soon(scan_forever, service, emulator, spec)
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                break
        group.cancel_scope.cancel()
    await runner.cleanup()
    await clients.aclose()
    await store.close()


if __name__ == "__main__":
    extra = sys.argv[3:5] if len(sys.argv) >= 5 else [None, None]
    anyio.run(serve, Path(sys.argv[1]), int(sys.argv[2]), extra[0], extra[1])
