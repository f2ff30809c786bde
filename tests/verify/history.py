"""CloudTrail create records for resources moto made, shaped by the catalog's own create rule.

A record has the envelope of tests/data/cloudtrail's real records (identity, time, source,
region, ids) and puts the real id where the type's create rule reads it: the first branch of
the rule's `id` expression (under `items` when the rule has one).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jmespath

from scanner.catalog import ResourceType
from scanner.records import format_time
from tests.moto_server import ACCOUNT as MOTO_ACCOUNT
from tests.moto_server import REGION


def _path(text: str) -> list[str]:
    """The fields of the first alternative of a plain path (`a.b || c` -> [a, b])."""
    node: dict[str, Any] = dict(jmespath.compile(text).parsed)
    while node["type"] == "or_expression":
        node = node["children"][0]
    if node["type"] == "field":
        return [node["value"]]
    if node["type"] == "subexpression" and all(c["type"] == "field" for c in node["children"]):
        return [child["value"] for child in node["children"]]
    raise ValueError(f"not a plain path: {text}")


def _put(document: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        document = document.setdefault(part, {})
    document[path[-1]] = value


def create_record(
    resource_type: ResourceType,
    resource_id: str,
    when: datetime,
    request: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A successful create event of `resource_type` naming `resource_id` (with `request` among
    its requestParameters)."""
    rule = next(rule for rule in resource_type.rules if rule.kind == "create")
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": f"arn:aws:iam::{MOTO_ACCOUNT}:user/alice",
            "accountId": MOTO_ACCOUNT,
            "accessKeyId": "AKIAALICE00000000000",
            "userName": "alice",
        },
        "eventTime": format_time(when),
        "eventSource": resource_type.event_source,
        "eventName": rule.event_name,
        "awsRegion": REGION,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": dict(request or {}),
        "responseElements": {},
        "eventID": str(uuid.uuid4()),
        "eventType": "AwsApiCall",
        "readOnly": False,
        "managementEvent": True,
        "recipientAccountId": MOTO_ACCOUNT,
        "eventCategory": "Management",
    }
    if rule.items_text:
        item: dict[str, Any] = {}
        _put(item, _path(rule.id_text), resource_id)
        _put(record, _path(rule.items_text), [item])
    else:
        _put(record, _path(rule.id_text), resource_id)
    return record
