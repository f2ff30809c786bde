"""Prometheus metrics: a collector over the last finished snapshot, in its own registry.

`collect()` only reads the snapshot's precomputed values (no store or network calls). Labels
never carry resource ids or error texts: those belong to `/results`. The leftovers of a region
not read in full are not counted (`leftovers_incomplete_regions` says which). Sample output::

    # HELP leftovers_resources Resources created and never deleted, by where, type and state.
    # TYPE leftovers_resources gauge
    leftovers_resources{account_id="111111111111",region="eu-west-1",service="ec2",resource_type="ec2.volume",state="available"} 3.0
    # HELP leftovers_estimated_hourly_cost_usd Estimated hourly cost of leftovers with a known price.
    # TYPE leftovers_estimated_hourly_cost_usd gauge
    leftovers_estimated_hourly_cost_usd{account_id="111111111111",region="eu-west-1",service="ec2",resource_type="ec2.nat_gateway"} 0.045
    # HELP leftovers_oldest_leftover_created_timestamp_seconds Creation time of the oldest leftover.
    # TYPE leftovers_oldest_leftover_created_timestamp_seconds gauge
    leftovers_oldest_leftover_created_timestamp_seconds{account_id="111111111111",region="eu-west-1",service="ec2",resource_type="ec2.volume"} 1.7356896e+09
    # HELP leftovers_lookup_requests_total LookupEvents requests, by outcome.
    # TYPE leftovers_lookup_requests_total counter
    leftovers_lookup_requests_total{account_id="111111111111",region="eu-west-1",outcome="ok"} 42.0
    leftovers_lookup_requests_total{account_id="111111111111",region="eu-west-1",outcome="throttled"} 0.0
    # HELP leftovers_events_total CloudTrail events read.
    # TYPE leftovers_events_total counter
    leftovers_events_total{account_id="111111111111",region="eu-west-1"} 1873.0
    # HELP leftovers_scan_errors_total Streams that failed in a scan, by reason category.
    # TYPE leftovers_scan_errors_total counter
    leftovers_scan_errors_total{account_id="111111111111",region="eu-west-1",reason="throttled"} 0.0
    # HELP leftovers_last_success_timestamp_seconds When a scan of this account and region last succeeded.
    # TYPE leftovers_last_success_timestamp_seconds gauge
    leftovers_last_success_timestamp_seconds{account_id="111111111111",region="eu-west-1"} 1.7357e+09
    # HELP leftovers_incomplete_regions 1 when this account and region's window is not read in full.
    # TYPE leftovers_incomplete_regions gauge
    leftovers_incomplete_regions{account_id="111111111111",region="eu-west-1"} 0.0
    # HELP leftovers_scan_duration_seconds Duration of the last finished scan.
    # TYPE leftovers_scan_duration_seconds gauge
    leftovers_scan_duration_seconds 3.2
    # HELP leftovers_verifications_total Live checks of leftovers since the service started, by outcome.
    # TYPE leftovers_verifications_total counter
    leftovers_verifications_total{outcome="gone"} 4.0
"""

# ruff: noqa: E501 -- the docstring quotes real exposition lines, which are long by nature

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scanner.snapshot import MetricValues, Snapshot

_WHERE = ("account_id", "region")
_TYPE = (*_WHERE, "service", "resource_type")


def _duration(values: MetricValues) -> Mapping[tuple[str, ...], float]:
    seconds = values.scan_duration_seconds
    return {} if seconds is None else {(): seconds}


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: its name, help, kind and labels, and where its values come from."""

    name: str
    help: str
    labels: Sequence[str]
    values: Callable[[MetricValues], Mapping[Any, float]]  # label values -> value
    counter: bool = False
    digits: int | None = None  # round values to this many decimal places

    def of(self, values: MetricValues | None) -> Metric:
        """The family, with one sample per label set in `values` (none before the first scan)."""
        kind = CounterMetricFamily if self.counter else GaugeMetricFamily
        family = kind(self.name, self.help, labels=list(self.labels))
        if values is not None:
            for labels, value in sorted(self.values(values).items()):
                family.add_metric(
                    list(labels), value if self.digits is None else round(value, self.digits)
                )
        return family


FAMILIES = (
    Family(
        "leftovers_resources",
        "Resources created and never deleted, by where, type and state.",
        (*_TYPE, "state"),
        lambda v: v.resources,
    ),
    Family(
        "leftovers_estimated_hourly_cost_usd",
        "Estimated hourly cost in USD of leftovers with a known price.",
        _TYPE,
        lambda v: v.hourly_cost,
        digits=6,
    ),
    Family(
        "leftovers_oldest_leftover_created_timestamp_seconds",
        "Creation time (Unix seconds) of the oldest leftover of this type.",
        _TYPE,
        lambda v: v.oldest_created,
    ),
    Family(
        "leftovers_lookup_requests",
        "CloudTrail LookupEvents requests, by outcome (ok, throttled, error).",
        (*_WHERE, "outcome"),
        lambda v: v.lookup_requests,
        counter=True,
    ),
    Family(
        "leftovers_events",
        "CloudTrail events read from event history.",
        _WHERE,
        lambda v: v.events,
        counter=True,
    ),
    Family(
        "leftovers_scan_errors",
        "Failed LookupEvents calls (retried or not), chains given up and crashed scans, by "
        "reason category.",
        (*_WHERE, "reason"),
        lambda v: v.scan_errors,
        counter=True,
    ),
    Family(
        "leftovers_last_success_timestamp_seconds",
        "When a scan of this account and region last succeeded (Unix seconds; 0 never).",
        _WHERE,
        lambda v: v.last_success,
    ),
    Family(
        "leftovers_incomplete_regions",
        "1 when this account and region's window is not read in full (a first read or a gap "
        "that failed): its resources are not counted as leftovers.",
        _WHERE,
        lambda v: v.incomplete_regions,
    ),
    Family(
        "leftovers_scan_duration_seconds",
        "Duration of the last finished scan in seconds.",
        (),
        _duration,
    ),
    Family(
        "leftovers_verifications",
        "Live checks of leftovers since the service started, by outcome (present, gone, "
        "unknown); none when verification is off.",
        ("outcome",),
        lambda v: {(verdict,): n for verdict, n in v.verifications.items()},
        counter=True,
    ),
)


class SnapshotCollector(Collector):
    """Turns the current snapshot's metric values into metric families."""

    def __init__(self, current: Callable[[], Snapshot | None]) -> None:
        self._current = current

    def collect(self) -> Iterator[Metric]:
        """Yield every family; before the first scan only the families, without samples."""
        snapshot = self._current()
        values = snapshot.metrics if snapshot else None
        for family in FAMILIES:
            yield family.of(values)


def build_registry(current: Callable[[], Snapshot | None]) -> CollectorRegistry:
    """A registry of our own (never the global one) holding the snapshot collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(current))
    return registry
