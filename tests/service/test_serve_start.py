"""What `leftovers serve` says as it starts: its URL, whether requests need a token, and a
warning when it is reachable beyond this machine without one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from scanner.commands.serve import beyond_loopback, service_url
from scanner.emulator.runtime import Running

TOKEN = "a-token-of-twenty-chars"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def started_line(running: Running, state: Path, extra_env: dict[str, str]) -> dict[str, Any]:
    """Start `leftovers serve` on loopback, return its `service_started` log line, stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEFTOVERS_"))}
    env |= running.env() | extra_env | {"LEFTOVERS_REGIONS": "us-east-1"}
    port = free_port()
    command = [sys.executable, "-m", "scanner", "serve", "--listen", f"127.0.0.1:{port}"]
    with subprocess.Popen(
        [*command, "--state", str(state)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    ) as process:
        assert process.stderr is not None
        try:
            for raw in process.stderr:
                line = orjson.loads(raw)
                if line["event"] == "service_started":
                    assert line["url"] == f"http://127.0.0.1:{port}/"
                    return dict(line)
            raise AssertionError(f"serve exited with {process.wait()} before it started")
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_start_says_the_url_and_that_auth_is_off(emulator_thread: Running, tmp_path: Path) -> None:
    line = started_line(emulator_thread, tmp_path / "state.db", {})
    assert line["auth"] == "off"


def test_start_says_that_auth_is_on_and_never_the_token(
    emulator_thread: Running, tmp_path: Path
) -> None:
    token = {"LEFTOVERS_SERVICE__BEARER_TOKEN": TOKEN}
    line = started_line(emulator_thread, tmp_path / "state.db", token)
    assert line["auth"] == "bearer token"
    assert TOKEN not in orjson.dumps(line).decode()


@pytest.mark.parametrize(
    ("host", "beyond"),
    [
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("::1", False),
        ("localhost", False),
        ("0.0.0.0", True),
        ("::", True),
        ("10.1.2.3", True),
        ("scanner.internal", True),
    ],
)
def test_which_addresses_reach_beyond_this_machine(host: str, beyond: bool) -> None:
    assert beyond_loopback(host) is beyond


def test_urls_for_every_interface_point_at_this_machine() -> None:
    assert service_url("0.0.0.0", 9100) == "http://127.0.0.1:9100/"
    assert service_url("::1", 9100) == "http://[::1]:9100/"
