"""What `leftovers serve` logs: as it starts, its URL, whether requests need a token, and a
warning when it is reachable beyond this machine without one; a malformed request from a
client as one JSON line, never a traceback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from emulator import Running
from scanner.commands.serve import beyond_loopback, service_url
from tests.conftest import MakeRecord

TOKEN = "a-token-of-twenty-chars"


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    """Three volumes left over in us-east-1."""
    return [
        make_record(name="CreateVolume", responseElements={"volumeId": f"vol-{n:017x}"})
        for n in range(3)
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """`leftovers serve` on loopback, its stderr read line by line (each must be JSON)."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.lines: list[dict[str, Any]] = []

    def until(self, event: str) -> dict[str, Any]:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            self.lines.append(orjson.loads(raw))
            if self.lines[-1]["event"] == event:
                return self.lines[-1]
        raise AssertionError(f"serve exited with {self.process.wait()} before {event}")

    def stop(self) -> list[dict[str, Any]]:
        """Stop serve; every line it logged."""
        self.process.terminate()
        assert self.process.stderr is not None
        self.lines += [orjson.loads(raw) for raw in self.process.stderr]
        return self.lines


@contextlib.contextmanager
def serving(running: Running, state: Path, extra_env: dict[str, str]) -> Iterator[Served]:
    """Start `leftovers serve` against the emulator; stop it on the way out."""
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
        try:
            yield Served(process, port)
        finally:
            process.terminate()
            process.wait(timeout=10)


def started_line(running: Running, state: Path, extra_env: dict[str, str]) -> dict[str, Any]:
    """The `service_started` log line of `leftovers serve`."""
    with serving(running, state, extra_env) as served:
        line = served.until("service_started")
        assert line["url"] == f"http://127.0.0.1:{served.port}/"
        return line


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


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /results HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
        b"GET /results HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GET /\x00 HTTP/1.1\r\n\r\n",
    ],
    ids=["content-length", "header", "path"],
)
def test_a_malformed_request_is_one_json_line_at_info(
    emulator_thread: Running, tmp_path: Path, request_bytes: bytes
) -> None:
    with serving(emulator_thread, tmp_path / "state.db", {}) as served:
        served.until("service_started")
        with socket.create_connection(("127.0.0.1", served.port)) as client:
            client.sendall(request_bytes)
            assert client.recv(100).startswith(b"HTTP/1.0 400 Bad Request")
        lines = served.stop()
    [line] = [line for line in lines if line["event"] == "bad_request"]
    assert line["level"] == "info"
    assert line["status"] == 400
    assert line["logger"] == "aiohttp.server"
    assert line["reason"]
    assert "exception" not in line


def test_scan_completed_says_how_many_leftovers_results_lists(
    emulator_thread: Running, tmp_path: Path
) -> None:
    with serving(emulator_thread, tmp_path / "state.db", {}) as served:
        line = served.until("scan_completed")
        url = f"http://127.0.0.1:{served.port}/results"
        with urllib.request.urlopen(url, timeout=10) as answer:
            listed = orjson.loads(answer.read())["leftovers"]
    assert line["leftovers"] == len(listed) == 3
