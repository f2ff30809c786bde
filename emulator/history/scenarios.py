"""The life stories of resources in one (account, region), and the bookkeeping of who is left.

A `Planner` writes the write records (creates, deletes, state changes, failures, helpers) and
keeps, for every resource it creates, whether it is still alive at the end and in what state:
that bookkeeping, not a re-reading of the records, is the ground truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec

from emulator.history import templates as ec2
from emulator.history.actors import Actor, Cast
from emulator.history.envelope import Call, Recorder
from emulator.history.templates_catalog import Kind, kinds

P = ParamSpec("P")

DAY = 86400
HOUR = 3600

#: Catalog resource types and their state right after creation.
DEFAULT_STATES = {
    "ec2.instance": "running",
    "ec2.volume": "available",
    "ec2.snapshot": "available",
    "ec2.elastic_ip": "allocated",
    "ec2.nat_gateway": "available",
    "rds.db_instance": "available",
    "rds.db_cluster": "available",
    "elbv2.load_balancer": "active",
    "s3.bucket": "available",
    "efs.file_system": "available",
    "eks.cluster": "active",
    "route53.hosted_zone": "available",
}
#: Every type the generator writes: the twelve above and those of templates_catalog.yaml.
RESOURCE_TYPES = tuple(sorted({*DEFAULT_STATES, *kinds()}))
#: Types whose events are recorded in us-east-1 only, and that live there.
GLOBAL_TYPES = frozenset(
    {"route53.hosted_zone", *(name for name, kind in kinds().items() if kind.is_global)}
)

_WEIGHTS = {
    "ec2.instance": 24,
    "ec2.volume": 12,
    "ec2.snapshot": 10,
    "ec2.elastic_ip": 6,
    "ec2.nat_gateway": 3,
    "rds.db_instance": 8,
    "rds.db_cluster": 3,
    "elbv2.load_balancer": 5,
    "s3.bucket": 14,
    "efs.file_system": 4,
    "eks.cluster": 3,
    "route53.hosted_zone": 3,
}
INSTANCE_TYPES = ("t3.micro", "t3.small", "t2.micro", "t3.medium", "m5.large", "c6i.xlarge")
DB_CLASSES = ("db.t3.micro", "db.t3.medium", "db.m6g.large", "db.r5.large")
APPS = ("orders", "billing", "web", "api", "search", "etl", "reports", "auth", "media", "ml")
UNAUTHORIZED = "Client.UnauthorizedOperation"
DRY_RUN = ("Client.DryRunOperation", "Request would have succeeded, but DryRun flag is set.")


def denied(actor: Actor, action: str, resource: str) -> tuple[str, str]:
    return (
        UNAUTHORIZED,
        f"You are not authorized to perform this operation. User: {actor.arn} is not "
        f"authorized to perform: {action} on resource: {resource} because no identity-based "
        f"policy allows the {action} action.",
    )


@dataclass(slots=True)
class Tracked:
    """The generator's own record of one resource it created."""

    resource_type: str
    resource_id: str
    created: int
    event_id: str
    creator: str
    state: str
    alive: bool = True
    renamed_from: list[str] = field(default_factory=list)
    created_via: str = ""


@dataclass(slots=True)
class Counts:
    """How many resources were created and deleted, and how many calls failed."""

    created: int = 0
    deleted: int = 0
    failed: int = 0


class Planner:
    """Writes the life stories of resources in one (account, region)."""

    def __init__(self, rec: Recorder, cast: Cast, *, global_events: bool, leftover_rate: float):
        self.rec = rec
        self.rng = rec.rng
        self.cast = cast
        self.net = ec2.network(rec)
        self.global_events = global_events  # Route 53 is recorded here (us-east-1)
        self.leftover_rate = leftover_rate
        self.tracked: list[Tracked] = []
        self.by_id: dict[tuple[str, str], Tracked] = {}
        self.counts = Counts()
        self._serial = 0
        self.types = tuple(t for t in DEFAULT_STATES if global_events or t not in GLOBAL_TYPES)
        self._type_weights = [_WEIGHTS[t] for t in self.types]
        #: The described types this (account, region) records (global ones only in us-east-1).
        self.kinds: tuple[Kind, ...] = tuple(
            kind for kind in kinds().values() if global_events or not kind.is_global
        )

    def call(self, ts: int, actor: Actor) -> Call:
        """A call by `actor` at `ts` in this (account, region)."""
        return Call(self.rec, ts, actor, self.net)

    # choices ---------------------------------------------------------------------------------
    def serial(self) -> int:
        """A number for names, increasing in the (account, region)."""
        self._serial += 1
        return self._serial

    def human(self) -> Actor:
        """Someone making a change: mostly users and SSO roles, now and then root."""
        if self.rng.random() < 0.03:
            return self.cast.root
        return self.cast.humans[self.rng.randrange(len(self.cast.humans))]

    def moment(self, low: int, high: int) -> int:
        """A time in [low, high], mostly in working hours (07:00-20:00 UTC)."""
        if high <= low:
            return low
        ts = self.rng.randint(low, high)
        if self.rng.random() < 0.8:
            day_start = ts - ts % DAY
            candidate = day_start + self.rng.randint(7 * HOUR, 20 * HOUR)
            if low <= candidate <= high:
                ts = candidate
        return ts

    def span(self, leftover: bool) -> tuple[int, int]:
        """(created, deleted) times; for a leftover, the second bounds its later events."""
        start, end = self.rec.start, self.rec.end
        if leftover:
            created = self.moment(start, end - 600)
            return created, end
        roll = self.rng.random()
        if roll < 0.35:  # tutorial-style: gone within hours
            life = self.rng.randint(180, 3 * HOUR)
        elif roll < 0.8:
            life = self.rng.randint(3 * HOUR, 10 * DAY)
        else:
            life = self.rng.randint(10 * DAY, 60 * DAY)
        life = min(life, max(end - start - 1200, 600))
        created = self.moment(start, end - life - 300)
        return created, min(created + life, end - 60)

    def between(self, low: int, high: int) -> int:
        """A time strictly inside (low, high) when there is room."""
        return self.rng.randint(low + 1, high - 1) if high - low > 2 else low

    # bookkeeping -----------------------------------------------------------------------------
    def emit(self, ts: int, record: dict[str, Any]) -> dict[str, Any]:
        """Keep a write record; count it when it failed."""
        if "errorCode" in record:
            self.counts.failed += 1
        return self.rec.emit(ts, record)

    def track(
        self,
        rtype: str,
        rid: str,
        ts: int,
        record: dict[str, Any],
        actor: Actor,
        *,
        state: str | None = None,
    ) -> Tracked:
        """Note a resource created by `record` (in `state`, else its type's first state)."""
        state = state or DEFAULT_STATES[rtype]
        item = Tracked(rtype, rid, ts, record["eventID"], actor.arn, state)
        self.tracked.append(item)
        self.by_id[(rtype, rid)] = item
        self.counts.created += 1
        return item

    def renamed(self, item: Tracked, new_id: str) -> None:
        """Note a resource renamed: its id is `new_id` from now on, the old one in its past."""
        del self.by_id[(item.resource_type, item.resource_id)]
        item.renamed_from.append(item.resource_id)
        item.resource_id = new_id
        self.by_id[(item.resource_type, new_id)] = item

    def gone(self, item: Tracked) -> None:
        """Note a resource deleted."""
        item.alive = False
        self.counts.deleted += 1

    def create(
        self,
        ts: int,
        actor: Actor,
        rtype: str,
        rid: str,
        template: Callable[Concatenate[Call, P], dict[str, Any]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Tracked:
        """Emit `template(call, ...)`, the create of `rid`, and track the resource."""
        record = self.emit(ts, template(self.call(ts, actor), *args, **kwargs))
        return self.track(rtype, rid, ts, record, actor)

    def delete(
        self,
        ts: int,
        actor: Actor,
        item: Tracked,
        template: Callable[Concatenate[Call, P], dict[str, Any]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Emit `template(call, ...)`, the delete of a tracked resource, and note it gone."""
        self.emit(ts, template(self.call(ts, actor), *args, **kwargs))
        self.gone(item)

    # one lifecycle per type ------------------------------------------------------------------
    def random_type(self) -> str:
        """A catalog type, weighted by how common it is."""
        return self.rng.choices(self.types, self._type_weights)[0]

    def leftover(self) -> bool:
        """Whether the next plain lifecycle is left over."""
        return self.rng.random() < self.leftover_rate
