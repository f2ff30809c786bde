"""How domain values are written in the state file: facts and lifecycles as JSON, times as text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from scanner.lifecycle import Actor, Change, Fact, ResourceKey


def time_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def time_from_text(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _key_dict(key: ResourceKey) -> dict[str, str]:
    return {
        "account_id": key.account_id,
        "region": key.region,
        "resource_type": key.resource_type,
        "resource_id": key.resource_id,
    }


def _key_of(data: Mapping[str, str]) -> ResourceKey:
    return ResourceKey(
        data["account_id"], data["region"], data["resource_type"], data["resource_id"]
    )


def fact_to_dict(fact: Fact) -> dict[str, Any]:
    """A Fact as plain JSON values."""
    return {
        "key": _key_dict(fact.key),
        "change": fact.change.value,
        "time": time_text(fact.time),
        "event_id": fact.event_id,
        "event_name": fact.event_name,
        "actor": {
            "arn": fact.actor.arn,
            "user_name": fact.actor.user_name,
            "source_ip": fact.actor.source_ip,
            "user_agent": fact.actor.user_agent,
        },
        "state": fact.state,
        "name": fact.name,
        "arn": fact.arn,
        "attributes": [list(pair) for pair in fact.attributes],
        "renamed_from": _key_dict(fact.renamed_from) if fact.renamed_from else None,
        "created_via": fact.created_via,
    }


def fact_json(fact: Fact) -> bytes:
    """`fact_to_dict` as JSON bytes: orjson writes the dataclass itself (fields in the same order,
    the enum as its value, a UTC time as `isoformat`), unless its time is not in UTC."""
    if fact.time.tzinfo is UTC:
        return orjson.dumps(fact)
    return orjson.dumps(fact_to_dict(fact))


def fact_from_dict(data: Mapping[str, Any]) -> Fact:
    """The Fact written by `fact_to_dict`."""
    renamed = data.get("renamed_from")
    return Fact(
        key=_key_of(data["key"]),
        change=Change(data["change"]),
        time=time_from_text(data["time"]),
        event_id=data["event_id"],
        event_name=data["event_name"],
        actor=Actor(**data["actor"]),
        state=data.get("state"),
        name=data.get("name"),
        arn=data.get("arn"),
        attributes=tuple((str(k), str(v)) for k, v in data.get("attributes", ())),
        renamed_from=_key_of(renamed) if renamed else None,
        created_via=data.get("created_via"),
    )
