"""Hand-built snapshots for the web and metrics tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scanner.lifecycle import Actor, Change, Fact, Lifecycle, ResourceKey
from scanner.report import Leftover
from scanner.snapshot import Entry, Snapshot, metric_values
from scanner.store import CounterValue

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
SERVICES = {"ec2.volume": "ec2", "ec2.nat_gateway": "ec2", "rds.db_instance": "rds"}
DEFAULT_STATES = {"ec2.volume": "available", "ec2.nat_gateway": "available"}
ALICE = Actor("arn:aws:iam::111111111111:user/alice", "alice", "10.0.0.1", "aws-cli/2")
BOB = Actor("arn:aws:sts::222222222222:assumed-role/deploy/bob", "bob", None, None)


def created(key: ResourceKey, hours_ago: float, actor: Actor, event_id: str) -> Fact:
    return Fact(key, Change.CREATE, NOW - timedelta(hours=hours_ago), event_id, "Create", actor)


def entry(fact: Fact, state: str, cost: float | None) -> Entry:
    key = fact.key
    leftover = Leftover(
        key=key,
        service=SERVICES[key.resource_type],
        title=key.resource_type,
        arn=None,
        name=None,
        state=state,
        created_at=fact.time,
        created_by=fact.actor,
        create_event_id=fact.event_id,
        attributes=(),
        display=(),
        console_url=f"https://console.example/{key.resource_id}",
        hourly_cost=cost,
    )
    return Entry(leftover, leftover.to_json(NOW))


def build() -> Snapshot:
    facts = [
        created(ResourceKey("111111111111", "eu-west-1", "ec2.volume", "vol-1"), 30, ALICE, "e1"),
        created(ResourceKey("111111111111", "eu-west-1", "ec2.volume", "vol-2"), 2, ALICE, "e2"),
        created(
            ResourceKey("111111111111", "us-east-1", "ec2.nat_gateway", "nat-1"), 50, BOB, "e3"
        ),
        created(ResourceKey("222222222222", "eu-west-1", "rds.db_instance", "db/a"), 5, BOB, "e4"),
    ]
    gone = created(ResourceKey("111111111111", "eu-west-1", "ec2.volume", "vol-9"), 9, BOB, "e5")
    deleted = Fact(gone.key, Change.DELETE, NOW, "e6", "DeleteVolume", BOB)
    entries = (
        entry(facts[0], "available", 0.01),
        entry(facts[1], "in-use", 0.02),
        entry(facts[2], "available", 0.045),
        entry(facts[3], "stopped", None),
    )
    lifecycles = {f.key: Lifecycle(f.key, created=f) for f in facts}
    lifecycles[gone.key] = Lifecycle(gone.key, created=gone, deleted=deleted)
    counters = [
        CounterValue("lookup_requests", "111111111111", "eu-west-1", "ok", 7),
        CounterValue("lookup_requests", "111111111111", "eu-west-1", "throttled", 2),
        CounterValue("events", "111111111111", "eu-west-1", "", 120),
        CounterValue("scan_errors", "222222222222", "eu-west-1", "access_denied", 1),
    ]
    regions = [
        ("111111111111", "eu-west-1"),
        ("111111111111", "us-east-1"),
        ("222222222222", "eu-west-1"),
    ]
    values = metric_values(
        entries=entries,
        lifecycles=lifecycles.values(),
        services=SERVICES,
        default_states=DEFAULT_STATES,
        counters=counters,
        last_success={("111111111111", "eu-west-1"): NOW, ("111111111111", "us-east-1"): NOW},
        regions=regions,
        scan_duration_seconds=1.5,
    )
    return Snapshot(
        generated_at=NOW,
        window_start=NOW - timedelta(days=90),
        window_end=NOW,
        entries=tuple(sorted(entries, key=lambda e: e.sort_key)),
        lifecycles=lifecycles,
        services=SERVICES,
        errors=(
            {
                "account_id": "222222222222",
                "region": "eu-west-1",
                "stream": "x",
                "reason": "access_denied",
            },
        ),
        stats={
            "api_calls": 9,
            "throttled": 2,
            "events_read": 120,
            "events_matched": 4,
            "duration_seconds": 1.5,
        },
        metrics=values,
    )
