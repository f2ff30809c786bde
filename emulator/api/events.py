"""LookupEvents items derived from CloudTrail records, the way the real service derives them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from scanner.records import Record

#: The lookup attribute keys the service accepts (botocore's `LookupAttributeKey`).
ATTRIBUTE_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)

_READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Search", "Batch Get", "Scan")


@dataclass(frozen=True, slots=True)
class ServedEvent:
    """One record ready to serve: where and when, its filter values, and the item as bytes."""

    event_id: str
    account: str
    region: str
    time: float
    attributes: tuple[tuple[str, str], ...]
    item: bytes


def read_only_of(record: Record) -> bool:
    """The record's readOnly; inferred from the event name when the record lacks it."""
    if record.read_only is not None:
        return record.read_only
    return record.event_name.startswith(_READ_PREFIXES)


def _tail(value: object, separator: str) -> str | None:
    """The text after the last `separator` in a string, or None."""
    if isinstance(value, str) and separator in value:
        return value.rsplit(separator, 1)[1] or None
    return None


def username_of(body: Mapping[str, Any]) -> str | None:
    """`Username` as event history shows it: user name, role session name, or `root`."""
    identity = body.get("userIdentity")
    if not isinstance(identity, Mapping):
        return None
    kind = identity.get("type")
    found: object = None
    if kind == "Root":
        found = "root"
    elif kind in ("AssumedRole", "FederatedUser"):
        found = _tail(identity.get("arn"), "/") or _tail(identity.get("principalId"), ":")
    else:
        found = identity.get("userName") or _tail(identity.get("arn"), "/")
        if not found and kind == "AWSService":
            found = identity.get("invokedBy")
    return found if isinstance(found, str) and found else None


def access_key_of(body: Mapping[str, Any]) -> str | None:
    """The access key that signed the call, when the record names one."""
    identity = body.get("userIdentity")
    if isinstance(identity, Mapping):
        key = identity.get("accessKeyId")
        if isinstance(key, str) and key:
            return key
    return None


def _resource_name(arn: str) -> str:
    """The short name at the end of an ARN (`i-0abc` from `arn:...:instance/i-0abc`)."""
    tail = arn.rsplit(":", 1)[-1] if arn.startswith("arn:") else arn
    return tail.rsplit("/", 1)[-1] or arn


def resources_of(body: Mapping[str, Any]) -> list[dict[str, str]]:
    """The `Resources` list: one entry per item of the record's `resources` (type and ARN)."""
    found: list[dict[str, str]] = []
    listed = body.get("resources")
    if not isinstance(listed, list):
        return found
    for resource in listed:
        if not isinstance(resource, Mapping):
            continue
        entry: dict[str, str] = {}
        kind = resource.get("type")
        if isinstance(kind, str) and kind:
            entry["ResourceType"] = kind
        arn = resource.get("ARN") or resource.get("arn") or resource.get("ARNPrefix")
        if isinstance(arn, str) and arn:
            entry["ResourceName"] = arn
        if entry:
            found.append(entry)
    return found


def serve_event(record: Record) -> ServedEvent:
    """Derive the LookupEvents item of a record and serialise it once."""
    body = record.body
    read_only = "true" if read_only_of(record) else "false"
    username = username_of(body)
    access_key = access_key_of(body)
    resources = resources_of(body)
    when = record.event_time.timestamp()
    item: dict[str, Any] = {
        "EventId": record.event_id,
        "EventName": record.event_name,
        "ReadOnly": read_only,
    }
    if access_key:
        item["AccessKeyId"] = access_key
    item["EventTime"] = int(when) if when.is_integer() else when
    item["EventSource"] = record.event_source
    if username:
        item["Username"] = username
    item["Resources"] = resources
    item["CloudTrailEvent"] = orjson.dumps(body).decode()
    attributes: list[tuple[str, str]] = [
        ("EventId", record.event_id),
        ("EventName", record.event_name),
        ("ReadOnly", read_only),
        ("EventSource", record.event_source),
    ]
    if username:
        attributes.append(("Username", username))
    if access_key:
        attributes.append(("AccessKeyId", access_key))
    for resource in resources:
        if "ResourceType" in resource:
            attributes.append(("ResourceType", resource["ResourceType"]))
        if "ResourceName" in resource:
            arn = resource["ResourceName"]
            attributes.append(("ResourceName", arn))
            short = _resource_name(arn)
            if short != arn:
                attributes.append(("ResourceName", short))
    return ServedEvent(
        event_id=record.event_id,
        account=record.account_id,
        region=record.region,
        time=when,
        attributes=tuple(dict.fromkeys(attributes)),
        # orjson over-allocates its output buffer: keep an exact-size copy
        item=memoryview(orjson.dumps(item)).tobytes(),
    )
