"""boto3's paginator pages through the emulator: every event once, newest first, filtered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest

from emulator import Running
from tests.conftest import ACCOUNT_A
from tests.emulator.api.emulator_clients import client, event_time, matches


def _pages(running: Running, region: str = "us-east-1", **kwargs: Any) -> list[dict[str, Any]]:
    cloudtrail = client("cloudtrail", running.endpoint_url, region)
    paginator = cloudtrail.get_paginator("lookup_events")
    return [event for page in paginator.paginate(**kwargs) for event in page["Events"]]


def _mine(history: list[dict[str, Any]], account: str, region: str) -> list[dict[str, Any]]:
    return [r for r in history if r["recipientAccountId"] == account and r["awsRegion"] == region]


def _assert_newest_first(events: list[dict[str, Any]]) -> None:
    times = [event["EventTime"] for event in events]
    assert times == sorted(times, reverse=True)
    assert len({event["EventId"] for event in events}) == len(events)


@pytest.mark.parametrize("page_size", [None, 7, 50])
def test_paginator_returns_every_event_newest_first(
    emulator_thread: Running, emulator_history: list[dict[str, Any]], page_size: int | None
) -> None:
    config: dict[str, Any] = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}
    events = _pages(emulator_thread, **config)
    expected = _mine(emulator_history, ACCOUNT_A, "us-east-1")
    assert sorted(e["EventId"] for e in events) == sorted(r["eventID"] for r in expected)
    _assert_newest_first(events)


def test_event_fields_are_derived_from_the_record(
    emulator_thread: Running, emulator_history: list[dict[str, Any]]
) -> None:
    by_id = {r["eventID"]: r for r in emulator_history}
    for event in _pages(emulator_thread):
        record = by_id[event["EventId"]]
        assert orjson.loads(event["CloudTrailEvent"]) == record
        assert event["EventName"] == record["eventName"]
        assert event["EventSource"] == record["eventSource"]
        assert event["ReadOnly"] == str(record["readOnly"]).lower()
        assert event["AccessKeyId"] == record["userIdentity"]["accessKeyId"]
        assert event["EventTime"] == event_time(record)
        if record["userIdentity"]["type"] == "AssumedRole":
            assert event["Username"] == "ci-run"
        else:
            assert event["Username"] == record["userIdentity"]["userName"]
        expected = [
            {"ResourceType": r["type"], "ResourceName": r["ARN"]}
            for r in record.get("resources", [])
        ]
        assert event["Resources"] == expected


ATTRIBUTES = [
    ("EventName", "RunInstances"),
    ("EventName", "NoSuchCall"),
    ("EventSource", "s3.amazonaws.com"),
    ("ReadOnly", "true"),
    ("ReadOnly", "false"),
    ("Username", "alice"),
    ("Username", "ci-run"),
    ("ResourceType", "AWS::EC2::Instance"),
    ("ResourceName", "i-00000000000000003"),
    ("AccessKeyId", "AKIABBBBBBBBBBBBBBBB"),
]


@pytest.mark.parametrize(("key", "value"), ATTRIBUTES)
def test_each_attribute_filters_like_the_service(
    emulator_thread: Running, emulator_history: list[dict[str, Any]], key: str, value: str
) -> None:
    events = _pages(
        emulator_thread,
        LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}],
        PaginationConfig={"PageSize": 10},
    )
    mine = _mine(emulator_history, ACCOUNT_A, "us-east-1")
    expected = {r["eventID"] for r in mine if matches(r, key, value)}
    assert {e["EventId"] for e in events} == expected
    assert len(events) == len(expected)
    _assert_newest_first(events)


def test_event_id_and_resource_arn_lookups(
    emulator_thread: Running, emulator_history: list[dict[str, Any]]
) -> None:
    mine = _mine(emulator_history, ACCOUNT_A, "us-east-1")
    target = next(r for r in mine if r.get("resources"))
    by_id = _pages(
        emulator_thread,
        LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": target["eventID"]}],
    )
    assert [e["EventId"] for e in by_id] == [target["eventID"]]
    arn = target["resources"][0]["ARN"]
    by_arn = _pages(
        emulator_thread, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}]
    )
    assert {e["EventId"] for e in by_arn} == {
        r["eventID"] for r in mine if matches(r, "ResourceName", arn)
    }
    other_region = _pages(
        emulator_thread,
        region="eu-west-1",
        LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": target["eventID"]}],
    )
    assert other_region == []


def test_time_range_is_inclusive(
    emulator_thread: Running, emulator_history: list[dict[str, Any]]
) -> None:
    mine = _mine(emulator_history, ACCOUNT_A, "us-east-1")
    times = sorted({event_time(r) for r in mine})
    start, end = times[3], times[10]
    events = _pages(emulator_thread, StartTime=start, EndTime=end)
    expected = {r["eventID"] for r in mine if start <= event_time(r) <= end}
    assert {e["EventId"] for e in events} == expected
    exact = _pages(emulator_thread, StartTime=start, EndTime=start)
    assert {e["EventId"] for e in exact} == {r["eventID"] for r in mine if event_time(r) == start}
    assert exact


def test_time_range_combines_with_an_attribute(
    emulator_thread: Running, emulator_history: list[dict[str, Any]]
) -> None:
    mine = _mine(emulator_history, ACCOUNT_A, "us-east-1")
    times = sorted({event_time(r) for r in mine})
    start, end = times[5], times[-5] - timedelta(seconds=1)
    events = _pages(
        emulator_thread,
        StartTime=start,
        EndTime=end,
        LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}],
        PaginationConfig={"PageSize": 3},
    )
    expected = {
        r["eventID"] for r in mine if start <= event_time(r) <= end and r["readOnly"] is False
    }
    assert {e["EventId"] for e in events} == expected
    _assert_newest_first(events)


def test_default_page_is_fifty(emulator_thread: Running) -> None:
    cloudtrail = client("cloudtrail", emulator_thread.endpoint_url)
    page = cloudtrail.lookup_events()
    assert len(page["Events"]) == 50
    assert page["NextToken"]
