"""The `/` overview: totals, breakdowns by account, type and owner, scan health, next scan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scanner.snapshot import Entry, Snapshot
from scanner.ui.listing import owner_of

HOURS_PER_MONTH = 730
#: Owners listed by name on the overview; the rest are counted together.
TOP_OWNERS = 15


@dataclass(frozen=True, slots=True)
class Total:
    """A count of leftovers and their known estimated cost; `unpriced` have no known price."""

    label: str
    count: int
    hourly_cost: float
    unpriced: int

    @property
    def monthly_cost(self) -> float:
        return self.hourly_cost * HOURS_PER_MONTH


def _totals(groups: Iterable[tuple[str, Entry]]) -> list[Total]:
    counts: dict[str, int] = {}
    costs: dict[str, float] = {}
    unpriced: dict[str, int] = {}
    for label, entry in groups:
        counts[label] = counts.get(label, 0) + 1
        costs[label] = costs.get(label, 0.0) + (entry.hourly_cost or 0.0)
        unpriced[label] = unpriced.get(label, 0) + (entry.hourly_cost is None)
    return sorted(
        (Total(label, counts[label], costs[label], unpriced[label]) for label in counts),
        key=lambda t: (-t.hourly_cost, -t.count, t.label),
    )


@dataclass(frozen=True, slots=True)
class Health:
    """One account-region's scan health: when it last succeeded, and why it fails if it does."""

    account_id: str
    region: str
    last_success: datetime | None
    failing: str | None
    incomplete: str | None

    def age_seconds(self, now: datetime) -> int | None:
        if self.last_success is None:
            return None
        return max(0, int((now - self.last_success).total_seconds()))


def health(snapshot: Snapshot) -> list[Health]:
    """Every known account-region, failing ones first."""
    failing: dict[tuple[str, str], str] = {}
    for error in snapshot.errors:
        where = (str(error.get("account_id", "")), str(error.get("region", "")))
        failing.setdefault(where, str(error.get("reason") or "failed"))
    incomplete = snapshot.unread  # account-region -> why it is not read in full
    known = set(snapshot.metrics.last_success) | set(incomplete)
    known |= {where for where in failing if all(where)}
    rows = [
        Health(
            account,
            region,
            datetime.fromtimestamp(stamp, UTC)
            if (stamp := snapshot.metrics.last_success.get((account, region)))
            else None,
            failing.get((account, region)),
            incomplete.get((account, region)),
        )
        for account, region in known
    ]
    return sorted(
        rows, key=lambda h: (h.failing is None, h.incomplete is None, h.account_id, h.region)
    )


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the overview shows but the chart."""

    total: Total
    by_account: list[Total]
    by_type: list[Total]
    by_owner: list[Total]
    more_owners: int
    health: list[Health]
    failures: list[str]
    started_at: datetime


def overview(snapshot: Snapshot) -> Overview:
    """Totals and breakdowns of a snapshot (computed once per snapshot by the caller)."""
    entries = snapshot.entries
    owners = _totals((owner_of(e.item), e) for e in entries)
    rows = health(snapshot)
    total = _totals(("all", e) for e in entries)
    duration = float(snapshot.stats.get("duration_seconds") or 0.0)
    return Overview(
        total=total[0] if total else Total("all", 0, 0.0, 0),
        by_account=_totals((e.key.account_id, e) for e in entries),
        by_type=_totals((e.key.resource_type, e) for e in entries),
        by_owner=owners[:TOP_OWNERS],
        more_owners=max(0, len(owners) - TOP_OWNERS),
        health=rows,
        failures=[
            str(error.get("reason"))
            for error in snapshot.errors
            if not (error.get("account_id") and error.get("region"))
        ],
        started_at=snapshot.generated_at - timedelta(seconds=duration),
    )


def next_scan(started_at: datetime, interval_seconds: float | None, now: datetime) -> str | None:
    """When the next scan starts (scans run start to start), as text; None without a schedule."""
    if not interval_seconds:
        return None
    due = started_at + timedelta(seconds=interval_seconds)
    if due <= now:
        return "now (a scan is running or about to start)"
    wait = duration_text((due - now).total_seconds())
    return f"{due.astimezone(UTC):%Y-%m-%d %H:%M} UTC (in {wait})"


def duration_text(seconds: float) -> str:
    """3 d 4 h, 5 h 12 min, 12 min, 40 s."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"
