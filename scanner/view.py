"""Terminal views: the leftovers table grouped by account, region and type; live progress."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from scanner.pages import ScanProgress
from scanner.report import Leftover, Report
from scanner.verify import GONE_REASON


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


def _checked(item: Leftover) -> Text:
    """The live check's outcome: `present`, or `unknown` with its reason."""
    verdict = item.verification
    if verdict is None:
        return Text("-")
    if verdict.outcome == "present":
        return Text("present", style="green")
    return Text(f"{verdict.outcome} ({verdict.reason})", style="yellow")


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
        table.add_row(
            key.account_id, key.region, key.resource_type, Text(key.resource_id), Text(reason or "")
        )
    console.print(table)


def render_report(report: Report, console: Console) -> None:
    """Print the leftovers, one table per (account, region, type), then errors and stats."""
    now = report.generated_at
    window = f"{report.window.start:%Y-%m-%d %H:%M} .. {report.window.end:%Y-%m-%d %H:%M} UTC"
    console.print(Text(f"CloudTrail window {window}", style="dim"))
    groups = groupby(
        report.leftovers,
        key=lambda item: (item.key.account_id, item.key.region, item.key.resource_type),
    )
    for (account, region, _), items in groups:
        rows = list(items)
        table = Table(
            title=f"{rows[0].title} · account {account} · {region} ({len(rows)})",
            title_justify="left",
            title_style="bold",
            expand=False,
        )
        table.add_column("id", no_wrap=True)
        table.add_column("name")
        table.add_column("age", justify="right")
        table.add_column("owner")
        table.add_column("state")
        table.add_column("details")
        table.add_column("est. $/h", justify="right")
        checked = report.verified_gone is not None
        if checked:
            table.add_column("live")
        for item in rows:
            live = item.verification.state if item.verification else None
            table.add_row(
                item.key.resource_id,
                item.name if item.name and item.name != item.key.resource_id else "-",
                age_text(item.age_seconds(now)),
                _owner(item),
                Text(live) if live else item.state,
                _details(item),
                _cost(item.hourly_cost),
                *([_checked(item)] if checked else []),
            )
        console.print(table)
        for item in rows:
            # Whole URLs, never folded, so that terminals keep them clickable.
            console.print(
                f"  {item.key.resource_id}  [cyan]{item.console_url}[/cyan]",
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
    else:
        console.print("[green]No leftovers: everything created in the window was deleted.[/green]")
    _verified_gone(report, console)
    if report.errors:
        errors = Table(title="not read (see reasons)", title_justify="left", title_style="red")
        for column in ("account", "region", "stream", "reason"):
            errors.add_column(column, overflow="fold")
        for failure in report.errors:
            errors.add_row(failure.account_id, failure.region, failure.stream, failure.reason)
        console.print(errors)
    if report.stats is not None:
        stats = report.stats
        console.print(
            Text(
                f"{stats.api_calls} calls ({stats.throttled} throttled), "
                f"{stats.events_read} events read, {stats.events_matched} matched, "
                f"{stats.duration_seconds:.1f}s",
                style="dim",
            )
        )


def progress_view(progress: ScanProgress) -> Group:
    """A table of every (account, region) being read: calls, events, chains, state."""
    table = Table(title="reading CloudTrail", title_justify="left", expand=False)
    for column in ("account", "region", "calls", "throttled", "events", "matched", "chains"):
        table.add_column(column, justify="right" if column not in ("account", "region") else "left")
    table.add_column("state")
    for (account, region), live in sorted(progress.regions.items()):
        state = "failed" if live.failed else ("done" if live.done else "reading")
        style = {"failed": "red", "done": "green", "reading": "yellow"}[state]
        table.add_row(
            account,
            region,
            str(live.calls),
            str(live.throttled),
            str(live.events),
            str(live.matched),
            str(live.active + live.pending),
            Text(state, style=style),
        )
    return Group(table)
