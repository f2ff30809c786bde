"""Facts and pages for the store tests, and lifecycles as schema v2 stored them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scanner.lifecycle import Actor, Change, Fact, Lifecycle, ResourceKey
from scanner.pages import Page
from scanner.plan import Slice, StreamId, Work
from scanner.store import fact_from_dict, fact_to_dict

T0 = datetime(2025, 1, 1, tzinfo=UTC)
KEY = ResourceKey("111111111111", "eu-west-1", "ec2.volume", "vol-1")


def fact(
    event_id: str,
    change: Change = Change.CREATE,
    minutes: int = 0,
    key: ResourceKey = KEY,
    state: str | None = None,
) -> Fact:
    return Fact(
        key=key,
        change=change,
        time=T0 + timedelta(minutes=minutes),
        event_id=event_id,
        event_name={"create": "CreateVolume", "delete": "DeleteVolume"}.get(
            change.value, "ModifyVolume"
        ),
        actor=Actor(arn="arn:aws:iam::111111111111:user/alice", user_name="alice"),
        state=state,
        attributes=(("size", "100"),),
    )


STREAM = StreamId(KEY.account_id, KEY.region, "read_only=false")
WHERE = (KEY.account_id, KEY.region)


def page(
    facts: list[Fact],
    done: Slice,
    remaining: Slice | None = None,
    spawned: tuple[Work, ...] = (),
) -> Page:
    return Page(
        stream=STREAM,
        slice=done,
        facts=tuple(facts),
        events_read=len(facts) + 3,
        remaining=remaining,
        spawned=spawned,
    )


WINDOW = Slice(T0, T0 + timedelta(hours=1))


def fact_order(one: Fact) -> tuple[object, ...]:
    """Facts in a stable order: time, event, change, resource."""
    return (one.time, one.event_id, one.change.value, one.key)


def lifecycle_blob(lifecycle: Lifecycle) -> bytes:
    """A lifecycle as schema v2 stored it (whole facts in one JSON body), to write old files."""
    import orjson

    def encoded(one: Fact | None) -> dict[str, object] | None:
        return fact_to_dict(one) if one else None

    key = lifecycle.key
    return orjson.dumps(
        {
            "key": {"account_id": key.account_id, "region": key.region,
                    "resource_type": key.resource_type, "resource_id": key.resource_id},
            "created": encoded(lifecycle.created),
            "deleted": encoded(lifecycle.deleted),
            "state_change": encoded(lifecycle.state_change),
        }
    )  # fmt: skip


def lifecycle_of(blob: bytes) -> Lifecycle:
    """Read back a schema v2 lifecycle body."""
    import orjson

    data = orjson.loads(blob)
    return Lifecycle(
        key=ResourceKey(**data["key"]),
        created=fact_from_dict(data["created"]) if data["created"] else None,
        deleted=fact_from_dict(data["deleted"]) if data["deleted"] else None,
        state_change=fact_from_dict(data["state_change"]) if data["state_change"] else None,
    )
