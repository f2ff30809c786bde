"""The immutable view of the last finished scan that the HTTP handlers and metrics read.

The service builds a new `Snapshot` after each scan and swaps it in whole; readers never see a
half-built one. It holds the leftovers as report entries (JSON contract items), every known
lifecycle (for `/resources/...`), and the metric values, already aggregated by label set.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scanner.catalog import Catalog
from scanner.lifecycle import Lifecycle, ResourceKey
from scanner.pages import ScanStats
from scanner.plan import Slice
from scanner.report import Leftover, ReportFilter, build_report
from scanner.settings import Settings
from scanner.store import CounterValue, Store
from scanner.verify import Verdict

#: The outcomes of a lookup request, each created at 0 for every known (account, region).
LOOKUP_OUTCOMES = ("ok", "throttled", "error")
#: The fixed categories of an error in a scan (`store`: the state file failed); never error text.
ERROR_REASONS = ("throttled", "access_denied", "unavailable", "timeout", "store", "other")


@dataclass(frozen=True, slots=True)
class Entry:
    """One leftover: the report's line, and its JSON contract item as of the snapshot."""

    leftover: Leftover
    item: Mapping[str, Any]

    @property
    def key(self) -> ResourceKey:
        return self.leftover.key

    @property
    def service(self) -> str:
        return self.leftover.service

    @property
    def created_at(self) -> datetime:
        return self.leftover.created_at

    @property
    def hourly_cost(self) -> float | None:
        return self.leftover.hourly_cost

    @property
    def sort_key(self) -> tuple[str, str, str, str]:
        """The stable order of `/results` (and of its cursor)."""
        key = self.leftover.key
        return (key.account_id, key.region, key.resource_type, key.resource_id)


@dataclass(frozen=True, slots=True)
class MetricValues:
    """Every metric's value per label set, aggregated once when the snapshot is built."""

    resources: Mapping[tuple[str, str, str, str, str], int] = field(default_factory=dict)
    hourly_cost: Mapping[tuple[str, str, str, str], float] = field(default_factory=dict)
    oldest_created: Mapping[tuple[str, str, str, str], float] = field(default_factory=dict)
    lookup_requests: Mapping[tuple[str, str, str], float] = field(default_factory=dict)
    events: Mapping[tuple[str, str], float] = field(default_factory=dict)
    scan_errors: Mapping[tuple[str, str, str], float] = field(default_factory=dict)
    last_success: Mapping[tuple[str, str], float] = field(default_factory=dict)
    scan_duration_seconds: float | None = None
    #: Live checks since the service started, by outcome (each created at 0).
    verifications: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the last finished scan left: leftovers, lifecycles, report parts and metric values."""

    generated_at: datetime
    window_start: datetime
    window_end: datetime
    entries: tuple[Entry, ...]
    lifecycles: Mapping[ResourceKey, Lifecycle]
    services: Mapping[str, str]
    errors: tuple[Mapping[str, Any], ...]
    stats: Mapping[str, Any]
    metrics: MetricValues
    scan_id: int = 0
    outcome: str = "ok"
    #: The leftovers a live check found gone (JSON items with their reason); None: no checks.
    verified_gone: tuple[Mapping[str, Any], ...] | None = None


def metric_values(
    *,
    entries: Sequence[Entry],
    lifecycles: Iterable[Lifecycle],
    services: Mapping[str, str],
    default_states: Mapping[str, str],
    counters: Iterable[CounterValue],
    last_success: Mapping[tuple[str, str], datetime | None],
    regions: Iterable[tuple[str, str]],
    scan_duration_seconds: float | None,
) -> MetricValues:
    """Aggregate the metric values; series that make sense at 0 are created at 0.

    `resources` has a 0 series (default state) for each type ever seen in an (account, region),
    so that a count going to zero stays visible; lookups and errors have every outcome and reason
    at 0 for each known (account, region).
    """
    resources: Counter[tuple[str, str, str, str, str]] = Counter()
    for lifecycle in lifecycles:
        key = lifecycle.key
        service = services.get(key.resource_type, key.resource_type.split(".")[0])
        state = default_states.get(key.resource_type, "available")
        resources[(key.account_id, key.region, service, key.resource_type, state)] += 0
    cost: defaultdict[tuple[str, str, str, str], float] = defaultdict(float)
    oldest: dict[tuple[str, str, str, str], float] = {}
    for entry in entries:
        key = entry.key
        state = str(entry.item.get("state") or "unknown")
        resources[(key.account_id, key.region, entry.service, key.resource_type, state)] += 1
        group = (key.account_id, key.region, entry.service, key.resource_type)
        if entry.hourly_cost is not None:
            cost[group] += entry.hourly_cost
        created = entry.created_at.timestamp()
        oldest[group] = min(oldest.get(group, created), created)
    known = set(regions) | set(last_success)
    lookups: dict[tuple[str, str, str], float] = {}
    events: dict[tuple[str, str], float] = {}
    errors: dict[tuple[str, str, str], float] = {}
    for counter in counters:
        known.add((counter.account_id, counter.region))
    for account, region in known:
        events[(account, region)] = 0.0
        for outcome in LOOKUP_OUTCOMES:
            lookups[(account, region, outcome)] = 0.0
        for reason in ERROR_REASONS:
            errors[(account, region, reason)] = 0.0
    for counter in counters:
        where = (counter.account_id, counter.region)
        if counter.name == "lookup_requests":
            lookups[(*where, counter.label)] = counter.value
        elif counter.name == "events":
            events[where] = events.get(where, 0.0) + counter.value
        elif counter.name == "scan_errors":
            errors[(*where, counter.label)] = counter.value
    return MetricValues(
        resources=dict(resources),
        hourly_cost=dict(cost),
        oldest_created=oldest,
        lookup_requests=lookups,
        events=events,
        scan_errors=errors,
        last_success={
            where: when.timestamp() if when else 0.0 for where, when in last_success.items()
        }
        | {where: 0.0 for where in known if where not in last_success},
        scan_duration_seconds=scan_duration_seconds,
    )


async def build_snapshot(
    store: Store,
    catalog: Catalog,
    settings: Settings,
    now: datetime,
    regions: Iterable[tuple[str, str]] = (),
    *,
    verdicts: Mapping[ResourceKey, Verdict] | None = None,
) -> Snapshot | None:
    """The snapshot of the store after its last finished scan (None if no scan ever finished),
    with the live checks' `verdicts` applied when given."""
    last = await store.last_finished_scan()
    if last is None:
        return None
    lifecycles = {lc.key: lc for lc in await store.lifecycles()}
    finished = last.finished_at or now
    window = Slice(finished - timedelta(days=settings.lookback_days), finished)
    only = ReportFilter.of(created_by=[settings.user_name]) if settings.user_name else None
    report = build_report(lifecycles, catalog, window, generated_at=now, only=only)
    if verdicts is not None:
        report = report.verified(verdicts)
    entries = sorted(
        (Entry(item, item.to_json(now)) for item in report.leftovers), key=lambda e: e.sort_key
    )
    states = await store.regions()
    services = {name: t.service for name, t in catalog.types.items()}
    values = metric_values(
        entries=entries,
        lifecycles=[lc for lc in lifecycles.values() if lc.key.resource_type in catalog.types],
        services=services,
        default_states={name: t.default_state for name, t in catalog.types.items()},
        counters=await store.counters(),
        last_success={where: state.last_success for where, state in states.items()},
        regions=regions,
        scan_duration_seconds=(finished - last.started_at).total_seconds(),
    )
    return Snapshot(
        generated_at=finished,
        window_start=window.start,
        window_end=window.end,
        entries=tuple(entries),
        lifecycles=lifecycles,
        services=services,
        errors=tuple(last.errors),
        stats={**asdict(ScanStats(0, 0, 0, 0, 0.0)), **last.stats},
        metrics=values,
        scan_id=last.scan_id,
        outcome=last.outcome or "unknown",
        verified_gone=None if (gone := report.verified_gone_json()) is None else tuple(gone),
    )
