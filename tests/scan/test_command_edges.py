"""`leftovers scan` when the world gets in the way: no credentials, nobody listening, Ctrl-C;
and what its debug logs hold."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from emulator import Emulator
from emulator.history.generator import account_ids, original_script_case
from scanner.cli import main

from .scan_cli import (
    NOW,
    closed_port,
    emulator_for,
    endpoint_flags,
    role_flags,
    scan_json,
    spec_for,
)


def test_no_credentials_at_all_is_one_line_and_exit_2(
    aws_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookups
    endpoint = f"http://127.0.0.1:{closed_port()}"
    status = main(["scan", "--endpoint-url", endpoint, "--region", "us-east-1"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err == "leftovers: error: cannot list the accounts to scan: no AWS credentials found\n"


def test_an_unreachable_endpoint_is_reported_per_region(
    aws_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEFTOVERS_RETRY__ATTEMPTS", "1")
    endpoint = f"http://127.0.0.1:{closed_port()}"
    # Without an account, even finding out who we are fails: one line.
    assert main(["scan", "--endpoint-url", endpoint, "--region", "us-east-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("leftovers: error: cannot list the accounts to scan: Could not connect")
    # With one (and its role: no need to ask who we are), each region's failure is data.
    status, document = scan_json(
        capsys, "--endpoint-url", endpoint, "--region", "us-east-1", "--region", "eu-west-1",
        "--account", "111111111111=arn:aws:iam::111111111111:role/Reader",
    )  # fmt: skip
    assert status == 2
    assert document["leftovers"] == []
    assert {(e["account_id"], e["region"]) for e in document["errors"]} == {
        ("111111111111", "us-east-1"),
        ("111111111111", "eu-west-1"),
    }
    assert all("Could not connect" in e["reason"] for e in document["errors"])


@pytest.mark.slow
def test_ctrl_c_stops_a_scan_cleanly(aws_env: None) -> None:
    """SIGINT while calls are in flight: exit 130 and one line, no traceback, no report."""
    records, _ = original_script_case(NOW)
    emulator = Emulator(records=records, latency="30", time_scale=1.0)
    with emulator.in_thread() as running:
        process = subprocess.Popen(
            [sys.executable, "-m", "scanner", "scan", "--endpoint-url", running.endpoint_url,
             "--region", "us-east-1", "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            while emulator.stats.as_dict()["totals"]["calls"] == 0:
                assert process.poll() is None, process.communicate()
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 130
    assert err == "leftovers: interrupted\n"
    assert out == ""


@pytest.mark.slow
def test_debug_logs_of_a_scan_through_assumed_roles_hold_no_credentials(aws_env: None) -> None:
    """In a process of its own, so that the standard logging set-up is the command's own."""
    spec = replace(spec_for(4), accounts=2, regions=("eu-west-1",))
    emulator = emulator_for(spec, faults="throttle:0.3")
    with emulator.in_thread() as running:
        done = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", "-v", "--format", "json",
             *endpoint_flags(running), "--region", "eu-west-1", *role_flags(account_ids(spec))],
            # 30% of calls throttled at random: with the default 6 attempts a chain gives up
            # once in ~1,400 calls, and a busy machine makes more calls (more cuts and hedges);
            # 12 attempts keep the retries (what this test logs) without that chance.
            env={**os.environ, "LEFTOVERS_LOG_LEVEL": "debug", "LEFTOVERS_RETRY__ATTEMPTS": "12"},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["errors"] == []
    assert '"level": "debug"' in done.stderr  # retries of throttled calls are logged at debug
    # The base keys, and any key AssumeRole issued (all ASIA...: in headers next to the token).
    for secret in ("AKIAEMULATOR", "emulator-secret-key", "ASIA", "Security-Token"):
        assert secret not in done.stderr
