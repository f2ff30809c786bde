"""Client helpers for the emulator tests: boto3 clients bound to an endpoint, expected pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config

from scanner.records import parse_time

#: One session for every client: it caches the service models, so clients come cheap.
SESSION = boto3.session.Session()

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=5)


def client(
    service: str,
    endpoint_url: str,
    region: str = "us-east-1",
    credentials: dict[str, str] | None = None,
    config: Config = NO_RETRIES,
) -> Any:
    """A boto3 client for the emulator (dummy keys unless `credentials` from AssumeRole)."""
    key, secret, token = "AKIATESTCLIENT000000", "secret", None
    if credentials:
        key = credentials["AccessKeyId"]
        secret = credentials["SecretAccessKey"]
        token = credentials["SessionToken"]
    return SESSION.client(
        # any service by name, where the stubs know each one by a Literal of its own
        service,  # type: ignore[call-overload]
        region_name=region,
        endpoint_url=endpoint_url,
        config=config,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def event_time(record: dict[str, Any]) -> datetime:
    """A record's eventTime as an aware datetime."""
    parsed = parse_time(record["eventTime"])
    assert parsed is not None
    return parsed


def matches(record: dict[str, Any], key: str, value: str) -> bool:
    """Whether the real service would return `record` for one lookup attribute."""
    identity = record.get("userIdentity", {})
    resources = record.get("resources") or []
    if identity.get("type") == "AssumedRole":
        username = identity["arn"].rsplit("/", 1)[1]
    else:
        username = identity.get("userName")
    arns = [r.get("ARN", "") for r in resources]
    checks = {
        "EventId": record["eventID"] == value,
        "EventName": record["eventName"] == value,
        "EventSource": record["eventSource"] == value,
        "ReadOnly": str(record.get("readOnly")).lower() == value,
        "AccessKeyId": identity.get("accessKeyId") == value,
        "Username": username == value,
        "ResourceType": any(r.get("type") == value for r in resources),
        "ResourceName": any(arn == value or arn.endswith("/" + value) for arn in arns),
    }
    return bool(checks[key])
