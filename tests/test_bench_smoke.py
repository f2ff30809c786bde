"""The benchmark harness end to end at smoke size: every result key is there and numeric."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]
KEYS = (
    "scan_vs_bound",
    "scan_vs_cli_baseline",
    "scan_vs_cli_same_filter",
    "engine_events_per_second",
    "engine_peak_rss_mb",
    "incremental_idle_calls_per_stream",
    "incremental_1k_seconds",
    "metrics_p99_ms",
    "results_p99_ms",
    "page_ttfb_p99_ms",
    "page_full_p99_ms",
)


@pytest.mark.timeout(360)  # the harness itself is given 300 s
def test_smoke_run_writes_every_key(tmp_path: Path) -> None:
    if not (os.environ.get("AWS_CLI") or shutil.which("aws")):
        pytest.skip("the aws CLI is needed (make test sets AWS_CLI)")
    output = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    results = orjson.loads(output.read_bytes())
    for key in KEYS:
        assert isinstance(results[key], int | float), key
        assert not isinstance(results[key], bool), key
    assert results["machine"]["cores"] >= 1
    assert results["smoke"] is True
    assert "leftovers benchmarks" in done.stdout.decode()
