"""The HTTP benchmark's load generator (its own process): N requests, C at a time (and for at
least S seconds, when given); latencies."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time

import aiohttp
import orjson


async def load(url: str, requests: int, concurrency: int, seconds: float = 0) -> dict[str, float]:
    """Send `requests` GETs (or more, for at least `seconds`) over `concurrency` connections;
    p50/p99/max in ms (whole answer, and time to first byte: the status line and headers),
    throughput."""
    latencies: list[float] = []
    firsts: list[float] = []
    errors = 0
    until = time.perf_counter() + seconds
    queue = itertools.takewhile(
        lambda n: n < requests or time.perf_counter() < until, itertools.count()
    )
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
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    result = asyncio.run(load(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), seconds))
    sys.stdout.buffer.write(orjson.dumps(result))
