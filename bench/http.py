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


def _server(state: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, int]:
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


def _load(url: str, config: HttpConfig) -> dict[str, float]:
    command = [PYTHON, "-m", "bench.http_load", url, str(config.requests)]
    command.append(str(config.concurrency))
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
    process, url, leftovers = _server(state, workdir / "http-server.log")
    try:
        metrics = _load(url + "/metrics", config)
        results = _load(url + "/results", config)
    finally:
        process.terminate()
        process.wait(timeout=30)
    outcome.figures.append(Figure("metrics_p99_ms", metrics["p99_ms"], 50, "low"))
    outcome.figures.append(Figure("results_p99_ms", results["p99_ms"], 100, "low"))
    outcome.details["http"] = {"leftovers": leftovers, "metrics": metrics, "results": results}
    return outcome
