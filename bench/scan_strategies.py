"""Calls per region for each stream strategy, and scan time against the rate bound.

Run: .venv/bin/python bench/scan_strategies.py [SPEC]   (SPEC as `leftovers emulate --generate`)
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import anyio

from emulator import Emulator, generate, parse_spec
from emulator.history.generator import account_ids, ground_truth
from scanner.catalog import load_catalog
from scanner.logs import configure
from scanner.pages import MemorySink
from scanner.plan import window_for
from scanner.runner import scan_aws
from scanner.settings import (
    AccountSelection,
    AccountTarget,
    RetrySettings,
    Settings,
)
from scanner.settings_file import StreamStrategy

DEFAULT_SPEC = "accounts=2,regions=us-east-1,eu-west-1,ap-south-1,seed=5"


def settings_for(
    accounts: list[str],
    regions: tuple[str, ...],
    endpoint: str,
    stream_strategy: StreamStrategy,
    rate: float,
) -> Settings:
    targets = tuple(AccountTarget(a, f"arn:aws:iam::{a}:role/LeftoversReader") for a in accounts)
    base = Settings(
        accounts=AccountSelection(targets=targets),
        regions=regions,
        endpoint_url=endpoint,
        retry=RetrySettings(attempts=8, base_delay_seconds=0.05, max_delay_seconds=1.0),
    )
    return replace(base, stream_strategy=stream_strategy, rate=rate)


async def one_scan(emulator: Emulator, settings: Settings) -> tuple[float, object, Counter[str]]:
    catalog = load_catalog()
    sink = MemorySink()
    window = window_for(datetime.now(UTC), settings.lookback_days)
    before = emulator.stats.as_dict()["per_account_region"]
    started = time.monotonic()
    result = await scan_aws(settings, catalog, sink, window)
    elapsed = time.monotonic() - started
    after = emulator.stats.as_dict()["per_account_region"]
    calls = Counter({k: v["calls"] - before.get(k, {}).get("calls", 0) for k, v in after.items()})
    return elapsed, result, calls


async def main(spec_text: str) -> None:
    configure("warning")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIAEMULATOR00000000")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "emulator-secret-key")
    spec = parse_spec(spec_text)
    truth = ground_truth(spec)
    accounts = account_ids(spec)
    print(f"history: {spec.text()} -> {truth.stats}")

    # 1. Calls per region by strategy (no rate limit, no latency: calls are what we count).
    emulator = Emulator(records=generate(spec), rate=1e6, latency="off")
    async with emulator.running() as running:
        strategies: tuple[StreamStrategy, ...] = ("read_only", "event_names", "auto")
        for strategy in strategies:
            settings = settings_for(
                accounts, spec.regions, running.endpoint_url, stream_strategy=strategy, rate=1e5
            )
            elapsed, _result, calls = await one_scan(emulator, settings)
            per_region = sorted(calls.values())
            print(
                f"{strategy:12s} calls total {sum(per_region):5d}  per account-region "
                f"min {per_region[0]} median {per_region[len(per_region) // 2]} "
                f"max {per_region[-1]}  ({elapsed:.1f}s)"
            )

    # 2. Scan time against the rate bound, with AWS-like latency (time-scaled by 10).
    scale = float(os.environ.get("BENCH_TIME_SCALE", "10"))
    latency = os.environ.get("BENCH_LATENCY", "0.2:0.35,us-east-1=1.8:1.0")
    emulator = Emulator(records=generate(spec), rate=2.0, time_scale=scale, seed=1, latency=latency)
    async with emulator.running() as running:
        settings = settings_for(
            accounts, spec.regions, running.endpoint_url, stream_strategy="auto", rate=2.0 * scale
        )
        elapsed, _result, calls = await one_scan(emulator, settings)
        bound = max(calls.values()) / (2.0 * scale)
        throttled = emulator.stats.total("throttled")
        print(
            f"rate bound (busiest account-region: {max(calls.values())} calls at 2/s): "
            f"{bound * scale:.1f}s AWS time; scan took {elapsed * scale:.1f}s AWS time "
            f"({elapsed / bound:.2f}x the bound), throttled {throttled}"
        )


if __name__ == "__main__":
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SPEC)
