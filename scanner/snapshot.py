"""The immutable view of the last finished scan that the HTTP handlers and metrics read.

The service builds a new `Snapshot` after each scan (`scanner.rebuild`) and swaps it in whole;
readers never see a half-built one. It holds the leftovers as report entries (JSON contract
items), the would-be leftovers of the regions not read in full (`incomplete`, not counted in the
metrics), every known lifecycle (for `/resources/...`), and the metric values, already aggregated
by label set.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanner.lifecycle import Lifecycle, ResourceKey
from scanner.report import Leftover, Unread
from scanner.store import CounterValue

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
    incomplete_regions: Mapping[tuple[str, str], float] = field(default_factory=dict)
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
    incomplete: tuple[Entry, ...] = ()
    #: Leftovers an ignore rule matched (`ignored_reason` in their item): in no count or metric.
    ignored: tuple[Entry, ...] = ()
    unread: Unread = field(default_factory=dict)
    fact_mark: int = 0  # the newest stored fact the lifecycles include
    #: (account, region, type) of every catalog type with a lifecycle (its 0 series), and the
    #: lifecycles created by a rename (whose leftover depends on another lifecycle).
    types_seen: frozenset[tuple[str, str, str]] = frozenset()
    renamed: frozenset[ResourceKey] = frozenset()
    #: The leftovers a live check found gone, their items with the reason (kept whole for the
    #: next snapshot), and those items as `/results` lists them (None: no checks ran).
    gone: tuple[Entry, ...] = ()
    verified_gone: tuple[Mapping[str, Any], ...] | None = None


def metric_values(
    *,
    entries: Sequence[Entry],
    lifecycles: Iterable[Lifecycle] = (),
    types_seen: Iterable[tuple[str, str, str]] = (),
    services: Mapping[str, str],
    default_states: Mapping[str, str],
    counters: Iterable[CounterValue],
    last_success: Mapping[tuple[str, str], datetime | None],
    regions: Iterable[tuple[str, str]],
    scan_duration_seconds: float | None,
    unread: Iterable[tuple[str, str]] = (),
) -> MetricValues:
    """Aggregate the metric values; series that make sense at 0 are created at 0.

    `resources` has a 0 series (default state) for each type with a lifecycle (or in
    `types_seen`) in an (account, region), so that a count going to zero stays visible; lookups
    and errors have every outcome and reason at 0 for each known (account, region);
    `incomplete_regions` is 1 for the `unread` ones.
    """
    resources: Counter[tuple[str, str, str, str, str]] = Counter()
    seen = {(lc.key.account_id, lc.key.region, lc.key.resource_type) for lc in lifecycles}
    for account, region, resource_type in seen | set(types_seen):
        service = services.get(resource_type, resource_type.split(".")[0])
        state = default_states.get(resource_type, "available")
        resources[(account, region, service, resource_type, state)] += 0
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
    unread = set(unread)
    for counter in counters:
        known.add((counter.account_id, counter.region))
    known |= unread
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
        incomplete_regions={where: float(where in unread) for where in known},
        scan_duration_seconds=scan_duration_seconds,
    )
