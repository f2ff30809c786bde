"""The charts over kept totals: accounts with most leftovers drawn, the rest summed, thinned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scanner.store import ScanTotal
from scanner.ui import chart as charts

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def totals(scans: int, accounts: int) -> list[ScanTotal]:
    return [
        ScanTotal(n, T0 + timedelta(hours=n), f"{a:012d}", a + n, float(a))
        for n in range(scans)
        for a in range(accounts)
    ]


def test_the_accounts_with_most_leftovers_get_a_line_and_the_rest_are_summed() -> None:
    times, lines = charts.series(totals(3, charts.LINES + 2), lambda r: float(r.leftovers))
    assert len(times) == 3
    names = list(lines)
    assert names[0] == f"{charts.LINES + 1:012d}"  # most leftovers in the latest scan first
    assert names[-1] == "other accounts"
    assert lines["other accounts"] == [1, 3, 5]  # accounts 0 and 1: (0 + n) + (1 + n)


def test_a_long_history_is_thinned_keeping_the_last_scan() -> None:
    times, _ = charts.series(totals(1000, 1), lambda r: float(r.leftovers))
    assert len(times) <= charts.POINTS + 1
    assert times[-1] == T0 + timedelta(hours=999)


def test_lines_are_laid_out_on_the_plot_with_ticks() -> None:
    times, lines = charts.series(totals(2, 2), lambda r: float(r.leftovers))
    drawn = charts.chart("t", times, lines, str)
    first = drawn.lines[0]
    points = [tuple(map(float, p.split(","))) for p in first.points.split()]
    assert points[0][0] == charts.LEFT
    assert points[-1][0] == charts.WIDTH - charts.RIGHT
    assert [t.label for t in drawn.y_ticks] == ["0.0", "1.0", "2.0"]  # nice top: 2 leftovers
    assert [t.anchor for t in drawn.x_ticks] == ["start", "end"]
    single = charts.chart("t", times[:1], {k: v[:1] for k, v in lines.items()}, str)
    assert single.lines[0].dots
    assert len(single.x_ticks) == 1
