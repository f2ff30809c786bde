"""HTTP latency over a store of ~100k resources, p99: /metrics and one page of /results; and
/readyz while the service scans (an emulator in its own process, new events before each scan),
each scan ending with a new snapshot of the 100k lifecycles."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.engine import EngineConfig, bench_engine
from bench.harness import PYTHON, ROOT, Figure, Outcome, child_env, emulator_process
from bench.scan import pinned


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """The store to serve, and the load: requests per endpoint and connections at once."""

    engine: EngineConfig
    requests: int
    concurrency: int
    #: The history the service scans while /readyz is loaded, and how long the load lasts.
    scan_spec: str = "accounts=1,regions=eu-west-1,seed=21,resources=20,noise=2"
    readyz_seconds: float = 30.0


def start_server(
    state: Path, log: Path, *scanning: str
) -> tuple[subprocess.Popen[bytes], str, int]:
    """The service's app over `state` in a child process: (process, base URL, leftovers);
    `scanning`: an emulator URL and history spec for a service that also scans."""
    command = [PYTHON, "-m", "bench.http_server", str(state), "0", *scanning]
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


def load(url: str, requests: int, concurrency: int, seconds: float = 0) -> dict[str, float]:
    """`requests` GETs of `url` (or more, for at least `seconds`), `concurrency` at a time,
    from another process: latencies."""
    command = [PYTHON, "-m", "bench.http_load", url, str(requests), str(concurrency)]
    command += [str(seconds)]
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
    readyz = _readyz_during_scans(state, config, workdir)
    outcome.figures.append(Figure("metrics_p99_ms", metrics["p99_ms"], 50, "low"))
    outcome.figures.append(Figure("results_p99_ms", results["p99_ms"], 100, "low"))
    outcome.figures.append(Figure("readyz_p99_during_scans_ms", readyz["p99_ms"], 50, "low"))
    outcome.details["http"] = {
        "leftovers": leftovers,
        "metrics": metrics,
        "results": results,
        "readyz_during_scans": readyz,
    }
    return outcome


def _scans(log: Path) -> list[float]:
    """The durations of the scans the server child has finished, from its log."""
    return [float(m) for m in re.findall(r"scanned \d+ ([\d.]+)", log.read_text(errors="replace"))]


def _readyz_during_scans(state: Path, config: HttpConfig, workdir: Path) -> dict[str, float]:
    """Load /readyz while the server scans an emulator into the state, scan after scan; the
    load starts once the first scan (the region's first read) has finished."""
    spec = pinned(config.scan_spec)
    args = ["--generate", spec, "--time-scale", "50", "--latency", "off", "--seed", "2"]
    log = workdir / "http-server-scanning.log"
    with emulator_process(args, workdir / "emulator-readyz.log") as emulator:
        process, url, _ = start_server(state, log, emulator.url, spec)
        try:
            deadline = time.monotonic() + 600
            while not _scans(log) and time.monotonic() < deadline:
                time.sleep(0.2)
            before = len(_scans(log))
            result = load(
                url + "/readyz", config.requests, config.concurrency, config.readyz_seconds
            )
            during = _scans(log)[before:]
        finally:
            process.terminate()
            process.wait(timeout=30)
    if not during:
        raise RuntimeError(f"no scan finished during the /readyz load: {log.read_text()[-2000:]}")
    return {
        **result,
        "scans_during_load": len(during),
        "scan_seconds_max": round(max(during), 3),
    }
