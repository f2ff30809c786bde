"""`leftovers scan` on a real terminal (a pty): errors are one line and exit 2, as when piped."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from emulator import Running

from .terminal import run_in_terminal

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def plain(text: str) -> str:
    return ANSI.sub("", text)


def after_progress(output: str) -> str:
    """What stays on the screen once the live progress display has erased itself."""
    return plain(output.rpartition("\x1b[?25h")[2])


def error_lines(output: str) -> list[str]:
    return [line for line in after_progress(output).splitlines() if line.strip()]


def offline_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEFTOVERS_"))}
    env |= {
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return env | extra


@pytest.mark.parametrize(
    ("argv", "env", "needle"),
    [
        (["--source", "files", "{empty}"], {}, "no CloudTrail log files"),
        (["--source", "files", "/dev/null"], {}, "/dev/null: not a regular file or folder"),
        (["--region", "us-east-1"], {}, "cannot list the accounts to scan"),
        (
            ["--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"],
            {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE000000000", "AWS_SECRET_ACCESS_KEY": "x"},
            "cannot list the accounts to scan",
        ),
    ],
    ids=["empty-folder", "dev-null", "no-credentials", "unreachable-endpoint"],
)
def test_a_scan_error_on_a_terminal_is_one_line_and_exit_2(
    argv: list[str], env: dict[str, str], needle: str, tmp_path: Path
) -> None:
    argv = [a.replace("{empty}", str(tmp_path)) for a in argv]
    status, output = run_in_terminal(["scan", *argv], env=offline_env(**env))
    lines = error_lines(output)
    assert status == 2, output
    assert len(lines) == 1, output
    assert lines[0].startswith("leftovers: error: ")
    assert needle in lines[0]


def test_a_scan_on_a_terminal_prints_the_table(emulator_thread: Running) -> None:
    env = offline_env(**emulator_thread.env())
    status, output = run_in_terminal(["scan", "--region", "us-east-1"], env=env)
    assert status in (0, 1), output
    assert "Traceback" not in output
    assert "CloudTrail window" in plain(output)
