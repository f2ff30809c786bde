"""`leftovers emulate`: clear errors for bad input, and a server that answers and stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from emulator_clients import client

from scanner.cli import main


def test_bad_history_file_is_one_line_error_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "trail.json.gz"
    bad.write_bytes(b"not gzip")
    assert main(["emulate", "--history", str(bad), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "trail.json.gz" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "flags", [["--faults", "meltdown"], ["--latency", "fast"], ["--rate", "0"]]
)
def test_bad_flags_are_settings_errors(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["emulate", "--port", "0", *flags]) == 2
    assert "leftovers: error:" in capsys.readouterr().err


@pytest.mark.slow
def test_emulate_serves_until_sigterm(tmp_path: Path) -> None:
    record = (
        '{"eventID":"e1","eventName":"RunInstances","eventSource":"ec2.amazonaws.com",'
        '"awsRegion":"eu-west-1","eventTime":"2026-11-01T00:00:00Z",'
        '"recipientAccountId":"333333333333"}'
    )
    (tmp_path / "one.json").write_text(record)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scanner",
            "emulate",
            "--port",
            "0",
            "--latency",
            "off",
            "--horizon-days",
            "0",
            "--history",
            str(tmp_path / "one.json"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(7)]
        exports = dict(
            line.strip().removeprefix("export ").split("=", 1)
            for line in lines
            if line.strip().startswith("export ")
        )
        endpoint = exports["AWS_ENDPOINT_URL"]
        assert endpoint.startswith("http://127.0.0.1:")
        events = client("cloudtrail", endpoint, "eu-west-1").lookup_events()["Events"]
        assert [e["EventId"] for e in events] == ["e1"]
        assert client("sts", endpoint).get_caller_identity()["Account"] == "333333333333"
    finally:
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert status == 0
