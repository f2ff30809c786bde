"""Terminal views: the leftovers table grouped by account, region and type; live progress.

Every value that comes from AWS or a trail file enters rich through `text()`, as plain text:
never markup (`[bold]`, `[link=...]`), never a control character.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import groupby

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from scanner.coverage import Coverage
from scanner.errors import printable
from scanner.pages import RegionProgress, ScanProgress
from scanner.report import Leftover, Report
from scanner.verify import GONE_REASON


def text(value: str, style: str = "") -> Text:
    """A value from outside as rich text: shown as it is, interpreted never (markup, controls)."""
    return Text(printable(value), style=style)


def age_text(seconds: int) -> str:
    """`3d 4h`, `5h 12m`, `40m`, `12s`."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def _owner(item: Leftover) -> str:
    actor = item.created_by
    if actor.user_name:
        return actor.user_name
    if actor.arn:
        return actor.arn.rsplit("/", 1)[-1]
    return "-"


def _details(item: Leftover) -> str:
    attributes = dict(item.attributes)
    shown = [f"{key}={attributes[key]}" for key in item.display if attributes.get(key)]
    return " ".join(shown) or "-"


def _cost(value: float | None) -> str:
    return "?" if value is None else f"${value:.4f}"


#: The leftovers table's columns: (header, may fold). Folding columns (ids may be ARNs) give
#: way, widest first; the others (age, state, cost) are never cut.
_COLUMNS = (
    ("id", True),
    ("name", True),
    ("age", False),
    ("owner", True),
    ("state", False),
    ("details", True),
    ("est. $/h", False),
)
_NARROWEST_FOLD = 6


def _fold_widths(natural: list[int], room: int) -> list[int]:
    """Widths for the folding columns: as they are if they fit, else the widest cut down to a
    common cap (never below a few characters), so that the narrow ones stay whole."""
    if sum(natural) <= room:
        return natural
    cap = max(natural)
    while cap > _NARROWEST_FOLD and sum(min(n, cap) for n in natural) > room:
        cap -= 1
    return [min(n, cap) for n in natural]


def _leftovers_table(title: Text, rows: list[list[str]], width: int, *, live: bool) -> Table:
    """The table of one group; `live`: with the live check's column (verification ran)."""
    columns = (*_COLUMNS, ("live", True)) if live else _COLUMNS
    frame = len(columns) + 1 + 2 * len(columns)  # 1 rule more than columns, 2 spaces a cell
    natural = [
        max(len(header), *(len(row[i]) for row in rows)) for i, (header, _) in enumerate(columns)
    ]
    folding = [i for i, (_, folds) in enumerate(columns) if folds]
    room = width - frame - sum(n for i, n in enumerate(natural) if i not in folding)
    capped = dict(zip(folding, _fold_widths([natural[i] for i in folding], room), strict=True))
    table = Table(title=title, title_justify="left", title_style="bold", expand=False)
    for index, (header, folds) in enumerate(columns):
        table.add_column(
            header,
            justify="right" if header in ("age", "est. $/h") else "left",
            overflow="fold" if folds else "ellipsis",
            no_wrap=not folds,
            max_width=capped.get(index),
            min_width=None if folds else natural[index],
        )
    for row in rows:
        table.add_row(*(text(cell) for cell in row))
    return table


def unread_text(report: Report) -> str:
    """Which regions were not read in full, and how many would-be leftovers they hold."""
    regions = ", ".join(f"{account}/{region}" for account, region in sorted(report.unread))
    held = len(report.incomplete)
    return (
        f"Not read in full, so not reported: {regions} ({held} resource(s) there not known "
        "to be deleted; see the errors below, and `incomplete` in --format json)."
    )


def _ignored(report: Report, console: Console, show: bool) -> None:
    """The leftovers ignore rules set apart: a count, or (`show`) a table with each reason."""
    if not report.ignored:
        return
    if not show:
        console.print(
            Text(f"{len(report.ignored)} ignored by rules (--show-ignored lists them)", "dim")
        )
        return
    table = Table(title=f"ignored ({len(report.ignored)})", title_justify="left", expand=False)
    for column in ("type", "account", "region", "id", "name", "age", "reason"):
        table.add_column(column, overflow="fold", no_wrap=column not in ("name", "reason"))
    now = report.generated_at
    for item, reason in report.ignored:
        key = item.key
        values = (key.resource_type, key.account_id, key.region, key.resource_id, item.name or "-")
        table.add_row(*map(text, values), age_text(item.age_seconds(now)), text(reason))
    console.print(table)


def _checked(item: Leftover) -> str:
    """The live check's outcome: `present`, or `unknown` with its reason."""
    verdict = item.verification
    if verdict is None:
        return "-"
    if verdict.outcome == "present":
        return "present"
    return f"{verdict.outcome} ({verdict.reason})"


def _verified_gone(report: Report, console: Console) -> None:
    gone = report.verified_gone or ()
    if not gone:
        return
    table = Table(
        title=f"verified gone: {GONE_REASON} ({len(gone)})",
        title_justify="left",
        title_style="dim",
    )
    for column in ("account", "region", "type", "id", "found"):
        table.add_column(column, overflow="fold")
    for item in gone:
        key = item.key
        reason = item.verification.reason if item.verification else None
        values = (key.account_id, key.region, key.resource_type, key.resource_id, reason or "")
        table.add_row(*map(text, values))
    console.print(table)


def _row(item: Leftover, now: datetime, checked: bool) -> list[str]:
    """One leftover's cells; its live state (a check's) over the recorded one, when known."""
    live = item.verification.state if item.verification else None
    return [
        item.key.resource_id,
        item.name if item.name and item.name != item.key.resource_id else "-",
        age_text(item.age_seconds(now)),
        _owner(item),
        live or item.state,
        _details(item),
        _cost(item.hourly_cost),
        *([_checked(item)] if checked else []),
    ]


def render_report(
    report: Report, console: Console, files: int | None = None, *, show_ignored: bool = False
) -> None:
    """Print the leftovers, one table per (account, region, type), then the ignored ones, errors
    and stats; `files` is how many trail-log files were read (None: the scan read LookupEvents)."""
    now = report.generated_at
    window = f"{report.window.start:%Y-%m-%d %H:%M} .. {report.window.end:%Y-%m-%d %H:%M} UTC"
    console.print(Text(f"CloudTrail window {window}", style="dim"))
    groups = groupby(
        report.leftovers,
        key=lambda item: (item.key.account_id, item.key.region, item.key.resource_type),
    )
    for (account, region, _), items in groups:
        rows = list(items)
        title = text(f"{rows[0].title} · account {account} · {region} ({len(rows)})")
        checked = report.verified_gone is not None
        cells = [_row(item, now, checked) for item in rows]
        table = _leftovers_table(title, cells, console.width, live=checked)
        console.print(table)
        for item in rows:
            # Whole URLs, never folded, so that terminals keep them clickable.
            console.print(
                Text.assemble(
                    "  ", text(item.key.resource_id), "  ", text(item.console_url, "cyan")
                ),
                soft_wrap=True,
                highlight=False,
            )
    if report.leftovers:
        console.print(
            f"[bold]{len(report.leftovers)} leftover(s)[/bold], "
            f"about ${report.hourly_cost:.2f}/h (${report.hourly_cost * 730:.0f}/month) "
            "where a price is known",
            highlight=False,
        )
    elif not report.unread:
        console.print("[green]No leftovers: everything created in the window was deleted.[/green]")
    if report.unread:
        console.print(Text(unread_text(report), style="yellow"))
    _ignored(report, console, show_ignored)
    _verified_gone(report, console)
    if report.errors:
        errors = Table(title="not read (see reasons)", title_justify="left", title_style="red")
        for column in ("account", "region", "stream", "reason"):
            errors.add_column(column, overflow="fold")
        for failure in report.errors:
            errors.add_row(
                *(
                    text(v)
                    for v in (failure.account_id, failure.region, failure.stream, failure.reason)
                )
            )
        console.print(errors)
    if report.stats is not None:
        stats = report.stats
        read = (
            f"{stats.api_calls} calls ({stats.throttled} throttled), "
            f"{stats.events_read} events read"
            if files is None
            else f"{files} file(s), {stats.events_read} records read"
        )
        console.print(
            Text(
                f"{read}, {stats.events_matched} matched, {stats.duration_seconds:.1f}s",
                style="dim",
            )
        )


def _state(live: RegionProgress) -> Text:
    state = "failed" if live.failed else ("done" if live.done else "reading")
    return Text(state, style={"failed": "red", "done": "green", "reading": "yellow"}[state])


def _eta_text(eta: timedelta | None) -> str:
    return "-" if eta is None else age_text(int(eta.total_seconds()))


def progress_view(
    progress: ScanProgress, coverage: Coverage | None = None, now: datetime | None = None
) -> Group:
    """LookupEvents (with `coverage`): every (account, region) being read, how much of its
    window is read and an ETA; trail-log files (without): how many files and records are read."""
    if coverage is None:
        return _files_view(progress)
    now = now or coverage.clock()
    eta = coverage.eta(now)
    throttled = sum(live.throttled for live in progress.regions.values())
    title = "reading CloudTrail" + (f" · {throttled} calls throttled" if throttled else "")
    title += "" if eta is None else f" · about {_eta_text(eta)} left"
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("account", "region", "read", "ETA", "calls", "events", "state"):
        left = column in ("account", "region", "state")
        table.add_column(column, justify="left" if left else "right", no_wrap=True)
    for key, live in sorted(progress.regions.items()):
        region = coverage.regions.get(key)
        fraction = 1.0 if live.done and not live.failed else (region.fraction if region else 0.0)
        table.add_row(
            text(key[0]),
            text(key[1]),
            f"{fraction:.0%}",
            _eta_text(None if live.done else coverage.region_eta(key, now)),
            str(live.calls),
            str(live.events),
            _state(live),
        )
    return Group(table)


def _files_view(progress: ScanProgress) -> Group:
    table = Table(title="reading trail-log files", title_justify="left", expand=False)
    for column in ("files read", "records", "matched", "failed"):
        table.add_column(column, justify="right")
    table.add_column("state")
    for live in progress.regions.values():
        files = live.pages + live.failed
        table.add_row(
            f"{files} of {files + live.active + live.pending}",
            str(live.events),
            str(live.matched),
            str(live.failed),
            _state(live),
        )
    return Group(table)
