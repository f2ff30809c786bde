"""Life stories of RDS, ELBv2, S3, EFS, EKS and Route 53 resources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.history import templates_rds as rds
from emulator.history import templates_services as svc
from emulator.history.actors import Actor
from emulator.history.scenarios import APPS, DB_CLASSES, Planner, Tracked


def db_name(plan: Planner, mixed: bool) -> str:
    """A DB identifier as a person types it (sometimes in mixed case)."""
    app = plan.rng.choice(APPS)
    name = f"{app}-db-{plan.serial()}"
    if mixed:
        name = "-".join(part.capitalize() for part in name.split("-"))
    return name


def db_instance(
    plan: Planner,
    leftover: bool,
    *,
    requested: str | None = None,
    span: tuple[int, int] | None = None,
    actor: Actor | None = None,
    rename: bool = False,
    failed_delete: bool = False,
) -> Tracked:
    """CreateDBInstance, maybe stops/starts, a rename, a failed delete; then delete."""
    actor = actor or plan.human()
    t0, t_end = span or plan.span(leftover)
    requested = requested or db_name(plan, plan.rng.random() < 0.4)
    zone = plan.net.subnets[plan.rng.randrange(3)][1]
    db = rds.DbInstance(
        identifier=requested.lower(),
        instance_class=plan.rng.choice(DB_CLASSES),
        engine="mysql",
        engine_version="8.0.35",
        resource_id=plan.rec.upper_id("db-", 26, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        zone=zone,
        created=t0,
    )
    item = plan.create(
        t0, actor, "rds.db_instance", db.identifier, rds.create_db_instance, requested, db
    )
    used = requested  # the id as the user keeps typing it
    if failed_delete:
        ts = min(t0 + plan.rng.randint(60, 400), t_end - 2)
        message = (
            f"Instance {db.identifier} is currently creating - a final snapshot cannot be taken."
        )
        plan.emit(
            ts,
            rds.delete_db_instance(
                plan.call(ts, actor),
                used,
                db,
                error=("InvalidDBInstanceState", message),
            ),
        )
    if rename and t_end - t0 > 1200:
        ts = plan.between(t0 + 900, t_end)
        new = db_name(plan, plan.rng.random() < 0.5)
        plan.emit(ts, rds.rename_db_instance(plan.call(ts, actor), used, new, db))
        plan.renamed(item, new.lower())
        db.identifier = item.resource_id
        used = new
        t0 = ts
    if plan.rng.random() < 0.3 and t_end - t0 > 3600:
        _stop_start_db(
            plan,
            item,
            (t0, t_end),
            lambda ts, name: rds.db_instance_state(plan.call(ts, actor), name, used, db),
            ("StopDBInstance", "StartDBInstance"),
        )
    if not leftover:
        typed = used if plan.rng.random() < 0.7 else used.lower()
        plan.delete(t_end, actor, item, rds.delete_db_instance, typed, db)
    return item


def _stop_start_db(
    plan: Planner,
    item: Tracked,
    span: tuple[int, int],
    make: Callable[[int, str], dict[str, Any]],
    names: tuple[str, str],
) -> None:
    """Stop and start a database once or twice within `span`, maybe leaving it stopped."""
    t0, t_end = span
    cycles = plan.rng.randint(1, 2)
    step = (t_end - t0) // (2 * cycles + 1)
    ts = t0
    for n in range(2 * cycles):
        if n == 2 * cycles - 1 and plan.rng.random() < 0.5:
            break
        ts += max(step, 2) - 1
        name = names[n % 2]
        plan.emit(ts, make(ts, name))
        item.state = "stopped" if n % 2 == 0 else "available"


def db_cluster(plan: Planner, leftover: bool) -> None:
    actor = plan.human()
    t0, t_end = plan.span(leftover)
    requested = db_name(plan, plan.rng.random() < 0.4).replace("-db-", "-aurora-")
    db = rds.DbCluster(
        identifier=requested.lower(),
        resource_id=plan.rec.upper_id("cluster-", 26, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        created=t0,
        zones=tuple(zone for _, zone in plan.net.subnets),
    )
    item = plan.create(
        t0, actor, "rds.db_cluster", db.identifier, rds.create_db_cluster, requested, db
    )
    if plan.rng.random() < 0.2 and t_end - t0 > 1200:
        ts = plan.between(t0 + 600, t_end)
        new = db_name(plan, False).replace("-db-", "-aurora-")
        plan.emit(ts, rds.rename_db_cluster(plan.call(ts, actor), requested, new, db))
        plan.renamed(item, new)
        db.identifier = requested = new
        t0 = ts
    if plan.rng.random() < 0.3 and t_end - t0 > 3600:
        _stop_start_db(
            plan,
            item,
            (t0, t_end),
            lambda ts, name: rds.db_cluster_state(plan.call(ts, actor), name, requested, db),
            ("StopDBCluster", "StartDBCluster"),
        )
    if not leftover:
        arn = f"arn:aws:rds:{plan.rec.region}:{plan.rec.account}:cluster:{db.identifier}"
        typed = arn if plan.rng.random() < 0.4 else requested
        plan.delete(t_end, actor, item, rds.delete_db_cluster, typed, db)


def load_balancer(
    plan: Planner,
    leftover: bool,
    *,
    actor: Actor | None = None,
    span: tuple[int, int] | None = None,
) -> Tracked:
    """CreateLoadBalancer (application), DeleteLoadBalancer by ARN."""
    actor = actor or plan.human()
    t0, t_end = span or plan.span(leftover)
    name = f"{plan.rng.choice(APPS)}-alb-{plan.serial()}"
    suffix = plan.rec.hex_id("", 16)
    region, account = plan.rec.region, plan.rec.account
    arn = f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{suffix}"
    item = plan.create(t0, actor, "elbv2.load_balancer", arn, svc.create_load_balancer, name, arn)
    if not leftover:
        plan.delete(t_end, actor, item, svc.delete_load_balancer, arn)
    return item


def bucket_name(
    plan: Planner,
) -> str:
    """A globally unique bucket name."""
    app = plan.rng.choice(APPS)
    purpose = plan.rng.choice(("logs", "assets", "backups", "data", "tmp", "exports"))
    return f"{app}-{purpose}-{plan.rec.account}-{plan.rec.region}-{plan.serial()}"


def bucket(
    plan: Planner,
    leftover: bool,
    *,
    name: str | None = None,
    actor: Actor | None = None,
    span: tuple[int, int] | None = None,
    not_empty: bool = False,
    quiet: bool = False,
) -> Tracked:
    """CreateBucket, maybe a policy; DeleteBucket (first failing when not empty)."""
    actor = actor or plan.human()
    t0, t_end = span or plan.span(leftover)
    name = name or bucket_name(
        plan,
    )
    item = plan.create(t0, actor, "s3.bucket", name, svc.create_bucket, name)
    if not quiet and plan.rng.random() < 0.3:
        ts = plan.between(t0, t_end)
        plan.emit(ts, svc.put_bucket_policy(plan.call(ts, actor), name))
    if not_empty:
        ts = plan.between(t0, t_end) if not leftover else plan.between(t0, plan.rec.end)
        error = ("BucketNotEmpty", "The bucket you tried to delete is not empty")
        plan.emit(ts, svc.delete_bucket(plan.call(ts, actor), name, error=error))
    if not leftover:
        plan.delete(t_end, actor, item, svc.delete_bucket, name)
    return item


def file_system(plan: Planner, leftover: bool) -> None:
    actor = plan.human()
    t0, t_end = plan.span(leftover)
    fs = plan.rec.hex_id("fs-")
    name = f"{plan.rng.choice(APPS)}-shared-{plan.serial()}"
    item = plan.create(t0, actor, "efs.file_system", fs, svc.create_file_system, fs, name)
    if not leftover:
        plan.delete(t_end, actor, item, svc.delete_file_system, fs)


def eks_cluster(plan: Planner, leftover: bool) -> None:
    actor = plan.human()
    t0, t_end = plan.span(leftover)
    name = f"{plan.rng.choice(APPS)}-eks-{plan.serial()}"
    item = plan.create(t0, actor, "eks.cluster", name, svc.create_eks_cluster, name)
    if not leftover:
        plan.delete(t_end, actor, item, svc.delete_eks_cluster, name, t0)


def hosted_zone(plan: Planner, leftover: bool) -> None:
    actor = plan.human()
    t0, t_end = plan.span(leftover)
    zone = plan.rec.upper_id("Z0", 19, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    domain = f"{plan.rng.choice(APPS)}{plan.serial()}.example.com"
    item = plan.create(t0, actor, "route53.hosted_zone", zone, svc.create_hosted_zone, zone, domain)
    if not leftover:
        plan.delete(t_end, actor, item, svc.delete_hosted_zone, zone)
