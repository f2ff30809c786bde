"""aiobotocore and the aws CLI page through the emulator as boto3 does."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import aioboto3
import pytest

from emulator import Running
from tests.conftest import ACCOUNT_A, ACCOUNT_B
from tests.emulator.api.emulator_clients import event_time, matches


def _mine(history: list[dict[str, Any]], account: str, region: str) -> list[dict[str, Any]]:
    return [r for r in history if r["recipientAccountId"] == account and r["awsRegion"] == region]


async def test_aiobotocore_paginator(
    emulator: Running, emulator_history: list[dict[str, Any]]
) -> None:
    session = aioboto3.Session(
        aws_access_key_id="AKIAASYNC00000000000", aws_secret_access_key="secret"
    )
    async with session.client(
        "cloudtrail", region_name="eu-west-1", endpoint_url=emulator.endpoint_url
    ) as cloudtrail:
        paginator = cloudtrail.get_paginator("lookup_events")
        events = [
            event
            async for page in paginator.paginate(PaginationConfig={"PageSize": 9})
            for event in page["Events"]
        ]
        filtered = [
            event
            async for page in paginator.paginate(
                LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "bob"}]
            )
            for event in page["Events"]
        ]
    expected = _mine(emulator_history, ACCOUNT_A, "eu-west-1")
    assert sorted(e["EventId"] for e in events) == sorted(r["eventID"] for r in expected)
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)
    assert {e["EventId"] for e in filtered} == {
        r["eventID"] for r in expected if matches(r, "Username", "bob")
    }


async def test_aiobotocore_assume_role_sees_the_other_account(
    emulator: Running, emulator_history: list[dict[str, Any]]
) -> None:
    session = aioboto3.Session(
        aws_access_key_id="AKIAASYNC00000000000", aws_secret_access_key="secret"
    )
    async with session.client(
        "sts", region_name="us-east-1", endpoint_url=emulator.endpoint_url
    ) as sts:
        assumed = await sts.assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/LeftoversScanner", RoleSessionName="scan"
        )
    credentials = assumed["Credentials"]
    member = aioboto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    async with member.client(
        "cloudtrail", region_name="us-east-1", endpoint_url=emulator.endpoint_url
    ) as cloudtrail:
        paginator = cloudtrail.get_paginator("lookup_events")
        events = [e async for page in paginator.paginate() for e in page["Events"]]
    expected = _mine(emulator_history, ACCOUNT_B, "us-east-1")
    assert expected
    assert sorted(e["EventId"] for e in events) == sorted(r["eventID"] for r in expected)


def _aws_cli() -> str:
    path = os.environ.get("AWS_CLI")
    if not path:
        pytest.skip("AWS_CLI is not set (the Makefile sets it to the CLI's own virtualenv)")
    return path


def test_aws_cli_lookup_events(
    emulator_thread: Running, emulator_history: list[dict[str, Any]]
) -> None:
    aws = _aws_cli()
    env = {**os.environ, **emulator_thread.env("us-east-1")}
    env.pop("AWS_PROFILE", None)

    def lookup(*extra: str) -> list[dict[str, Any]]:
        command = [
            aws,
            "cloudtrail",
            "lookup-events",
            "--endpoint-url",
            emulator_thread.endpoint_url,
            "--region",
            "us-east-1",
            "--page-size",
            "20",
            "--output",
            "json",
            *extra,
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return list(json.loads(done.stdout)["Events"])

    expected = _mine(emulator_history, ACCOUNT_A, "us-east-1")
    events = lookup()
    assert sorted(e["EventId"] for e in events) == sorted(r["eventID"] for r in expected)
    times = sorted({event_time(r) for r in expected})
    writes = lookup(
        "--lookup-attributes",
        "AttributeKey=ReadOnly,AttributeValue=false",
        "--start-time",
        times[2].isoformat(),
        "--end-time",
        times[30].isoformat(),
    )
    assert {e["EventId"] for e in writes} == {
        r["eventID"]
        for r in expected
        if not r["readOnly"] and times[2] <= event_time(r) <= times[30]
    }


def test_aws_cli_sts_and_assumed_role_lookup(
    emulator_thread: Running, emulator_history: list[dict[str, Any]]
) -> None:
    """The CLI parses the STS XML answers, and its assumed keys read the other account."""
    aws = _aws_cli()
    env = {**os.environ, **emulator_thread.env("us-east-1")}
    env.pop("AWS_PROFILE", None)
    endpoint = ["--endpoint-url", emulator_thread.endpoint_url, "--output", "json"]

    def run(*command: str, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
        done = subprocess.run(
            [aws, *command, *endpoint],
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    identity = run("sts", "get-caller-identity")
    assert identity["Account"] == ACCOUNT_A
    assert identity["Arn"].startswith(f"arn:aws:iam::{ACCOUNT_A}:")
    role = f"arn:aws:iam::{ACCOUNT_B}:role/LeftoversScanner"
    assumed = run("sts", "assume-role", "--role-arn", role, "--role-session-name", "cli")
    assert assumed["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT_B}:assumed-role/LeftoversScanner/cli"
    )
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    keys = {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }
    assert run("sts", "get-caller-identity", extra_env=keys)["Account"] == ACCOUNT_B
    events = run("cloudtrail", "lookup-events", "--region", "us-east-1", extra_env=keys)["Events"]
    expected = _mine(emulator_history, ACCOUNT_B, "us-east-1")
    assert sorted(e["EventId"] for e in events) == sorted(r["eventID"] for r in expected)
