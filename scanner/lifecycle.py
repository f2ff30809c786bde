"""The domain values of resource lifecycles: keys, facts drawn from records, and lifecycles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


@dataclass(frozen=True, slots=True, order=True)
class ResourceKey:
    """Identifies one resource: where it lives, its catalog type, and its normalised id."""

    account_id: str
    region: str
    resource_type: str
    resource_id: str


#: A tag of a resource is kept as a lifecycle of its own (set: created, removed: deleted), so the
#: latest event wins per tag key whatever the order: type `<type>#tag`, id `<id>` US `<tag key>`.
TAG_TYPE_SUFFIX = "#tag"
_TAG_SEPARATOR = "\x1f"


def tag_key(key: ResourceKey, tag: str) -> ResourceKey:
    """The key of the lifecycle of tag `tag` of the resource `key`."""
    return ResourceKey(
        key.account_id,
        key.region,
        key.resource_type + TAG_TYPE_SUFFIX,
        key.resource_id + _TAG_SEPARATOR + tag,
    )


def tagged_resource(key: ResourceKey) -> tuple[ResourceKey, str] | None:
    """The resource and tag key a tag lifecycle's key names (None for a resource's own key)."""
    if not key.resource_type.endswith(TAG_TYPE_SUFFIX) or _TAG_SEPARATOR not in key.resource_id:
        return None
    resource_id, _, tag = key.resource_id.partition(_TAG_SEPARATOR)
    resource_type = key.resource_type.removesuffix(TAG_TYPE_SUFFIX)
    return ResourceKey(key.account_id, key.region, resource_type, resource_id), tag


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a call, as CloudTrail tells it."""

    arn: str | None = None
    user_name: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None


class Change(Enum):
    """What a fact says happened to a resource."""

    CREATE = "create"
    DELETE = "delete"
    STATE = "state"


@dataclass(frozen=True, slots=True)
class Fact:
    """One observation about one resource, drawn from one successful CloudTrail record.

    A rename (RDS `ModifyDBInstance` with `newDBInstanceIdentifier`) yields two facts: a DELETE
    of the old key and a CREATE of the new key whose `renamed_from` names the old key.
    `created_via` names the parent a service created the resource for, where the record says
    so: `<parent type>/<id>`, e.g. `autoscaling.group/web` or `cloudformation.stack/<stack ARN>`.
    """

    key: ResourceKey
    change: Change
    time: datetime
    event_id: str
    event_name: str
    actor: Actor = field(default_factory=Actor)
    state: str | None = None
    name: str | None = None
    arn: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    renamed_from: ResourceKey | None = None
    created_via: str | None = None

    @property
    def order(self) -> tuple[datetime, int, str]:
        """Total order used to decide which of two facts is later (time, then kind, then id)."""
        return (self.time, _CHANGE_RANK[self.change], self.event_id)


_CHANGE_RANK = {Change.CREATE: 0, Change.STATE: 1, Change.DELETE: 2}


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What is known of one resource: its latest create, latest delete and latest state change.

    `origin` is set by `pairing.resolve` for a renamed resource: the create it descends from, with
    the first creation's time, creator, event id and attributes, and the new key, name and ARN.
    """

    key: ResourceKey
    created: Fact | None = None
    deleted: Fact | None = None
    state_change: Fact | None = None
    origin: Fact | None = None

    @property
    def creation(self) -> Fact | None:
        """The create to report (who, when, which event): the origin of a rename, else `created`."""
        return self.origin if self.origin is not None else self.created
