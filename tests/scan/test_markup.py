"""Text from CloudTrail is data: tags, user names and ids print as they are on a terminal,
never as rich markup, hyperlinks or escape sequences."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scanner import logs
from scanner.cli import main
from tests.conftest import MakeRecord

from .terminal import run_in_terminal
from .test_terminal import after_progress

NAMES = ("oops [/] closing", "[bold red]alarm", "[link=http://evil.example]click[/link]")
ESCAPE_NAME = "\x1b[31mred\x1b[0m"


@pytest.fixture
def hostile_trail(tmp_path: Path, make_record: MakeRecord) -> Path:
    records = [
        make_record(
            name="CreateVolume",
            user="[blink]mallory",
            requestParameters={
                "size": 8,
                "zone": "us-east-1a",
                "tagSpecificationSet": {
                    "items": [{"resourceType": "volume", "tags": [{"key": "Name", "value": name}]}]
                },
            },
            responseElements={"volumeId": f"vol-{index:017x}", "size": 8, "volumeType": "gp3"},
        )
        for index, name in enumerate((*NAMES, ESCAPE_NAME))
    ]
    path = tmp_path / "trail.json"
    path.write_text(json.dumps({"Records": records}))
    return path


def test_aws_text_is_never_markup_in_the_table(hostile_trail: Path) -> None:
    status, output = run_in_terminal(
        ["scan", "--source", "files", str(hostile_trail), "--format", "table"], columns=200
    )
    shown = after_progress(output)
    assert status == 1, output
    assert "Traceback" not in output
    for name in NAMES:
        assert name in shown
    assert "[blink]mallory" in shown
    assert "\\x1b[31mred\\x1b[0m" in shown  # spelled out, not obeyed
    assert "\x1b]8;" not in output  # no hidden hyperlink
    assert "\x1b[31mred" not in output


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_on_a_terminal_spell_out_escape_sequences() -> None:
    """structlog's console renderer shows values as repr(): keep it that way."""
    screen = _Terminal()
    logs.configure("info", stream=screen)
    try:
        logs.get_logger("test").warning("stream_failed", reason=f"AccessDenied: {ESCAPE_NAME}")
    finally:
        logs.configure("warning")
    assert "AccessDenied: \\x1b[31mred\\x1b[0m" in screen.getvalue()  # repr of the value
    assert "\x1b[31mred" not in screen.getvalue()


def test_an_error_line_spells_out_escape_sequences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / f"trail{ESCAPE_NAME}.json"
    assert main(["scan", "--format", "json", "--source", "files", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "trail\\x1b[31mred\\x1b[0m.json" in err
    assert "\x1b" not in err
