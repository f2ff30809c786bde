"""The organization idle-scan benchmark's child: the service's first scan, then an idle one.

Prints one JSON object: the idle scan's wall time and CPU seconds, and the process's peak RSS.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import orjson

from emulator.history.generator import account_ids, parse_spec
from scanner.catalog import load_catalog
from scanner.logs import configure
from scanner.runner import freeze_start_up
from scanner.service import Service
from scanner.settings import AccountSelection, AccountTarget, ServiceSettings, Settings
from scanner.sources.aws import AwsClients
from scanner.store import Store

ROLE = "arn:aws:iam::{account}:role/LeftoversReader"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _scans(url: str, spec_text: str, rate: float, state: Path) -> dict[str, Any]:
    spec = parse_spec(spec_text)
    settings = Settings(
        accounts=AccountSelection(
            targets=tuple(AccountTarget(a, ROLE.format(account=a)) for a in account_ids(spec))
        ),
        regions=spec.regions,
        endpoint_url=url,
        rate=rate,
        service=ServiceSettings(state_path=str(state)),
    )
    configure("warning")
    store = await Store.open(state)
    clients = AwsClients()  # as `leftovers serve` keeps them
    service = Service(settings, store, load_catalog(), clients=clients)
    freeze_start_up()
    try:
        started = time.perf_counter()
        first = await service.scan_once()
        first_seconds = time.perf_counter() - started
        await anyio.sleep(1.1)  # past the first scan's end, as the schedule would be
        wall, cpu = time.perf_counter(), _cpu()
        idle = await service.scan_once()
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        open_clients = clients.clients_open
    finally:
        await clients.aclose()
        await store.close()
    assert first.result is not None
    assert idle.result is not None
    return {
        "streams": idle.work,
        "first_seconds": round(first_seconds, 1),
        "first_outcome": first.outcome,
        "first_calls": first.result.stats.api_calls,
        "idle_outcome": idle.outcome,
        "idle_calls": idle.result.stats.api_calls,
        "idle_failures": len(idle.result.failures),
        "idle_seconds": round(wall, 2),
        "idle_cpu_seconds": round(cpu, 2),
        "clients_open": open_clients,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str]) -> int:
    url, spec_text, rate, state = argv
    result = anyio.run(_scans, url, spec_text, float(rate), Path(state))
    sys.stdout.buffer.write(orjson.dumps(result) + b"\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
