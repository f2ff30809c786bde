"""Shared bench plumbing: results, the machine, the emulator as a separate process."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
EMULATOR_KEYS = {
    "AWS_ACCESS_KEY_ID": "AKIAEMULATOR00000000",
    "AWS_SECRET_ACCESS_KEY": "emulator-secret-key",
}
REGIONS_8 = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-south-1",
    "ap-northeast-1",
    "sa-east-1",
    "ca-central-1",
)


@dataclass(slots=True)
class Figure:
    """One measured value with its target; `better` is "low" or "high" (or "" for no target)."""

    name: str
    value: float
    target: float | None = None
    better: str = "low"
    unit: str = ""

    @property
    def passed(self) -> bool | None:
        """True/False against the target; None without one."""
        if self.target is None:
            return None
        if self.better == "high":
            return self.value >= self.target
        return self.value <= self.target


@dataclass(slots=True)
class Outcome:
    """What one benchmark produced: figures for the table, details for results.json."""

    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, Python version and date."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_mb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = round(int(line.split()[1]) / 1024)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mb": memory_mb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def child_env(**extra: str) -> dict[str, str]:
    """The environment for child processes: emulator keys, no real AWS settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEFTOVERS_"))}
    env.update(EMULATOR_KEYS)
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


_LISTENING = re.compile(r"listening on (http://\S+)")


class EmulatorProcess:
    """`leftovers emulate` in a child process; `url` once it listens."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args = args
        self.log = log
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 600.0) -> str:
        """Start and wait for the announced endpoint."""
        command = [PYTHON, "-m", "scanner", "emulate", "--port", "0", *self.args]
        with self.log.open("wb") as out:
            self._process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=child_env(), cwd=ROOT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log.read_text(errors="replace"))
            if found:
                self.url = found.group(1)
                return self.url
            if self._process.poll() is not None:
                raise RuntimeError(f"emulator exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError("emulator did not start in time")

    def stop(self) -> None:
        """SIGTERM, then wait."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self._process is not None
        return self._process.pid


def run_child(module: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run `python -m module args...` in the repository; the JSON object it prints."""
    command = [PYTHON, "-m", module, *args]
    done = subprocess.run(
        command, capture_output=True, env=child_env(), cwd=ROOT, check=False, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed: {done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = orjson.loads(done.stdout)
    return result


@contextlib.contextmanager
def emulator_process(args: list[str], log: Path) -> Iterator[EmulatorProcess]:
    """A running emulator child for the duration of the block."""
    process = EmulatorProcess(args, log)
    try:
        process.start()
        yield process
    finally:
        process.stop()


def get_json(url: str) -> Any:
    """GET a JSON document from a loopback URL (admin endpoints)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as answer:
        return orjson.loads(answer.read())


def post_json(url: str, body: bytes) -> Any:
    """POST bytes to a loopback URL and read the JSON answer."""
    import urllib.request

    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=120) as answer:
        return orjson.loads(answer.read())


def calls_per_region(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """LookupEvents calls per "ACCOUNT/REGION" between two emulator stats documents."""
    old = before.get("per_account_region", {})
    return {
        key: counts["calls"] - old.get(key, {}).get("calls", 0)
        for key, counts in after.get("per_account_region", {}).items()
    }


def served_per_region(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """LookupEvents calls answered (not throttled) per "ACCOUNT/REGION" between two stats."""
    old = before.get("per_account_region", {})
    return {
        key: counts["served"] - old.get(key, {}).get("served", 0)
        for key, counts in after.get("per_account_region", {}).items()
    }
