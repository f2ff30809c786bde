"""The life stories of resources in one (account, region), and the bookkeeping of who is left.

A `Planner` writes the write records (creates, deletes, state changes, failures, helpers) and
keeps, for every resource it creates, whether it is still alive at the end and in what state:
that bookkeeping, not a re-reading of the records, is the ground truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from scanner.emulator import templates as ec2
from scanner.emulator import templates_services as svc
from scanner.emulator.actors import Actor, Cast
from scanner.emulator.envelope import Call, Recorder

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
RESOURCE_TYPES = tuple(DEFAULT_STATES)

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
_INSTANCE_TYPES = ("t3.micro", "t3.small", "t2.micro", "t3.medium", "m5.large", "c6i.xlarge")
_DB_CLASSES = ("db.t3.micro", "db.t3.medium", "db.m6g.large", "db.r5.large")
_APPS = ("orders", "billing", "web", "api", "search", "etl", "reports", "auth", "media", "ml")
_UNAUTHORIZED = "Client.UnauthorizedOperation"
_DRY_RUN = ("Client.DryRunOperation", "Request would have succeeded, but DryRun flag is set.")


def _denied(actor: Actor, action: str, resource: str) -> tuple[str, str]:
    return (
        _UNAUTHORIZED,
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
        self.types = tuple(
            t for t in RESOURCE_TYPES if global_events or not t.startswith("route53")
        )
        self._type_weights = [_WEIGHTS[t] for t in self.types]

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

    def track(self, rtype: str, rid: str, ts: int, record: dict[str, Any], actor: Actor) -> Tracked:
        """Note a resource created by `record`."""
        item = Tracked(rtype, rid, ts, record["eventID"], actor.arn, DEFAULT_STATES[rtype])
        self.tracked.append(item)
        self.by_id[(rtype, rid)] = item
        self.counts.created += 1
        return item

    def gone(self, item: Tracked) -> None:
        """Note a resource deleted."""
        item.alive = False
        self.counts.deleted += 1

    # one lifecycle per type ------------------------------------------------------------------
    def lifecycle(self, rtype: str, leftover: bool) -> None:
        """Create one resource of `rtype` (several for some), and delete it unless left over."""
        self._LIFECYCLES[rtype](self, leftover)

    def instances(
        self,
        leftover: bool,
        *,
        count: int = 1,
        actor: Actor | None = None,
        span: tuple[int, int] | None = None,
        keep: int | None = None,
        dry_run: bool = False,
        quiet: bool = False,
    ) -> list[Tracked]:
        """RunInstances for `count` instances; stops and starts; terminate all but `keep`."""
        actor = actor or self.human()
        t0, t_end = span or self.span(leftover)
        if dry_run:
            ts = self.rec.clamp(t0 - 20)
            name = f"{self.rng.choice(_APPS)}-dry-run"
            record = ec2.run_instances(self.call(ts, actor), [], "t3.micro", name, error=_DRY_RUN)
            self.emit(ts, record)
        ids = [self.rec.hex_id("i-") for _ in range(count)]
        name = f"{self.rng.choice(_APPS)}-{self.serial()}"
        kind = self.rng.choice(_INSTANCE_TYPES)
        record = self.emit(t0, ec2.run_instances(self.call(t0, actor), ids, kind, name))
        items = [self.track("ec2.instance", i, t0, record, actor) for i in ids]
        if not quiet and self.rng.random() < 0.2:
            ts = self.between(t0, t_end)
            self.emit(ts, ec2.create_tags(self.call(ts, actor), ids[0]))
        if not quiet and self.rng.random() < 0.35 and t_end - t0 > 600:
            self._stop_start_instances(items, t0, t_end, actor)
        survivors = count if leftover else (keep or 0)
        doomed = items[survivors:]
        if doomed:
            self.terminate(doomed, t_end, actor)
        return items

    def _stop_start_instances(
        self, items: list[Tracked], t0: int, t_end: int, actor: Actor
    ) -> None:
        cycles = self.rng.randint(1, 3)
        step = (t_end - t0) // (2 * cycles + 1)
        ts = t0
        for n in range(2 * cycles):
            if n == 2 * cycles - 1 and self.rng.random() < 0.5:
                break  # leave it stopped
            ts += max(step, 2) - 1
            name, current = (
                ("StopInstances", "stopped") if n % 2 == 0 else ("StartInstances", "running")
            )
            previous = "running" if current == "stopped" else "stopped"
            showing = "stopping" if current == "stopped" else "pending"
            changes = [(item.resource_id, previous, showing) for item in items]
            self.emit(ts, ec2.instance_state_change(self.call(ts, actor), name, changes))
            for item in items:
                item.state = current

    def terminate(self, items: list[Tracked], ts: int, actor: Actor) -> None:
        """TerminateInstances of several instances in one call."""
        changes = [(i.resource_id, i.state, "shutting-down") for i in items]
        self.emit(
            ts, ec2.instance_state_change(self.call(ts, actor), "TerminateInstances", changes)
        )
        for item in items:
            self.gone(item)

    def _volume(self, leftover: bool) -> None:
        actor = self.human()
        t0, t_end = self.span(leftover)
        vid = self.rec.hex_id("vol-")
        size = self.rng.choice((8, 20, 50, 100, 500))
        name = f"{self.rng.choice(_APPS)}-data-{self.serial()}"
        record = self.emit(t0, ec2.create_volume(self.call(t0, actor), vid, size, name))
        item = self.track("ec2.volume", vid, t0, record, actor)
        if self.rng.random() < 0.15:
            ts = self.between(t0, t_end)
            self.emit(ts, ec2.create_tags(self.call(ts, actor), vid))
        if not leftover:
            self.emit(t_end, ec2.delete_volume(self.call(t_end, actor), vid))
            self.gone(item)

    def _snapshot(self, leftover: bool) -> None:
        actor = self.human()
        t0, t_end = self.span(leftover)
        sid = self.rec.hex_id("snap-")
        volume = self.rec.hex_id("vol-")  # a volume older than the history
        record = self.emit(
            t0, ec2.create_snapshot(self.call(t0, actor), sid, volume, self.rng.choice((8, 30)))
        )
        item = self.track("ec2.snapshot", sid, t0, record, actor)
        if not leftover:
            self.emit(t_end, ec2.delete_snapshot(self.call(t_end, actor), sid))
            self.gone(item)

    def _elastic_ip(self, leftover: bool) -> None:
        actor = self.human()
        t0, t_end = self.span(leftover)
        self.elastic_ip(actor, t0, None if leftover else t_end)

    def elastic_ip(self, actor: Actor, t0: int, t_end: int | None) -> str:
        """AllocateAddress, and ReleaseAddress at `t_end` unless None."""
        alloc = self.rec.hex_id("eipalloc-")
        record = self.emit(t0, ec2.allocate_address(self.call(t0, actor), alloc))
        item = self.track("ec2.elastic_ip", alloc, t0, record, actor)
        if t_end is not None:
            self.emit(t_end, ec2.release_address(self.call(t_end, actor), alloc))
            self.gone(item)
        return alloc

    def _nat_gateway(self, leftover: bool) -> None:
        actor = self.human()
        t0, t_end = self.span(leftover)
        released = None if leftover else min(t_end + self.rng.randint(60, 900), self.rec.end)
        alloc = self.elastic_ip(actor, t0, released)
        nat = self.rec.hex_id("nat-")
        ts = t0 + 30
        record = self.emit(ts, ec2.create_nat_gateway(self.call(ts, actor), nat, alloc))
        item = self.track("ec2.nat_gateway", nat, ts, record, actor)
        if not leftover:
            self.emit(t_end, ec2.delete_nat_gateway(self.call(t_end, actor), nat))
            self.gone(item)

    # rds ---------------------------------------------------------------------------------
    def db_name(self, mixed: bool) -> str:
        """A DB identifier as a person types it (sometimes in mixed case)."""
        app = self.rng.choice(_APPS)
        name = f"{app}-db-{self.serial()}"
        if mixed:
            name = "-".join(part.capitalize() for part in name.split("-"))
        return name

    def db_instance(
        self,
        leftover: bool,
        *,
        requested: str | None = None,
        span: tuple[int, int] | None = None,
        actor: Actor | None = None,
        rename: bool = False,
        failed_delete: bool = False,
    ) -> Tracked:
        """CreateDBInstance, maybe stops/starts, a rename, a failed delete; then delete."""
        actor = actor or self.human()
        t0, t_end = span or self.span(leftover)
        requested = requested or self.db_name(self.rng.random() < 0.4)
        zone = self.net.subnets[self.rng.randrange(3)][1]
        db = svc.DbInstance(
            identifier=requested.lower(),
            instance_class=self.rng.choice(_DB_CLASSES),
            engine="mysql",
            engine_version="8.0.35",
            resource_id=self.rec.upper_id("db-", 26, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            zone=zone,
            created=t0,
        )
        record = self.emit(t0, svc.create_db_instance(self.call(t0, actor), requested, db))
        item = self.track("rds.db_instance", db.identifier, t0, record, actor)
        used = requested  # the id as the user keeps typing it
        if failed_delete:
            ts = min(t0 + self.rng.randint(60, 400), t_end - 2)
            message = (
                f"Instance {db.identifier} is currently creating - "
                "a final snapshot cannot be taken."
            )
            self.emit(
                ts,
                svc.delete_db_instance(
                    self.call(ts, actor),
                    used,
                    db,
                    error=("InvalidDBInstanceState", message),
                ),
            )
        if rename and t_end - t0 > 1200:
            ts = self.between(t0 + 900, t_end)
            new = self.db_name(self.rng.random() < 0.5)
            self.emit(ts, svc.rename_db_instance(self.call(ts, actor), used, new, db))
            item.renamed_from.append(item.resource_id)
            del self.by_id[("rds.db_instance", item.resource_id)]
            item.resource_id = db.identifier = new.lower()
            self.by_id[("rds.db_instance", item.resource_id)] = item
            used = new
            t0 = ts
        if self.rng.random() < 0.3 and t_end - t0 > 3600:
            self._stop_start(
                item,
                (t0, t_end),
                lambda ts, name: svc.db_instance_state(self.call(ts, actor), name, used, db),
                ("StopDBInstance", "StartDBInstance"),
            )
        if not leftover:
            typed = used if self.rng.random() < 0.7 else used.lower()
            self.emit(t_end, svc.delete_db_instance(self.call(t_end, actor), typed, db))
            self.gone(item)
        return item

    def _stop_start(
        self,
        item: Tracked,
        span: tuple[int, int],
        make: Callable[[int, str], dict[str, Any]],
        names: tuple[str, str],
    ) -> None:
        """Stop and start a database once or twice within `span`, maybe leaving it stopped."""
        t0, t_end = span
        cycles = self.rng.randint(1, 2)
        step = (t_end - t0) // (2 * cycles + 1)
        ts = t0
        for n in range(2 * cycles):
            if n == 2 * cycles - 1 and self.rng.random() < 0.5:
                break
            ts += max(step, 2) - 1
            name = names[n % 2]
            self.emit(ts, make(ts, name))
            item.state = "stopped" if n % 2 == 0 else "available"

    def _db_instance(self, leftover: bool) -> None:
        self.db_instance(leftover)

    def _db_cluster(self, leftover: bool) -> None:
        actor = self.human()
        t0, t_end = self.span(leftover)
        requested = self.db_name(self.rng.random() < 0.4).replace("-db-", "-aurora-")
        db = svc.DbCluster(
            identifier=requested.lower(),
            resource_id=self.rec.upper_id("cluster-", 26, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            created=t0,
            zones=tuple(zone for _, zone in self.net.subnets),
        )
        record = self.emit(t0, svc.create_db_cluster(self.call(t0, actor), requested, db))
        item = self.track("rds.db_cluster", db.identifier, t0, record, actor)
        if self.rng.random() < 0.3 and t_end - t0 > 3600:
            self._stop_start(
                item,
                (t0, t_end),
                lambda ts, name: svc.db_cluster_state(self.call(ts, actor), name, requested, db),
                ("StopDBCluster", "StartDBCluster"),
            )
        if not leftover:
            arn = f"arn:aws:rds:{self.rec.region}:{self.rec.account}:cluster:{db.identifier}"
            typed = arn if self.rng.random() < 0.4 else requested
            self.emit(t_end, svc.delete_db_cluster(self.call(t_end, actor), typed, db))
            self.gone(item)

    # other services --------------------------------------------------------------------------
    def load_balancer(
        self, leftover: bool, *, actor: Actor | None = None, span: tuple[int, int] | None = None
    ) -> Tracked:
        """CreateLoadBalancer (application), DeleteLoadBalancer by ARN."""
        actor = actor or self.human()
        t0, t_end = span or self.span(leftover)
        name = f"{self.rng.choice(_APPS)}-alb-{self.serial()}"
        suffix = self.rec.hex_id("", 16)
        region, account = self.rec.region, self.rec.account
        arn = f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{suffix}"
        record = self.emit(t0, svc.create_load_balancer(self.call(t0, actor), name, arn))
        item = self.track("elbv2.load_balancer", arn, t0, record, actor)
        if not leftover:
            self.emit(t_end, svc.delete_load_balancer(self.call(t_end, actor), arn))
            self.gone(item)
        return item

    def bucket_name(self) -> str:
        """A globally unique bucket name."""
        app = self.rng.choice(_APPS)
        purpose = self.rng.choice(("logs", "assets", "backups", "data", "tmp", "exports"))
        return f"{app}-{purpose}-{self.rec.account}-{self.rec.region}-{self.serial()}"

    def bucket(
        self,
        leftover: bool,
        *,
        name: str | None = None,
        actor: Actor | None = None,
        span: tuple[int, int] | None = None,
        not_empty: bool = False,
        quiet: bool = False,
    ) -> Tracked:
        """CreateBucket, maybe a policy; DeleteBucket (first failing when not empty)."""
        actor = actor or self.human()
        t0, t_end = span or self.span(leftover)
        name = name or self.bucket_name()
        record = self.emit(t0, svc.create_bucket(self.call(t0, actor), name))
        item = self.track("s3.bucket", name, t0, record, actor)
        if not quiet and self.rng.random() < 0.3:
            ts = self.between(t0, t_end)
            self.emit(ts, svc.put_bucket_policy(self.call(ts, actor), name))
        if not_empty:
            ts = self.between(t0, t_end) if not leftover else self.between(t0, self.rec.end)
            error = ("BucketNotEmpty", "The bucket you tried to delete is not empty")
            self.emit(ts, svc.delete_bucket(self.call(ts, actor), name, error=error))
        if not leftover:
            self.emit(t_end, svc.delete_bucket(self.call(t_end, actor), name))
            self.gone(item)
        return item

    def _bucket(self, leftover: bool) -> None:
        self.bucket(leftover)

    def _load_balancer(self, leftover: bool) -> None:
        self.load_balancer(leftover)

    def _file_system(self, leftover: bool) -> None:
        actor = self.human()
        t0, t_end = self.span(leftover)
        fs = self.rec.hex_id("fs-")
        name = f"{self.rng.choice(_APPS)}-shared-{self.serial()}"
        record = self.emit(t0, svc.create_file_system(self.call(t0, actor), fs, name))
        item = self.track("efs.file_system", fs, t0, record, actor)
        if not leftover:
            self.emit(t_end, svc.delete_file_system(self.call(t_end, actor), fs))
            self.gone(item)

    def _eks_cluster(self, leftover: bool) -> None:
        actor = self.human()
        t0, t_end = self.span(leftover)
        name = f"{self.rng.choice(_APPS)}-eks-{self.serial()}"
        record = self.emit(t0, svc.create_eks_cluster(self.call(t0, actor), name))
        item = self.track("eks.cluster", name, t0, record, actor)
        if not leftover:
            self.emit(t_end, svc.delete_eks_cluster(self.call(t_end, actor), name, t0))
            self.gone(item)

    def _hosted_zone(self, leftover: bool) -> None:
        actor = self.human()
        t0, t_end = self.span(leftover)
        zone = self.rec.upper_id("Z0", 19, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        domain = f"{self.rng.choice(_APPS)}{self.serial()}.example.com"
        record = self.emit(t0, svc.create_hosted_zone(self.call(t0, actor), zone, domain))
        item = self.track("route53.hosted_zone", zone, t0, record, actor)
        if not leftover:
            self.emit(t_end, svc.delete_hosted_zone(self.call(t_end, actor), zone))
            self.gone(item)

    def _instance(self, leftover: bool) -> None:
        self.instances(leftover)

    _LIFECYCLES: ClassVar[dict[str, Callable[[Planner, bool], None]]] = {
        "ec2.instance": _instance,
        "ec2.volume": _volume,
        "ec2.snapshot": _snapshot,
        "ec2.elastic_ip": _elastic_ip,
        "ec2.nat_gateway": _nat_gateway,
        "rds.db_instance": _db_instance,
        "rds.db_cluster": _db_cluster,
        "elbv2.load_balancer": _load_balancer,
        "s3.bucket": _bucket,
        "efs.file_system": _file_system,
        "eks.cluster": _eks_cluster,
        "route53.hosted_zone": _hosted_zone,
    }

    # random fill -----------------------------------------------------------------------------
    def random_type(self) -> str:
        """A catalog type, weighted by how common it is."""
        return self.rng.choices(self.types, self._type_weights)[0]

    def leftover(self) -> bool:
        """Whether the next plain lifecycle is left over."""
        return self.rng.random() < self.leftover_rate
