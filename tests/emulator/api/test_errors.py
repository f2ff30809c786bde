"""Each refusal of LookupEvents reaches botocore as the exception class the model names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import botocore
import pytest
from botocore.config import Config

from emulator import Running
from tests.conftest import EMULATOR_NOW
from tests.emulator.api.emulator_clients import NO_RETRIES, client

UNVALIDATED = Config(retries={"total_max_attempts": 1}, parameter_validation=False)


def _cloudtrail(running: Running, config: Config = NO_RETRIES) -> Any:
    return client("cloudtrail", running.endpoint_url, config=config)


@pytest.mark.parametrize(
    ("attributes", "why"),
    [
        (
            [
                {"AttributeKey": "EventName", "AttributeValue": "RunInstances"},
                {"AttributeKey": "ReadOnly", "AttributeValue": "false"},
            ],
            "two attributes",
        ),
        ([{"AttributeKey": "Region", "AttributeValue": "us-east-1"}], "unknown key"),
        ([{"AttributeKey": "EventName", "AttributeValue": ""}], "empty value"),
    ],
)
def test_invalid_lookup_attributes(
    emulator_thread: Running, attributes: list[dict[str, str]], why: str
) -> None:
    cloudtrail = _cloudtrail(emulator_thread, UNVALIDATED)
    with pytest.raises(cloudtrail.exceptions.InvalidLookupAttributesException):
        cloudtrail.lookup_events(LookupAttributes=attributes)


def test_start_after_end_is_an_invalid_time_range(emulator_thread: Running) -> None:
    cloudtrail = _cloudtrail(emulator_thread)
    with pytest.raises(cloudtrail.exceptions.InvalidTimeRangeException):
        cloudtrail.lookup_events(StartTime=EMULATOR_NOW, EndTime=EMULATOR_NOW - timedelta(1))


@pytest.mark.parametrize("max_results", [0, 51, -3])
def test_max_results_outside_1_to_50(emulator_thread: Running, max_results: int) -> None:
    cloudtrail = _cloudtrail(emulator_thread, UNVALIDATED)
    with pytest.raises(cloudtrail.exceptions.InvalidMaxResultsException):
        cloudtrail.lookup_events(MaxResults=max_results)


def test_garbage_next_token(emulator_thread: Running) -> None:
    cloudtrail = _cloudtrail(emulator_thread)
    for token in ("garbage", "AAAA" * 12, "!!"):
        with pytest.raises(cloudtrail.exceptions.InvalidNextTokenException):
            cloudtrail.lookup_events(NextToken=token)


def test_next_token_with_other_parameters(emulator_thread: Running) -> None:
    cloudtrail = _cloudtrail(emulator_thread)
    attribute = [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]
    first = cloudtrail.lookup_events(LookupAttributes=attribute, MaxResults=5)
    token = first["NextToken"]
    again = cloudtrail.lookup_events(LookupAttributes=attribute, MaxResults=5, NextToken=token)
    assert again["Events"]
    other = [{"AttributeKey": "ReadOnly", "AttributeValue": "true"}]
    for kwargs in (
        {"LookupAttributes": other},
        {},
        {"LookupAttributes": attribute, "EndTime": EMULATOR_NOW},
    ):
        with pytest.raises(cloudtrail.exceptions.InvalidNextTokenException):
            cloudtrail.lookup_events(NextToken=token, **kwargs)
    eu = client("cloudtrail", emulator_thread.endpoint_url, "eu-west-1")
    with pytest.raises(eu.exceptions.InvalidNextTokenException):
        eu.lookup_events(LookupAttributes=attribute, NextToken=token)


def test_unknown_event_category(emulator_thread: Running) -> None:
    cloudtrail = _cloudtrail(emulator_thread, UNVALIDATED)
    with pytest.raises(cloudtrail.exceptions.InvalidEventCategoryException):
        cloudtrail.lookup_events(EventCategory="data")
    assert cloudtrail.lookup_events(EventCategory="insight")["Events"] == []


def test_unsigned_request_is_refused(emulator_thread: Running) -> None:
    unsigned = Config(signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1})
    cloudtrail = _cloudtrail(emulator_thread, unsigned)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cloudtrail.lookup_events()
    assert caught.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"


async def test_malformed_authorization_header(emulator: Running) -> None:
    headers = {
        "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=broken",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(emulator.endpoint_url, data=b"{}", headers=headers) as response,
    ):
        body = await response.json(content_type=None)
    assert response.status == 400
    assert body["__type"] == "IncompleteSignatureException"
