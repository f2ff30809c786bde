"""The report: the JSON contract, ages from generated_at, renames, filters, cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from scanner.catalog import load_catalog
from scanner.lifecycle import Actor, Change, Fact, ResourceKey
from scanner.pages import ScanStats, StreamFailure
from scanner.pairing import pair
from scanner.plan import Slice
from scanner.report import Report, ReportFilter, build_report

NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
WINDOW = Slice(NOW - timedelta(days=90), NOW)
ALICE = Actor("arn:aws:iam::111111111111:user/alice", "alice", "203.0.113.9", "console")
BOB = Actor("arn:aws:sts::111111111111:assumed-role/Deployer/bob", None, "198.51.100.1", "cli")

LEFTOVER_KEYS = {
    "account_id", "region", "service", "resource_type", "resource_id", "arn", "name", "state",
    "created_at", "created_by", "create_event_id", "created_via", "tags", "age_seconds",
    "attributes", "console_url", "estimated_hourly_cost",
}  # fmt: skip


def key(kind: str, rid: str, region: str = "us-east-1") -> ResourceKey:
    return ResourceKey("111111111111", region, kind, rid)


def facts() -> list[Fact]:
    day = timedelta(days=1)
    return [
        Fact(
            key("ec2.instance", "i-0aaa"), Change.CREATE, NOW - 3 * day, "e1", "RunInstances",
            ALICE, attributes=(("instance_type", "t3.micro"),),
        ),
        Fact(key("ec2.instance", "i-0aaa"), Change.STATE, NOW - 2 * day, "e2", "StopInstances",
             ALICE, state="stopped"),
        Fact(key("ec2.instance", "i-0bbb"), Change.CREATE, NOW - 3 * day, "e3", "RunInstances",
             BOB),
        Fact(key("ec2.instance", "i-0bbb"), Change.DELETE, NOW - day, "e4", "TerminateInstances",
             BOB),
        Fact(
            key("rds.db_instance", "db-new", "eu-west-1"), Change.CREATE, NOW - 1 * day, "e6",
            "ModifyDBInstance", BOB, name="db-new",
            renamed_from=key("rds.db_instance", "db-old", "eu-west-1"),
        ),
        Fact(key("rds.db_instance", "db-old", "eu-west-1"), Change.CREATE, NOW - 10 * day, "e5",
             "CreateDBInstance", ALICE, name="db-old",
             attributes=(("db_class", "db.r5.large"), ("engine", "mysql"))),
        Fact(key("rds.db_instance", "db-old", "eu-west-1"), Change.DELETE, NOW - 1 * day, "e6",
             "ModifyDBInstance", BOB),
    ]  # fmt: skip


def report() -> Report:
    return build_report(
        pair(facts()),
        load_catalog(),
        WINDOW,
        failures=[StreamFailure("111111111111", "ap-south-1", "read_only=false", "down")],
        stats=ScanStats(12, 1, 600, 7, 3.5),
        generated_at=NOW,
    )


def test_json_contract() -> None:
    document = orjson.loads(orjson.dumps(report().to_json()))
    assert set(document) == {
        "generated_at",
        "window",
        "leftovers",
        "incomplete",
        "incomplete_regions",
        "ignored",
        "errors",
        "stats",
    }
    assert document["incomplete_regions"] == [
        {"account_id": "111111111111", "region": "ap-south-1", "reason": "not read in full: down"}
    ]
    assert document["generated_at"] == "2025-06-01T12:00:00Z"
    assert document["window"] == {"start": "2025-03-03T12:00:00Z", "end": "2025-06-01T12:00:00Z"}
    assert document["errors"] == [
        {
            "account_id": "111111111111",
            "region": "ap-south-1",
            "stream": "read_only=false",
            "reason": "down",
            "count": 1,
        }
    ]
    assert document["stats"] == {
        "api_calls": 12,
        "throttled": 1,
        "events_read": 600,
        "events_matched": 7,
        "duration_seconds": 3.5,
        "hedged": 0,
        "retried": 0,
    }
    ids = [item["resource_id"] for item in document["leftovers"]]
    assert ids == ["db-new", "i-0aaa"]  # the terminated one and the renamed-away name are gone
    for item in document["leftovers"]:
        assert set(item) == LEFTOVER_KEYS
        assert set(item["created_by"]) == {"arn", "user_name", "source_ip", "user_agent"}


def test_leftover_fields() -> None:
    document = report().to_json()
    database, instance = document["leftovers"]
    assert instance["state"] == "stopped"
    assert instance["service"] == "ec2"
    assert instance["created_at"] == "2025-05-29T12:00:00Z"
    assert instance["age_seconds"] == 3 * 86400
    assert instance["created_by"] == {
        "arn": ALICE.arn,
        "user_name": "alice",
        "source_ip": "203.0.113.9",
        "user_agent": "console",
    }
    assert instance["create_event_id"] == "e1"
    assert "i-0aaa" in instance["console_url"]
    assert instance["attributes"] == {"instance_type": "t3.micro"}
    assert instance["estimated_hourly_cost"] == pytest.approx(0.0104, abs=0.01)
    # A rename keeps its first creation: when, by whom, and its attributes.
    assert database["region"] == "eu-west-1"
    assert database["created_by"]["user_name"] == "alice"
    assert database["created_at"] == "2025-05-22T12:00:00Z"
    assert database["create_event_id"] == "e5"
    assert database["attributes"]["db_class"] == "db.r5.large"
    assert database["name"] == "db-new"
    assert "db-new" in database["console_url"]


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (ReportFilter.of(), ["db-new", "i-0aaa"]),
        (ReportFilter.of(regions=["eu-west-1"]), ["db-new"]),
        (ReportFilter.of(services=["ec2"]), ["i-0aaa"]),
        (ReportFilter.of(types=["rds.db_instance"]), ["db-new"]),
        (ReportFilter.of(states=["STOPPED"]), ["i-0aaa"]),
        (ReportFilter.of(created_by=["alice"]), ["db-new", "i-0aaa"]),
        (ReportFilter.of(created_by=[BOB.arn or ""]), []),
        (ReportFilter.of(min_age_seconds=5 * 86400), ["db-new"]),
        (ReportFilter.of(accounts=["999999999999"]), []),
    ],
)
def test_filters(chosen: ReportFilter, expected: list[str]) -> None:
    kept = report().filtered(chosen)
    assert [item.key.resource_id for item in kept.leftovers] == expected


def test_created_by_matches_the_session_name_of_a_role() -> None:
    only_bob = [Fact(key("ec2.instance", "i-0ccc"), Change.CREATE, NOW, "e9", "RunInstances", BOB)]
    built = build_report(
        pair(only_bob), load_catalog(), WINDOW, generated_at=NOW,
        only=ReportFilter.of(created_by=["bob"]),
    )  # fmt: skip
    assert [item.key.resource_id for item in built.leftovers] == ["i-0ccc"]
