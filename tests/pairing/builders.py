"""Build CloudTrail records shaped like the real ones (see tests/data/cloudtrail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from scanner.records import Record, record_from_body

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "123456789012"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def identity(user: str, *, assumed: bool = False) -> dict[str, Any]:
    if assumed:
        return {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/{user}",
            "accountId": ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "Admin"}},
        }
    return {
        "type": "IAMUser",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
        "accountId": ACCOUNT,
        "userName": user,
    }


def record(
    source: str,
    name: str,
    minute: int,
    *,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    user: str = "alice",
    assumed: bool = False,
    error: str | None = None,
    region: str = "us-east-1",
    event_id: str | None = None,
) -> Record:
    body: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": identity(user, assumed=assumed),
        "eventTime": at(minute).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": request,
        "responseElements": response,
        "eventID": event_id or f"{name}-{minute}-{user}-{region}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }
    if error:
        body["errorCode"] = error
        body["errorMessage"] = "failed"
        body["responseElements"] = None
    built = record_from_body(body)
    assert built is not None
    return built


def run_instances(minute: int, *ids: str, instance_type: str = "t2.micro", **kw: Any) -> Record:
    return record(
        "ec2",
        "RunInstances",
        minute,
        request={
            "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": len(ids)}]},
            "instanceType": instance_type,
        },
        response={
            "instancesSet": {
                "items": [
                    {"instanceId": i, "imageId": "ami-1", "instanceType": instance_type}
                    for i in ids
                ]
            }
        },
        **kw,
    )


def _instances(name: str, minute: int, ids: tuple[str, ...], **kw: Any) -> Record:
    items = {"items": [{"instanceId": i} for i in ids]}
    return record("ec2", name, minute, request={"instancesSet": items}, **kw)


def terminate(minute: int, *ids: str, **kw: Any) -> Record:
    return _instances("TerminateInstances", minute, ids, **kw)


def stop(minute: int, *ids: str, **kw: Any) -> Record:
    return _instances("StopInstances", minute, ids, **kw)


def start(minute: int, *ids: str, **kw: Any) -> Record:
    return _instances("StartInstances", minute, ids, **kw)


def create_db(minute: int, name: str, db_class: str = "db.t3.micro", **kw: Any) -> Record:
    return record(
        "rds",
        "CreateDBInstance",
        minute,
        request={"dBInstanceIdentifier": name, "dBInstanceClass": db_class, "engine": "mysql"},
        response={
            "dBInstanceIdentifier": name.lower(),
            "dBInstanceClass": db_class,
            "engine": "mysql",
            "dBInstanceArn": f"arn:aws:rds:us-east-1:{ACCOUNT}:db:{name.lower()}",
        },
        **kw,
    )


def delete_db(minute: int, name: str, **kw: Any) -> Record:
    return record("rds", "DeleteDBInstance", minute, request={"dBInstanceIdentifier": name}, **kw)


def rename_db(minute: int, old: str, new: str, **kw: Any) -> Record:
    return record(
        "rds",
        "ModifyDBInstance",
        minute,
        request={
            "dBInstanceIdentifier": old,
            "newDBInstanceIdentifier": new,
            "applyImmediately": True,
        },
        response={"dBInstanceIdentifier": old},
        **kw,
    )


def db_state(minute: int, name: str, event: str, **kw: Any) -> Record:
    return record("rds", event, minute, request={"dBInstanceIdentifier": name}, **kw)
