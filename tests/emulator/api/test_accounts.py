"""STS, Organizations and EC2 on the emulator: the credential flow of org-wide scanning."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import Running
from emulator.api.clock import ManualClock
from tests.conftest import ACCOUNT_A, ACCOUNT_B
from tests.emulator.api.emulator_clients import client


def _assume(running: Running, account: str, duration: int = 3600) -> dict[str, str]:
    sts = client("sts", running.endpoint_url)
    answer = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/LeftoversScanner",
        RoleSessionName="leftovers-scan",
        DurationSeconds=duration,
    )
    assert answer["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{account}:assumed-role/LeftoversScanner/leftovers-scan"
    )
    return dict(answer["Credentials"])


def _ids(running: Running, credentials: dict[str, str] | None, region: str) -> set[str]:
    cloudtrail = client("cloudtrail", running.endpoint_url, region, credentials)
    pages = cloudtrail.get_paginator("lookup_events").paginate()
    return {event["EventId"] for page in pages for event in page["Events"]}


def test_caller_identity_of_plain_keys_is_the_default_account(emulator_thread: Running) -> None:
    identity = client("sts", emulator_thread.endpoint_url).get_caller_identity()
    assert identity["Account"] == ACCOUNT_A


def test_assumed_role_credentials_see_the_other_account(
    emulator_thread: Running, emulator_history: list[dict[str, Any]]
) -> None:
    credentials = _assume(emulator_thread, ACCOUNT_B)
    identity = client("sts", emulator_thread.endpoint_url, credentials=credentials)
    assert identity.get_caller_identity()["Account"] == ACCOUNT_B
    for region in ("us-east-1", "eu-west-1"):
        expected = {
            r["eventID"]
            for r in emulator_history
            if r["recipientAccountId"] == ACCOUNT_B and r["awsRegion"] == region
        }
        assert expected
        assert _ids(emulator_thread, credentials, region) == expected
        assert _ids(emulator_thread, None, region).isdisjoint(expected)


def test_assumed_credentials_expire(emulator_thread: Running, manual_clock: ManualClock) -> None:
    credentials = _assume(emulator_thread, ACCOUNT_B, duration=900)
    cloudtrail = client("cloudtrail", emulator_thread.endpoint_url, credentials=credentials)
    cloudtrail.lookup_events(MaxResults=1)
    manual_clock.advance(901)
    with pytest.raises(cloudtrail.exceptions.ClientError) as caught:
        cloudtrail.lookup_events(MaxResults=1)
    assert caught.value.response["Error"]["Code"] == "ExpiredTokenException"
    sts = client("sts", emulator_thread.endpoint_url, credentials=credentials)
    with pytest.raises(sts.exceptions.ClientError) as caught_sts:
        sts.get_caller_identity()
    assert caught_sts.value.response["Error"]["Code"] == "ExpiredToken"


def test_assume_role_rejects_a_bad_arn(emulator_thread: Running) -> None:
    sts = client("sts", emulator_thread.endpoint_url)
    with pytest.raises(sts.exceptions.ClientError) as caught:
        sts.assume_role(RoleArn="arn:aws:iam::role-without-account", RoleSessionName="scan")
    assert caught.value.response["Error"]["Code"] == "ValidationError"


def test_list_accounts_pages_through_the_history_accounts(emulator_thread: Running) -> None:
    organizations = client("organizations", emulator_thread.endpoint_url)
    pages = organizations.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 1})
    accounts = [account for page in pages for account in page["Accounts"]]
    assert [a["Id"] for a in accounts] == [ACCOUNT_A, ACCOUNT_B]
    assert all(a["Status"] == "ACTIVE" for a in accounts)


def test_describe_regions_lists_the_history_regions(emulator_thread: Running) -> None:
    ec2 = client("ec2", emulator_thread.endpoint_url)
    regions = [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
    assert regions == ["eu-west-1", "us-east-1"]
    only = ec2.describe_regions(RegionNames=["eu-west-1"])["Regions"]
    assert [r["RegionName"] for r in only] == ["eu-west-1"]
