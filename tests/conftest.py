"""Shared fixtures: real CloudTrail samples, a manual clock, and the emulator (async or thread).

Fixtures for other tests to use:
    cloudtrail_samples   Path of the real CloudTrail records vendored in tests/data/cloudtrail
    manual_clock         ManualClock standing at EMULATOR_NOW
    make_record          factory of bare CloudTrail records (account, region, name, time, ...)
    emulator_history     the records the `emulator*` fixtures serve (override it in a module)
    emulator_options     extra Emulator keyword arguments (override it in a module)
    emulator_instance    the Emulator (latency off, manual clock, unlimited rate, seed 0)
    emulator             async: the running emulator (`.endpoint_url`, `.emulator`, `.env()`)
    emulator_thread      sync: the same, served from a background thread (boto3, aws CLI)
    emulator_env         emulator_thread plus AWS_* variables set for the test
    store, client_for    a state file, and clients of the service's app (tests/web_client.py)
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator import Emulator, Running
from emulator.api.clock import ManualClock
from scanner.records import format_time
from tests.samples import SAMPLES

#: The HTTP tests' `store` and `client_for` fixtures.
pytest_plugins = ("tests.web_client",)

EMULATOR_NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
UNLIMITED_RATE = 1_000_000.0

MakeRecord = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def cloudtrail_samples() -> Path:
    """The folder of real CloudTrail records vendored in tests/data/cloudtrail."""
    return SAMPLES


@pytest.fixture
def manual_clock() -> ManualClock:
    """A clock that stands at EMULATOR_NOW until a test moves it."""
    return ManualClock(EMULATOR_NOW)


@pytest.fixture
def make_record() -> MakeRecord:
    """Build a bare CloudTrail record; every field has a sensible default."""
    counter = itertools.count()

    def make(
        *,
        account: str = ACCOUNT_A,
        region: str = "us-east-1",
        name: str = "RunInstances",
        source: str = "ec2.amazonaws.com",
        when: datetime | None = None,
        read_only: bool | None = False,
        user: str = "alice",
        role_session: str | None = None,
        access_key: str = "AKIAALICE00000000000",
        resources: list[dict[str, str]] | None = None,
        event_id: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        n = next(counter)
        when = when or EMULATOR_NOW - timedelta(minutes=n + 1)
        if role_session:
            identity = {
                "type": "AssumedRole",
                "principalId": f"AROAEXAMPLE:{role_session}",
                "arn": f"arn:aws:sts::{account}:assumed-role/{user}/{role_session}",
                "accountId": account,
                "accessKeyId": access_key,
                "sessionContext": {"sessionIssuer": {"type": "Role", "userName": user}},
            }
        else:
            identity = {
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLE",
                "arn": f"arn:aws:iam::{account}:user/{user}",
                "accountId": account,
                "accessKeyId": access_key,
                "userName": user,
            }
        record: dict[str, Any] = {
            "eventVersion": "1.08",
            "userIdentity": identity,
            "eventTime": format_time(when),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": {},
            "responseElements": None,
            "eventID": event_id or str(uuid.UUID(int=n + 1)),
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
        if read_only is not None:
            record["readOnly"] = read_only
        if resources is not None:
            record["resources"] = resources
        record.update(extra)
        return record

    return make


def default_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    """About 300 records over two accounts and two regions, with every attribute varied."""
    names = [
        ("RunInstances", "ec2.amazonaws.com", False),
        ("DescribeInstances", "ec2.amazonaws.com", True),
        ("CreateBucket", "s3.amazonaws.com", False),
        ("TerminateInstances", "ec2.amazonaws.com", False),
        ("ListBuckets", "s3.amazonaws.com", True),
    ]
    records = []
    for i in range(300):
        name, source, read_only = names[i % len(names)]
        account = ACCOUNT_A if i % 3 else ACCOUNT_B
        region = "us-east-1" if i % 4 else "eu-west-1"
        instance = f"i-{i % 7:017x}"
        records.append(
            make_record(
                account=account,
                region=region,
                name=name,
                source=source,
                read_only=read_only,
                # several events share each second, to exercise ties in the order
                when=EMULATOR_NOW - timedelta(seconds=60 * (i // 3) + 1),
                user=("alice", "bob", "deploy")[i % 3],
                role_session="ci-run" if i % 3 == 2 else None,
                access_key=f"AKIA{'ABCDE'[i % 5] * 16}",
                resources=[
                    {
                        "type": "AWS::EC2::Instance",
                        "ARN": f"arn:aws:ec2:{region}:{account}:instance/{instance}",
                        "accountId": account,
                    }
                ]
                if source == "ec2.amazonaws.com"
                else None,
            )
        )
    return records


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    """What the emulator fixtures serve; override in a test module to serve something else."""
    return default_history(make_record)


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Extra keyword arguments for Emulator; override in a test module."""
    return {}


@pytest.fixture
def emulator_instance(
    emulator_history: list[dict[str, Any]],
    emulator_options: dict[str, Any],
    manual_clock: ManualClock,
) -> Emulator:
    """An emulator over `emulator_history`: latency off, manual clock, no rate limit, seed 0."""
    options: dict[str, Any] = {
        "records": emulator_history,
        "latency": "off",
        "clock": manual_clock,
        "rate": UNLIMITED_RATE,
        "seed": 0,
        "account": ACCOUNT_A,
    }
    options.update(emulator_options)
    return Emulator(**options)


@pytest.fixture
async def emulator(emulator_instance: Emulator) -> AsyncIterator[Running]:
    """The emulator serving on a free loopback port, in the test's event loop."""
    async with emulator_instance.running() as running:
        yield running


@pytest.fixture
def emulator_thread(emulator_instance: Emulator) -> Iterator[Running]:
    """The emulator serving from a background thread, for synchronous clients."""
    with emulator_instance.in_thread() as running:
        yield running


@pytest.fixture
def emulator_env(emulator_thread: Running, monkeypatch: pytest.MonkeyPatch) -> Running:
    """emulator_thread, with AWS_ENDPOINT_URL, dummy keys and region set in the environment."""
    for name, value in emulator_thread.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return emulator_thread
