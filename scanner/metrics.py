"""Prometheus metrics: a collector over the last finished snapshot, in its own registry.

`collect()` only reads the snapshot's precomputed values (no store or network calls). Labels
never carry resource ids or error texts: those belong to `/results`. Sample output::

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
    # HELP leftovers_scan_duration_seconds Duration of the last finished scan.
    # TYPE leftovers_scan_duration_seconds gauge
    leftovers_scan_duration_seconds 3.2
    # HELP leftovers_verifications_total Live checks of leftovers since the service started, by outcome.
    # TYPE leftovers_verifications_total counter
    leftovers_verifications_total{outcome="gone"} 4.0
"""

# ruff: noqa: E501 -- the docstring quotes real exposition lines, which are long by nature

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scanner.snapshot import Snapshot

_WHERE = ["account_id", "region"]
_TYPE = [*_WHERE, "service", "resource_type"]


class SnapshotCollector(Collector):
    """Turns the current snapshot's metric values into metric families."""

    def __init__(self, current: Callable[[], Snapshot | None]) -> None:
        self._current = current

    def collect(self) -> Iterator[Metric]:
        """Yield every family; before the first scan only the families, without samples."""
        snapshot = self._current()
        values = snapshot.metrics if snapshot else None

        resources = GaugeMetricFamily(
            "leftovers_resources",
            "Resources created and never deleted, by where, type and state.",
            labels=[*_TYPE, "state"],
        )
        cost = GaugeMetricFamily(
            "leftovers_estimated_hourly_cost_usd",
            "Estimated hourly cost in USD of leftovers with a known price.",
            labels=_TYPE,
        )
        oldest = GaugeMetricFamily(
            "leftovers_oldest_leftover_created_timestamp_seconds",
            "Creation time (Unix seconds) of the oldest leftover of this type.",
            labels=_TYPE,
        )
        lookups = CounterMetricFamily(
            "leftovers_lookup_requests",
            "CloudTrail LookupEvents requests, by outcome (ok, throttled, error).",
            labels=[*_WHERE, "outcome"],
        )
        events = CounterMetricFamily(
            "leftovers_events", "CloudTrail events read from event history.", labels=_WHERE
        )
        errors = CounterMetricFamily(
            "leftovers_scan_errors",
            "Streams that failed in a scan, by reason category.",
            labels=[*_WHERE, "reason"],
        )
        success = GaugeMetricFamily(
            "leftovers_last_success_timestamp_seconds",
            "When a scan of this account and region last succeeded (Unix seconds; 0 never).",
            labels=_WHERE,
        )
        duration = GaugeMetricFamily(
            "leftovers_scan_duration_seconds", "Duration of the last finished scan in seconds."
        )
        verifications = CounterMetricFamily(
            "leftovers_verifications",
            "Live checks of leftovers since the service started, by outcome (present, gone, "
            "unknown); none when verification is off.",
            labels=["outcome"],
        )
        if values is not None:
            for labels, count in sorted(values.resources.items()):
                resources.add_metric(list(labels), count)
            for group, dollars in sorted(values.hourly_cost.items()):
                cost.add_metric(list(group), round(dollars, 6))
            for group, when in sorted(values.oldest_created.items()):
                oldest.add_metric(list(group), when)
            for outcome, value in sorted(values.lookup_requests.items()):
                lookups.add_metric(list(outcome), value)
            for where, value in sorted(values.events.items()):
                events.add_metric(list(where), value)
            for reason, value in sorted(values.scan_errors.items()):
                errors.add_metric(list(reason), value)
            for where, when in sorted(values.last_success.items()):
                success.add_metric(list(where), when)
            if values.scan_duration_seconds is not None:
                duration.add_metric([], values.scan_duration_seconds)
            for verdict, value in sorted(values.verifications.items()):
                verifications.add_metric([verdict], value)
        yield from (
            resources,
            cost,
            oldest,
            lookups,
            events,
            errors,
            success,
            duration,
            verifications,
        )


def build_registry(current: Callable[[], Snapshot | None]) -> CollectorRegistry:
    """A registry of our own (never the global one) holding the snapshot collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(current))
    return registry
