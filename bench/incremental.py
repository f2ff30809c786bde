"""The service's incremental scan: calls per stream with nothing new, and with 1,000 new events."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import orjson

from bench.harness import (
    EMULATOR_KEYS,
    REGIONS_8,
    Figure,
    Outcome,
    calls_per_region,
    emulator_process,
    get_json,
    post_json,
)
from bench.scan import RATE, pinned
from emulator import generate, parse_spec
from emulator.history.generator import account_ids
from scanner.catalog import load_catalog
from scanner.logs import configure
from scanner.records import format_time
from scanner.service import Service
from scanner.settings import AccountSelection, AccountTarget, ServiceSettings, Settings
from scanner.store import Store

ROLE = "arn:aws:iam::{account}:role/LeftoversReader"


@dataclass(frozen=True, slots=True)
class IncrementalConfig:
    """The history the first scan reads, the pace, and how many events arrive after it."""

    spec: str
    time_scale: float
    new_events: int


FULL = IncrementalConfig(
    "accounts=3,regions=" + ",".join(REGIONS_8) + ",seed=21,resources=40,noise=2", 1.0, 1000
)
SMOKE = IncrementalConfig("accounts=1,regions=eu-west-1,seed=21,resources=5,noise=2", 20.0, 50)


def new_records(spec_text: str, count: int, now: datetime) -> list[dict[str, Any]]:
    """`count` generated records re-dated into the last five minutes, with fresh ids."""
    rng = random.Random(7)
    spec = parse_spec(spec_text)
    out: list[dict[str, Any]] = []
    for body in generate(spec):
        body["eventID"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        body["eventTime"] = format_time(now - timedelta(seconds=rng.uniform(5, 300)))
        out.append(body)
        if len(out) == count:
            break
    return out


async def _scans(
    url: str, spec_text: str, config: IncrementalConfig, state: Path
) -> dict[str, Any]:
    spec = parse_spec(spec_text)
    accounts = account_ids(spec)
    settings = Settings(
        accounts=AccountSelection(
            targets=tuple(AccountTarget(a, ROLE.format(account=a)) for a in accounts)
        ),
        regions=spec.regions,
        endpoint_url=url,
        rate=RATE * config.time_scale,
        service=ServiceSettings(state_path=str(state)),
    )
    configure("warning")
    store = await Store.open(state)
    service = Service(settings, store, load_catalog())
    stats_url = url + "/_emulator/stats"
    try:
        first = await service.scan_once()
        # Let the clock pass the first scan's end, as the schedule would.
        await anyio.sleep(1.1)
        before = await anyio.to_thread.run_sync(get_json, stats_url)
        idle = await service.scan_once()
        after = await anyio.to_thread.run_sync(get_json, stats_url)
        idle_calls = sum(calls_per_region(before, after).values())
        body = b"\n".join(
            orjson.dumps(r) for r in new_records(spec_text, config.new_events, datetime.now(UTC))
        )
        added = await anyio.to_thread.run_sync(post_json, url + "/_emulator/records", body)
        started = time.perf_counter()
        busy = await service.scan_once()
        busy_seconds = time.perf_counter() - started
    finally:
        await store.close()
    assert first.result is not None
    assert idle.result is not None
    assert busy.result is not None
    return {
        "first_scan_calls": first.result.stats.api_calls,
        "idle_streams": idle.work,
        "idle_calls": idle_calls,
        "idle_outcome": idle.outcome,
        "added": added,
        "busy_calls": busy.result.stats.api_calls,
        "busy_events_read": busy.result.stats.events_read,
        "busy_events_matched": busy.result.stats.events_matched,
        "busy_seconds": round(busy_seconds, 2),
        "busy_outcome": busy.outcome,
    }


def bench_incremental(config: IncrementalConfig, workdir: Path) -> Outcome:
    """Both figures against one emulator in its own process."""
    spec_text = pinned(config.spec)
    args = ["--generate", spec_text, "--rate", f"{RATE:g}"]
    args += ["--time-scale", f"{config.time_scale:g}", "--seed", "2"]
    state = workdir / "incremental.db"
    for stale in workdir.glob("incremental.db*"):
        stale.unlink()
    with emulator_process(args, workdir / "emulator-incremental.log") as emulator:
        import os

        os.environ.update(EMULATOR_KEYS)
        details = anyio.run(_scans, emulator.url, spec_text, config, state)
    per_stream = details["idle_calls"] / max(1, details["idle_streams"])
    outcome = Outcome()
    outcome.figures.append(Figure("incremental_idle_calls_per_stream", per_stream, 1.0, "low"))
    outcome.figures.append(Figure("incremental_1k_seconds", details["busy_seconds"], None))
    outcome.details["incremental"] = {"spec": spec_text, "time_scale": config.time_scale}
    outcome.details["incremental"].update(details)
    return outcome
