"""The HTTP benchmark's load generator (its own process): N requests, C at a time; latencies."""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp
import orjson


async def load(url: str, requests: int, concurrency: int) -> dict[str, float]:
    """Send `requests` GETs over `concurrency` connections; p50/p99/max in ms (whole answer, and
    time to first byte: the status line and headers), throughput."""
    latencies: list[float] = []
    firsts: list[float] = []
    errors = 0
    queue = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            for _ in queue:
                began = time.perf_counter()
                async with session.get(url) as answer:
                    firsts.append(time.perf_counter() - began)
                    await answer.read()
                    if answer.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - began)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    first_bytes = sorted(firsts)

    def at(share: float, values: list[float] = ordered) -> float:
        return round(values[min(len(values) - 1, int(len(values) * share))] * 1000, 2)

    return {
        "requests": len(ordered),
        "concurrency": concurrency,
        "errors": errors,
        "p50_ms": at(0.50),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "ttfb_p50_ms": at(0.50, first_bytes),
        "ttfb_p99_ms": at(0.99, first_bytes),
        "requests_per_second": round(len(ordered) / elapsed, 1),
    }


if __name__ == "__main__":
    result = asyncio.run(load(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    sys.stdout.buffer.write(orjson.dumps(result))
