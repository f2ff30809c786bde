"""Scan time against the rate bound, and against the aws CLI paging as the original script did."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.awscli_baseline import ROLE, cli_streams, run_cli, stream_sizes
from bench.harness import (
    PYTHON,
    REGIONS_8,
    ROOT,
    Figure,
    Outcome,
    calls_per_region,
    child_env,
    emulator_process,
    get_json,
)
from emulator import parse_spec
from emulator.history.generator import account_ids

RATE = 2.0


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """One scan benchmark's history, pace and CLI time budget."""

    spec: str
    time_scale: float
    cli_budget_seconds: float


FULL = ScanConfig(
    spec="accounts=3,regions=" + ",".join(REGIONS_8) + ",seed=11,resources=1700,noise=2",
    time_scale=2.0,
    cli_budget_seconds=240.0,
)
SMOKE = ScanConfig(
    spec="accounts=1,regions=eu-west-1,seed=3,resources=12,noise=2",
    time_scale=50.0,
    cli_budget_seconds=60.0,
)


@dataclass(frozen=True, slots=True)
class ScanRun:
    """One `leftovers scan`: its walls, its report's stats, and its counters per account-region
    (calls, pages used, hedged, retried, throttled) as the scanner counted them."""

    process_seconds: float
    scan_seconds: float
    stats: dict[str, Any]
    regions: dict[str, dict[str, int]]


def run_scanner(
    url: str, accounts: list[str], regions: tuple[str, ...], rate: float, trace: Path
) -> ScanRun:
    """`leftovers scan` against the emulator in a child process, every call timed into `trace`
    (see bench.scan_trace; the instrumentation notes a line per call, nothing more).

    The scan's own `duration_seconds` runs from the first planned call to the last page applied;
    the process wall adds interpreter start, imports, role assumption and the report.
    """
    runner = ["-m", "bench.scan_trace", str(trace)]
    command = [PYTHON, *runner, "scan", "--endpoint-url", url, "--format", "json"]
    command += ["--rate", f"{rate:g}"]
    for account in accounts:
        command += ["--account", f"{account}={ROLE.format(account=account)}"]
    for region in regions:
        command += ["--region", region]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=child_env(), cwd=ROOT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"leftovers scan failed: {done.stderr.decode()[-2000:]}")
    report = orjson.loads(done.stdout)
    if report["errors"]:
        raise RuntimeError(f"leftovers scan reported errors: {report['errors'][:3]}")
    lines = [orjson.loads(line) for line in trace.read_bytes().splitlines() if line]
    counted = next(line["regions"] for line in lines if line["kind"] == "regions")
    stats = report["stats"]
    return ScanRun(elapsed, float(stats["duration_seconds"]), stats, counted)


def pinned(spec: str) -> str:
    """The spec with `now` fixed, so that the emulator and the bench generate the same history."""
    now = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    return f"{spec},now={now.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def bench_scan(
    config: ScanConfig, workdir: Path, *, with_cli: bool = True, trace: Path | None = None
) -> Outcome:
    """Both scan figures from one emulator run (the CLI's only `with_cli`)."""
    spec_text = pinned(config.spec)
    spec = parse_spec(spec_text)
    accounts = account_ids(spec)
    scale = config.time_scale
    args = ["--generate", spec_text, "--rate", f"{RATE:g}", "--time-scale", f"{scale:g}"]
    args += ["--seed", "1"]
    outcome = Outcome()
    with emulator_process(args, workdir / "emulator-scan.log") as emulator:
        stats_url = emulator.url + "/_emulator/stats"
        before = get_json(stats_url)
        trace = trace or workdir / "scan-trace.jsonl"
        scanned = run_scanner(emulator.url, accounts, spec.regions, RATE * scale, trace)
        process_wall, wall = scanned.process_seconds, scanned.scan_seconds
        after = get_json(stats_url)
        # The bound counts the pages the plan needed: calls whose answer was used. Hedges (the
        # same call sent twice), throttled calls and retries after a 5xx are the scan's own cost.
        pages = {key: counts["pages"] for key, counts in scanned.regions.items()}
        slowest = max(pages, key=lambda k: pages[k])
        bound = pages[slowest] / (RATE * scale)
        outcome.figures.append(Figure("scan_vs_bound", round(wall / bound, 3), 1.15, "low"))
        # The same ratio against every call the emulator saw (hedges and retries included).
        calls = calls_per_region(before, after)
        busiest = max(calls, key=lambda k: calls[k])
        calls_bound = calls[busiest] / (RATE * scale)
        details: dict[str, Any] = {
            "spec": spec_text,
            "events": after["history"]["events"],
            "time_scale": scale,
            "rate_per_account_region": RATE,
            "scan_seconds": round(wall, 2),
            "scan_process_seconds": round(process_wall, 2),
            "scan_process_vs_bound": round(process_wall / bound, 3),
            "bound_seconds": round(bound, 2),
            "slowest_account_region": slowest,
            "pages_slowest": pages[slowest],
            "calls_slowest": calls.get(slowest, 0),
            "hedged_slowest": scanned.regions[slowest]["hedged"],
            "retried_slowest": scanned.regions[slowest]["retried"],
            "pages_total": sum(pages.values()),
            "calls_total": sum(calls.values()),
            "hedged": int(scanned.stats.get("hedged", 0)),
            "retried": int(scanned.stats.get("retried", 0)),
            "throttled": after["totals"]["throttled"] - before["totals"]["throttled"],
            "scan_vs_bound_emulator_calls": round(wall / calls_bound, 3),
            "emulator_calls_busiest": [busiest, calls[busiest]],
        }
        if with_cli:
            sizes = stream_sizes(spec_text)
            for same, name in ((False, "scan_vs_cli_baseline"), (True, "scan_vs_cli_same_filter")):
                streams = cli_streams(accounts, spec.regions, same)
                budget = config.cli_budget_seconds / (2 if same else 1)
                run = run_cli(emulator.url, streams, sizes, budget)
                ratio = round(run.estimate / process_wall, 1)
                outcome.figures.append(Figure(name, ratio, None, "high"))
                details[name] = {
                    "cli_seconds": round(run.estimate, 1),
                    "measured_seconds": round(run.seconds, 1),
                    "measured_calls": run.calls,
                    "calls": run.total_calls,
                    "streams": run.streams,
                    "extrapolated": not run.complete,
                }
        outcome.details["scan"] = details
    return outcome
