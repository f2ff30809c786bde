"""Line charts over the kept totals per scan, drawn as SVG coordinates by the server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from scanner.store import ScanTotal

WIDTH = 480
HEIGHT = 200
LEFT, RIGHT, TOP, BOTTOM = 52, 10, 12, 28
#: Accounts drawn as their own line (the ones with most leftovers now); the rest are summed.
LINES = 6
#: Points per line at most: a long history is thinned to every n-th scan (the last always kept).
POINTS = 240


@dataclass(frozen=True, slots=True)
class Line:
    """One account's line: its label, its colour slot and its points in SVG coordinates."""

    label: str
    slot: int
    points: str
    dots: tuple[tuple[float, float], ...]
    last: float


@dataclass(frozen=True, slots=True)
class Tick:
    """A labelled position on an axis."""

    at: float
    label: str
    anchor: str = "end"


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart ready for the template: lines, axis ticks, and the plot's frame."""

    title: str
    lines: tuple[Line, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def _thin(times: list[datetime]) -> list[datetime]:
    if len(times) <= POINTS:
        return times
    step = -(-len(times) // POINTS)
    kept = times[::step]
    return kept if kept[-1] == times[-1] else [*kept, times[-1]]


def series(
    rows: Sequence[ScanTotal], value: Callable[[ScanTotal], float]
) -> tuple[list[datetime], dict[str, list[float]]]:
    """Per-scan values for the accounts with most leftovers in the latest scan, the others
    summed under `other accounts` (a scan without a row for an account counts 0)."""
    by_scan: dict[datetime, dict[str, float]] = {}
    latest: dict[str, int] = {}
    for row in rows:
        by_scan.setdefault(row.finished_at, {})[row.account_id] = value(row)
    if rows:
        last_time = rows[-1].finished_at
        latest = {r.account_id: r.leftovers for r in rows if r.finished_at == last_time}
    accounts = sorted({r.account_id for r in rows}, key=lambda a: (-latest.get(a, 0), a))
    shown, others = accounts[:LINES], accounts[LINES:]
    times = _thin(sorted(by_scan))
    lines = {account: [by_scan[t].get(account, 0.0) for t in times] for account in shown}
    if others:
        lines["other accounts"] = [sum(by_scan[t].get(a, 0.0) for a in others) for t in times]
    return times, lines


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    scale = 10.0 ** (len(str(int(value))) - 1) if value >= 1 else 0.01
    while True:
        for step in (1.0, 2.0, 2.5, 5.0, 10.0):
            if step * scale >= value:
                return step * scale
        scale *= 10


def chart(
    title: str,
    times: list[datetime],
    lines: dict[str, list[float]],
    label: Callable[[float], str],
) -> Chart:
    """Lay the lines out on a WIDTH x HEIGHT plot; time runs left to right."""
    top = _nice_top(max((v for values in lines.values() for v in values), default=0.0))
    span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
    left, right, upper, lower = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM

    def x(when: datetime) -> float:
        if not span:
            return (left + right) / 2
        return round(left + (when - times[0]).total_seconds() / span * (right - left), 1)

    def y(value: float) -> float:
        return round(lower - value / top * (lower - upper), 1)

    drawn = []
    for slot, (name, values) in enumerate(lines.items()):
        points = [(x(t), y(v)) for t, v in zip(times, values, strict=True)]
        drawn.append(
            Line(
                label=name,
                slot=slot,
                points=" ".join(f"{px},{py}" for px, py in points),
                dots=tuple(points[-1:]) if not span else (),
                last=values[-1] if values else 0.0,
            )
        )
    y_ticks = tuple(Tick(y(top * share), label(top * share)) for share in (0.0, 0.5, 1.0))
    x_ticks: tuple[Tick, ...] = ()
    if times:
        first, last = (f"{t:%Y-%m-%d %H:%M}" for t in (times[0], times[-1]))
        if first != last:
            x_ticks = (Tick(x(times[0]), first, "start"), Tick(x(times[-1]), last, "end"))
        else:  # all within a minute: one label, in the middle
            x_ticks = (Tick((left + right) / 2, first, "middle"),)
    return Chart(title, tuple(drawn), y_ticks, x_ticks)
