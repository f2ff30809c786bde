"""The terminal views: the leftovers table grouped by account, region and type; progress."""

from __future__ import annotations

import io

from rich.console import Console

from scanner.pages import ScanProgress
from scanner.view import age_text, progress_view, render_report
from tests.test_report import NOW, WINDOW, report


def rendered(*, colour: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=200, force_terminal=colour, color_system="standard" if colour else None
    )
    render_report(report(), console)
    return buffer.getvalue()


def test_table_groups_by_account_region_and_type_with_every_column() -> None:
    text = rendered()
    titles = [line.strip() for line in text.splitlines() if " · account " in line]
    assert titles == [
        "RDS DB instance · account 111111111111 · eu-west-1 (1)",
        "EC2 instance · account 111111111111 · us-east-1 (1)",
    ]
    row = next(line for line in text.splitlines() if "i-0aaa" in line and "│" in line)
    for cell in ("3d 0h", "alice", "stopped", "instance_type=t3.micro", "$0.0104"):
        assert cell in row
    db_row = next(line for line in text.splitlines() if "db-new" in line and "│" in line)
    # A renamed database keeps its first creation: age, owner and class.
    for cell in ("10d 0h", "alice", "available", "db_class=db.r5.large"):
        assert cell in db_row
    urls = [line.split()[-1] for line in text.splitlines() if "https://" in line]
    assert len(urls) == 2
    assert "db-new" in urls[0]
    assert "i-0aaa" in urls[1]
    assert "2 leftover(s)" in text
    errors = text[text.index("not read") :]
    assert "ap-south-1" in errors
    assert "down" in errors
    assert "12 calls (1 throttled), 600 events read, 7 matched, 3.5s" in text
    assert f"{WINDOW.start:%Y-%m-%d %H:%M} .. {NOW:%Y-%m-%d %H:%M} UTC" in text


def test_summary_numbers_are_not_restyled_on_a_terminal() -> None:
    # rich's highlighter would colour "2" and "(s)" apart from the bold summary text.
    assert "\x1b[1m2 leftover(s)\x1b[0m" in rendered(colour=True)


def test_ages() -> None:
    assert age_text(3 * 86_400 + 4 * 3_600 + 59) == "3d 4h"
    assert age_text(5 * 3_600 + 12 * 60) == "5h 12m"
    assert age_text(40 * 60 + 5) == "40m"
    assert age_text(12) == "12s"


def test_progress_shows_each_region_and_its_state() -> None:
    progress = ScanProgress()
    reading = progress.of_key(("111111111111", "us-east-1"))
    reading.calls, reading.events, reading.active = 4, 180, 2
    progress.of_key(("111111111111", "eu-west-1")).failed = 1
    progress.of_key(("222222222222", "eu-west-1")).calls = 1
    buffer = io.StringIO()
    Console(file=buffer, width=120).print(progress_view(progress))
    lines = buffer.getvalue().splitlines()
    rows = [line for line in lines if "1111" in line or "2222" in line]
    assert [row.split("│")[1:3] for row in rows] == [
        [" 111111111111 ", " eu-west-1 "],
        [" 111111111111 ", " us-east-1 "],
        [" 222222222222 ", " eu-west-1 "],
    ]
    assert rows[0].rstrip(" │").endswith("failed")
    assert "180" in rows[1]
    assert rows[1].rstrip(" │").endswith("reading")
    assert rows[2].rstrip(" │").endswith("done")
