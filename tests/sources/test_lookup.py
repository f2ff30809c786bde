"""LookupEvents answers to source pages, and SDK errors to retry decisions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from scanner.sources.lookup import classify, parse_page


def event(
    event_id: str, name: str, when: datetime, source: str = "ec2.amazonaws.com"
) -> dict[str, Any]:
    body = {
        "eventID": event_id,
        "eventName": name,
        "eventSource": source,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "awsRegion": "eu-west-1",
        "recipientAccountId": "111111111111",
    }
    return {
        "EventId": event_id,
        "EventName": name,
        "EventSource": source,
        "EventTime": when,
        "CloudTrailEvent": json.dumps(body),
    }


def test_page_counts_every_event_and_parses_only_watched_ones() -> None:
    answer = {
        "Events": [
            event("a", "RunInstances", datetime(2025, 1, 3, tzinfo=UTC)),
            event("b", "CreateTags", datetime(2025, 1, 2, tzinfo=UTC)),
            event("c", "TerminateInstances", datetime(2025, 1, 1, tzinfo=UTC)),
        ],
        "NextToken": "t1",
    }
    fetched = parse_page(answer, lambda source, name: name != "CreateTags")
    assert fetched.events_read == 3
    assert [r.event_id for r in fetched.records] == ["a", "c"]
    assert fetched.oldest == datetime(2025, 1, 1, tzinfo=UTC)
    assert fetched.next_token == "t1"
    assert fetched.records[0].region == "eu-west-1"


def test_empty_page() -> None:
    fetched = parse_page({"Events": []}, lambda source, name: True)
    assert (fetched.events_read, fetched.oldest, fetched.next_token) == (0, None, None)


def client_error(code: str, status: int, message: str = "nope") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "RequestId": "r1",
                "HostId": "",
                "HTTPStatusCode": status,
                "HTTPHeaders": {},
                "RetryAttempts": 0,
            },
        },
        "LookupEvents",
    )


def test_errors_are_classified() -> None:
    assert classify(client_error("ThrottlingException", 400)).kind == "throttled"
    assert classify(client_error("InvalidNextTokenException", 400)).kind == "invalid_token"
    assert classify(client_error("InternalFailure", 500)).kind == "transient"
    assert classify(client_error("ServiceUnavailable", 503)).kind == "transient"
    denied = classify(client_error("AccessDeniedException", 400, "not allowed\nsecond line"))
    assert denied.kind == "fatal"
    assert denied.reason.startswith("AccessDeniedException: not allowed")
    assert "\n" not in denied.reason
    assert classify(EndpointConnectionError(endpoint_url="http://x")).kind == "transient"
    assert classify(aiohttp.ServerDisconnectedError()).kind == "transient"
    assert classify(NoCredentialsError()).kind == "fatal"
    assert classify(ValueError("odd")).kind == "fatal"


@pytest.mark.parametrize(
    ("error", "category"),
    [
        (client_error("ThrottlingException", 400), "throttled"),
        (client_error("TooManyRequestsException", 429), "throttled"),
        (client_error("AccessDeniedException", 400, "User is not authorized"), "access_denied"),
        (client_error("ExpiredTokenException", 400, "The token is expired"), "access_denied"),
        (client_error("UnrecognizedClientException", 400), "access_denied"),
        (NoCredentialsError(), "access_denied"),
        (client_error("InternalFailure", 500), "unavailable"),
        (client_error("ServiceUnavailable", 503), "unavailable"),
        (EndpointConnectionError(endpoint_url="http://x"), "unavailable"),
        (aiohttp.ServerDisconnectedError(), "unavailable"),
        (ReadTimeoutError(endpoint_url="http://x"), "timeout"),
        (ConnectTimeoutError(endpoint_url="http://x"), "timeout"),
        (TimeoutError(), "timeout"),
        (client_error("InvalidNextTokenException", 400), "other"),
        (client_error("ValidationException", 400, "connect endpoint timeout"), "other"),
        (ValueError("odd"), "other"),
    ],
)
def test_errors_carry_a_fixed_category(error: Exception, category: str) -> None:
    """The category comes from the error itself, not from words in its message."""
    assert classify(error).category == category
