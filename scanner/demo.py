"""`make demo`: the service against the emulator serving a generated history, until Ctrl-C.

Generates a seeded demo history (3 accounts x 2 regions, 90 days), serves it from the emulator
(time-scaled, so the first 90-day scan takes seconds), runs `leftovers serve` against it in the
same process with its state in a temporary folder, waits for the first scan, prints a summary of
the leftovers and the URLs to open, and serves until Ctrl-C.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import anyio

from emulator import Emulator, GeneratorSpec, generate
from scanner import logs
from scanner.commands.serve import serve
from scanner.settings import Settings, load_settings

SPEC = GeneratorSpec(accounts=3, seed=7)
TIME_SCALE = 25.0
PREFERRED_PORT = 9100


def _port() -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", PREFERRED_PORT))
        except OSError:
            probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_settings(endpoint_url: str, state: Path, port: int) -> Settings:
    """The service's settings for the demo: every account of the emulated Organization."""
    return load_settings(
        None,
        env={},
        flags={
            "accounts": {"organization": {"role_name": "OrganizationAccountAccessRole"}},
            "regions": list(SPEC.regions),
            "endpoint_url": endpoint_url,
            "rate": 2.0 * TIME_SCALE,
            "service.listen": f"127.0.0.1:{port}",
            "service.state_path": str(state),
            "service.interval_seconds": 60,
            "log_level": "warning",
        },
    )


def _cost_text(known: float, count: int, unpriced: int) -> str:
    """The known cost, `?` when no price is known, and how many have none."""
    if unpriced == count:
        return f"{'?':>9}"
    note = f"  ({unpriced} without a known price)" if unpriced else ""
    return f"{known:>9.3f}{note}"


def summary(results: dict[str, Any], base: str) -> str:
    """The leftovers per type with their estimated cost, and the URLs to open."""
    items = results["leftovers"]
    counts = Counter(item["resource_type"] for item in items)
    unpriced = Counter(
        item["resource_type"] for item in items if item.get("estimated_hourly_cost") is None
    )
    costs: dict[str, float] = dict.fromkeys(counts, 0.0)
    width = max([len("resource type"), *map(len, counts)])
    for item in items:
        costs[item["resource_type"]] += float(item.get("estimated_hourly_cost") or 0.0)
    lines = [
        f"{len(items)} leftovers in {len({i['account_id'] for i in items})} accounts "
        f"(first scan: {results['stats'].get('api_calls', 0)} LookupEvents calls, "
        f"{results['stats'].get('duration_seconds', 0):.1f} s)",
        "",
        f"  {'resource type':<{width}} {'count':>5} {'USD/hour':>9}",
    ]
    for resource_type, count in sorted(counts.items()):
        cost = _cost_text(costs[resource_type], count, unpriced[resource_type])
        lines.append(f"  {resource_type:<{width}} {count:>5} {cost}")
    total = sum(costs.values())
    lines += [
        f"  {'total':<{width}} {len(items):>5} {total:>9.3f}",
        f"  About {total * 730:,.0f} USD/month where a price is known (? = no known price).",
        "",
        "Open:",
        f"  {base}/              the overview page",
        f"  {base}/leftovers     the list, sorted and filtered",
        f"  {base}/results       the JSON report (filters as /leftovers)",
        f"  {base}/metrics       Prometheus metrics",
        f"  {base}/openapi.json  the API",
        "",
        "Ctrl-C stops.",
    ]
    return "\n".join(lines)


async def _announce(base: str) -> None:
    async with aiohttp.ClientSession() as client:
        while True:
            try:
                async with client.get(f"{base}/readyz") as answer:
                    if answer.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await anyio.sleep(0.2)
        async with client.get(f"{base}/results", params={"limit": "5000"}) as answer:
            results = await answer.json()
    print(summary(results, base), flush=True)


async def main() -> None:
    """Emulator + service + summary, until Ctrl-C."""
    port = _port()
    print(f"Open http://127.0.0.1:{port}/ (the pages show the leftovers once the first scan ends)")
    print(f"Generating a demo history ({SPEC.text()})...", flush=True)
    emulator = Emulator(records=generate(SPEC), time_scale=TIME_SCALE, seed=SPEC.seed)
    with tempfile.TemporaryDirectory(prefix="leftovers-demo-") as folder:
        await _run(emulator, Path(folder) / "state.db", port)


async def _run(emulator: Emulator, state: Path, port: int) -> None:
    async with emulator.running("127.0.0.1", 0) as running:
        os.environ.update(running.env("us-east-1"))
        os.environ.pop("AWS_ENDPOINT_URL", None)
        settings = demo_settings(running.endpoint_url, state, port)
        print(
            f"Emulator on {running.endpoint_url} ({len(emulator.history)} events); "
            f"state in {state}; first scan of 90 days...",
            flush=True,
        )
        async with anyio.create_task_group() as group:
            group.start_soon(_announce, f"http://127.0.0.1:{port}")
            await serve(settings)
            group.cancel_scope.cancel()


if __name__ == "__main__":
    logs.configure("warning", stream=sys.stderr)
    anyio.run(main)
