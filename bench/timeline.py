"""`python -m bench.timeline TRACE [--rate R]`: where a traced scan's time goes, per account-region.

For each account-region: calls (and throttled), its own bound (calls / rate), when its first call
started and its last call ended (seconds after the scan started), the token budget left idle
(gaps between consecutive call starts beyond 1/rate), and the tail (the last call's latency).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson


def summarise(lines: list[dict[str, Any]], rate: float) -> list[dict[str, Any]]:
    """One row per account-region, latest finisher first."""
    origin = next(line["at"] for line in lines if line["kind"] == "scan_start")
    calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        if line["kind"] == "call":
            calls[f"{line['account'][-4:]}/{line['region']}"].append(line)
    rows = []
    for key, items in calls.items():
        items.sort(key=lambda c: c["start"])
        starts = [c["start"] - origin for c in items]
        ends = [c["end"] - origin for c in items]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        idle = sum(max(0.0, g - 1.0 / rate) for g in gaps)
        latencies = [c["end"] - c["start"] for c in items]
        last = max(range(len(items)), key=lambda i: ends[i])
        # mean calls in flight while the region was active
        span = max(ends) - min(starts)
        rows.append(
            {
                "region": key,
                "calls": len(items),
                "throttled": sum(1 for c in items if c["outcome"] == "throttled"),
                "bound": round(len(items) / rate, 2),
                "first": round(min(starts), 2),
                "last_start": round(max(starts), 2),
                "finish": round(max(ends), 2),
                "over": round(max(ends) - len(items) / rate, 2),
                "idle": round(idle, 2),
                "tail": round(latencies[last], 2),
                "lat_p50": round(statistics.median(latencies), 3),
                "lat_max": round(max(latencies), 2),
                "inflight": round(sum(latencies) / span, 2) if span else 0.0,
                "streams": len({c["stream"] for c in items}),
            }
        )
    rows.sort(key=lambda r: -r["finish"])
    return rows


def gaps_of(lines: list[dict[str, Any]], key: str, rate: float) -> list[tuple[float, float]]:
    """(at, idle seconds) of one account-region's gaps beyond 1/rate."""
    origin = next(line["at"] for line in lines if line["kind"] == "scan_start")
    starts = sorted(
        line["start"] - origin
        for line in lines
        if line["kind"] == "call" and f"{line['account'][-4:]}/{line['region']}" == key
    )
    return [
        (round(a, 2), round(b - a - 1.0 / rate, 2))
        for a, b in itertools.pairwise(starts)
        if b - a > 1.5 / rate
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.timeline", description=__doc__)
    parser.add_argument("trace", type=Path)
    parser.add_argument("--rate", type=float, default=4.0)
    parser.add_argument("--gaps", nargs="*", default=[], help="account-regions to detail")
    args = parser.parse_args(argv)
    lines = [orjson.loads(x) for x in args.trace.read_bytes().splitlines() if x]
    rows = summarise(lines, args.rate)
    columns = list(rows[0])
    print("  ".join(f"{c:>10}" for c in columns))
    for row in rows:
        print("  ".join(f"{row[c]!s:>10}" for c in columns))
    marks = {line["kind"]: line["at"] for line in lines if "at" in line}
    print(f"process start -> scan start: {marks['scan_start'] - marks['process_start']:.2f} s")
    print(f"scan: {marks['scan_end'] - marks['scan_start']:.2f} s")
    for key in args.gaps:
        print(key, gaps_of(lines, key, args.rate))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
