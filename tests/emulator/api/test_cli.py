"""`leftovers emulate`: clear errors for bad input, and a server that answers and stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import build_parser, main
from scanner.commands import emulate
from scanner.errors import LeftoversError
from tests.emulator.api.emulator_clients import client


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
    ("flags", "reason"),
    [
        (["--faults", "meltdown"], "unknown kind 'meltdown'"),
        (["--faults", "denied@abc"], "'abc' is not a 12-digit account id"),
        (["--faults", "down/nowhere"], "'nowhere' is not a region name"),
        (["--latency", "fast"], "latency entry 'fast'"),
        (["--latency", "mars=0.2"], "'mars' is not a region"),
        (["--rate", "0"], "--rate: 0.0 is not a positive number"),
        (["--rate", "nan"], "--rate: nan is not a positive number"),
        (["--time-scale", "inf"], "--time-scale: inf is not a positive number"),
        (["--horizon-days", "-1"], "--horizon-days: -1.0 is not 0 or a positive number"),
        (["--account", "42"], "--account: '42' is neither a 12-digit AWS account id nor an"),
        (["--generate", "accounts=x"], "generator spec: key 'accounts': 'x' is not an integer"),
    ],
)
def test_bad_flags_are_settings_errors(flags: list[str], reason: str) -> None:
    # Built, not run: a flag let through by mistake would otherwise serve forever.
    args = build_parser("emulate").parse_args(["emulate", "--port", "0", *flags])
    with pytest.raises(LeftoversError) as raised:
        emulate.build(args)
    assert reason in str(raised.value)


def test_a_bad_flag_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "--port", "0", "--faults", "meltdown"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("leftovers: error: fault rule 'meltdown': unknown kind")
    assert "Traceback" not in err


@pytest.mark.parametrize("port", ["65536", "-1", "http"])
def test_a_bad_port_is_a_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["emulate", "--port", port])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --port: {port!r} is not a port number (0..65535)" in err
    assert "Traceback" not in err


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


def test_account_may_be_a_placeholder_the_history_names(tmp_path: Path) -> None:
    record = (
        '{"eventID":"e1","eventName":"RunInstances","eventSource":"ec2.amazonaws.com",'
        '"awsRegion":"eu-west-1","eventTime":"2026-11-01T00:00:00Z","recipientAccountId":"0000"}'
    )
    (tmp_path / "one.json").write_text(record)
    flags = ["--history", str(tmp_path / "one.json"), "--account"]
    args = build_parser("emulate").parse_args(["emulate", "--port", "0", *flags, "0000"])
    assert emulate.build(args).default_account == "0000"
    args = build_parser("emulate").parse_args(["emulate", "--port", "0", *flags, "0001"])
    with pytest.raises(LeftoversError, match="'0001' is neither"):
        emulate.build(args)


def test_an_empty_generate_spec_is_the_default_history() -> None:
    args = build_parser("emulate").parse_args(
        ["emulate", "--port", "0", "--generate", "", "--latency", "off"]
    )
    assert len(emulate.build(args).history) > 0
