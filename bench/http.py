"""HTTP latency: /metrics and one page of /results over a store of ~100k resources, p99."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.engine import EngineConfig, bench_engine
from bench.harness import PYTHON, ROOT, Figure, Outcome, child_env


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """The store to serve, and the load: requests per endpoint and connections at once."""

    engine: EngineConfig
    requests: int
    concurrency: int


def start_server(state: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    """The service's app over `state` in a child process: (process, base URL, leftovers)."""
    command = [PYTHON, "-m", "bench.http_server", str(state), "0"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=child_env(), cwd=ROOT
        )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        found = re.search(r"serving (\d+) leftovers (\d+)", log.read_text(errors="replace"))
        if found:
            return process, f"http://127.0.0.1:{found.group(1)}", int(found.group(2))
        if process.poll() is not None:
            raise RuntimeError(f"HTTP server exited: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("HTTP server did not start in time")


def load(url: str, requests: int, concurrency: int) -> dict[str, float]:
    """`requests` GETs of `url`, `concurrency` at a time, from another process: latencies."""
    command = [PYTHON, "-m", "bench.http_load", url, str(requests), str(concurrency)]
    done = subprocess.run(
        command, capture_output=True, env=child_env(), cwd=ROOT, check=True, timeout=600
    )
    result: dict[str, float] = orjson.loads(done.stdout)
    return result


def bench_http(config: HttpConfig, workdir: Path) -> Outcome:
    """Serve the engine benchmark's store (built if absent) and load it from another process."""
    state = workdir / "engine.db"
    outcome = Outcome()
    if not state.exists():
        outcome = bench_engine(config.engine, workdir)
    process, url, leftovers = start_server(state, workdir / "http-server.log")
    try:
        metrics = load(url + "/metrics", config.requests, config.concurrency)
        results = load(url + "/results", config.requests, config.concurrency)
    finally:
        process.terminate()
        process.wait(timeout=30)
    outcome.figures.append(Figure("metrics_p99_ms", metrics["p99_ms"], 50, "low"))
    outcome.figures.append(Figure("results_p99_ms", results["p99_ms"], 100, "low"))
    outcome.details["http"] = {"leftovers": leftovers, "metrics": metrics, "results": results}
    return outcome
