"""The tricky stories a scanner must get right: failures, renames, re-created names, services.

Each story writes its records through a `Planner`, which keeps the bookkeeping of what is left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from emulator.history import templates as ec2
from emulator.history import templates_rds as rds
from emulator.history import templates_services as svc
from emulator.history.lifecycles_catalog import lifecycle
from emulator.history.lifecycles_catalog import tour as catalog_tour
from emulator.history.lifecycles_ec2 import (
    address,
    instances,
    nat_gateway,
    snapshot,
    terminate,
    volume,
)
from emulator.history.lifecycles_services import (
    bucket,
    bucket_name,
    db_cluster,
    db_instance,
    eks_cluster,
    file_system,
    hosted_zone,
    load_balancer,
)
from emulator.history.scenarios import APPS, DAY, HOUR, Planner, denied
from emulator.history.templates_catalog import Kind


def multi_launch(plan: Planner) -> None:
    """One RunInstances for 2-4 instances; most terminated together, one maybe kept."""
    count = plan.rng.randint(2, 4)
    keep = plan.rng.choice((0, 1, 1))
    instances(plan, False, count=count, keep=keep)


def dry_run_launch(plan: Planner) -> None:
    """A dry run (Client.DryRunOperation) seconds before the real launch."""
    instances(plan, plan.leftover(), dry_run=True)


def unauthorized_launch(plan: Planner) -> None:
    """A RunInstances refused with Client.UnauthorizedOperation: nothing is created."""
    actor = plan.cast.humans[plan.rng.randrange(len(plan.cast.humans))]
    ts = plan.moment(plan.rec.start, plan.rec.end)
    resource = f"arn:aws:ec2:{plan.rec.region}:{plan.rec.account}:instance/*"
    error = denied(actor, "ec2:RunInstances", resource)
    name = f"{plan.rng.choice(APPS)}-denied"
    record = ec2.run_instances(plan.call(ts, actor), [], "m5.large", name, error=error)
    plan.emit(ts, record)


def terminate_denied(plan: Planner) -> None:
    """Someone not allowed tries to terminate an instance; it lives on (a leftover)."""
    owner = plan.human()
    items = instances(plan, True, actor=owner)
    others = [a for a in plan.cast.humans if a is not owner] or [owner]
    intruder = others[plan.rng.randrange(len(others))]
    ts = plan.between(items[0].created, plan.rec.end)
    resource = f"arn:aws:ec2:{plan.rec.region}:{plan.rec.account}:instance/{items[0].resource_id}"
    error = denied(intruder, "ec2:TerminateInstances", resource)
    changes = [(items[0].resource_id, "running", "shutting-down")]
    record = ec2.instance_state_change(
        plan.call(ts, intruder), "TerminateInstances", changes, error=error
    )
    plan.emit(ts, record)


def auto_scaling(plan: Planner) -> None:
    """A group whose instances Auto Scaling launches and terminates; the group may be deleted."""
    owner = plan.human()
    role = plan.cast.autoscaling
    deleted = plan.rng.random() < 0.5
    t0, t_end = plan.span(not deleted)
    if t_end - t0 < 2 * HOUR:
        t0 = max(plan.rec.start, t_end - 2 * HOUR)
    name = f"{plan.rng.choice(APPS)}-asg-{plan.serial()}"
    size = plan.rng.randint(2, 3)
    record = plan.emit(t0, svc.create_asg(plan.call(t0, owner), name, size))
    group = plan.track("autoscaling.group", name, t0, record, owner, state="active")
    via = ("autoscaling.group", "aws:autoscaling:groupName", name)
    live = []
    for n in range(size):
        ts = t0 + 40 + n * 5
        live += instances(plan, True, actor=role, span=(ts, t_end), quiet=True, via=via)
    # a scale-in and a replacement now and then
    if plan.rng.random() < 0.7 and t_end - t0 > 2 * HOUR:
        ts = plan.between(t0 + HOUR, t_end - 600)
        victim = live.pop(0)
        terminate(plan, [victim], ts, role)
        live += instances(plan, True, actor=role, span=(ts + 60, t_end), quiet=True, via=via)
    if deleted:
        plan.emit(t_end - 60, svc.delete_asg(plan.call(t_end - 60, owner), name))
        plan.gone(group)
        terminate(plan, live, t_end, role)


def cloudformation_stack(plan: Planner) -> None:
    """A stack whose role creates a bucket, a load balancer and an instance; maybe deleted."""
    owner = plan.human()
    role = plan.cast.cloudformation
    deleted = plan.rng.random() < 0.5
    t0, t_end = plan.span(not deleted)
    if t_end - t0 < 1200:
        t0 = max(plan.rec.start, t_end - 1200)
    stack = f"{plan.rng.choice(APPS)}-stack-{plan.serial()}"
    region, account = plan.rec.region, plan.rec.account
    stack_id = f"arn:aws:cloudformation:{region}:{account}:stack/{stack}/{plan.rec.uuid()}"
    plan.emit(t0, svc.create_stack(plan.call(t0, owner), stack, stack_id))
    # CloudFormation deletes what it made shortly after the user's DeleteStack, in reverse.
    delete_at = t_end - 300
    last = delete_at if deleted else t_end
    store = bucket(plan, True, actor=role, span=(t0 + 10, last), quiet=True)
    balancer = load_balancer(plan, True, actor=role, span=(t0 + 30, last))
    via = ("cloudformation.stack", "aws:cloudformation:stack-id", stack_id)
    servers = instances(plan, True, actor=role, span=(t0 + 60, last), quiet=True, via=via)
    if deleted:
        plan.emit(delete_at, svc.delete_stack(plan.call(delete_at, owner), stack_id))
        terminate(plan, servers, delete_at + 20, role)
        plan.emit(
            delete_at + 90,
            svc.delete_load_balancer(plan.call(delete_at + 90, role), balancer.resource_id),
        )
        plan.gone(balancer)
        plan.emit(
            delete_at + 120, svc.delete_bucket(plan.call(delete_at + 120, role), store.resource_id)
        )
        plan.gone(store)


def rds_rename(plan: Planner) -> None:
    """A DB instance renamed (ModifyDBInstance newDBInstanceIdentifier, applied now)."""
    leftover = plan.rng.random() < 0.6
    t0, t_end = plan.span(leftover)
    if t_end - t0 < 3 * HOUR:
        t0 = max(plan.rec.start, t_end - 3 * HOUR)
    db_instance(plan, leftover, span=(t0, t_end), rename=True)


def rds_failed_delete(plan: Planner) -> None:
    """A DeleteDBInstance refused (InvalidDBInstanceState) while the instance is creating."""
    db_instance(plan, plan.rng.random() < 0.5, failed_delete=True)


def rds_recreate(plan: Planner) -> None:
    """create X, a refused duplicate create, delete X, create X again: the second X is left."""
    actor = plan.human()
    requested = plan.rng.choice(("database-1", "Database-1", "test-db", "Demo-DB"))
    requested = f"{requested}-{plan.serial()}"
    start, end = plan.rec.start, plan.rec.end
    t0 = plan.moment(start, start + (end - start) // 2)
    t1 = min(t0 + plan.rng.randint(HOUR, 5 * DAY), end - 2 * HOUR)
    first = db_instance(plan, False, requested=requested, span=(t0, t1), actor=actor)
    ts = plan.between(t0, t1)
    db = rds.DbInstance(requested.lower(), "db.t3.micro", "mysql", "8.0.35", "db-X", "", t0)
    error = ("DBInstanceAlreadyExists", "DB instance already exists")
    plan.emit(ts, rds.create_db_instance(plan.call(ts, actor), requested, db, error=error))
    t2 = plan.between(t1, end - 600)
    second = db_instance(plan, True, requested=requested.lower(), span=(t2, end), actor=actor)
    assert first.resource_id == second.resource_id


def bucket_not_empty(plan: Planner) -> None:
    """DeleteBucket refused with BucketNotEmpty; emptied and deleted later, or left."""
    bucket(plan, plan.rng.random() < 0.5, not_empty=True)


def bucket_recreate(plan: Planner) -> None:
    """A bucket deleted and created again with the same name: the second one is left."""
    actor = plan.human()
    name = bucket_name(
        plan,
    )
    start, end = plan.rec.start, plan.rec.end
    t0 = plan.moment(start, start + (end - start) // 2)
    t1 = min(t0 + plan.rng.randint(600, 3 * DAY), end - 2 * HOUR)
    bucket(plan, False, name=name, actor=actor, span=(t0, t1))
    t2 = plan.between(t1 + 120, end - 600)
    bucket(plan, True, name=name, actor=actor, span=(t2, end))


def helper_write(plan: Planner) -> None:
    """A write that creates nothing the catalog tracks (tags, rules, log groups)."""
    actor = plan.human()
    ts = plan.moment(plan.rec.start, plan.rec.end)
    kind = plan.rng.random()
    if kind < 0.4:
        plan.emit(ts, ec2.authorize_ingress(plan.call(ts, actor)))
    elif kind < 0.7:
        kind_name = plan.rng.choice(("lambda", "ecs", "app"))
        name = f"/aws/{kind_name}/{plan.rng.choice(APPS)}-{plan.serial()}"
        record = plan.emit(ts, svc.create_log_group(plan.call(ts, actor), name))
        plan.track("logs.log_group", name, ts, record, actor, state="available")
    else:
        plan.emit(ts, ec2.create_tags(plan.call(ts, actor), plan.net.vpc))


Story = Callable[[Planner], None]

#: Every story, with how often it is drawn in the random fill.
STORIES: dict[str, tuple[Story, int]] = {
    "multi_launch": (multi_launch, 6),
    "dry_run_launch": (dry_run_launch, 3),
    "unauthorized_launch": (unauthorized_launch, 2),
    "terminate_denied": (terminate_denied, 1),
    "auto_scaling": (auto_scaling, 2),
    "cloudformation_stack": (cloudformation_stack, 2),
    "rds_rename": (rds_rename, 2),
    "rds_failed_delete": (rds_failed_delete, 2),
    "rds_recreate": (rds_recreate, 1),
    "bucket_not_empty": (bucket_not_empty, 2),
    "bucket_recreate": (bucket_recreate, 1),
}


Lifecycle = Callable[[Planner, bool], object]

#: One plain lifecycle per catalog type: create, maybe change, delete unless left over.
LIFECYCLES: dict[str, Lifecycle] = {
    "ec2.instance": instances,
    "ec2.volume": volume,
    "ec2.snapshot": snapshot,
    "ec2.elastic_ip": address,
    "ec2.nat_gateway": nat_gateway,
    "rds.db_instance": db_instance,
    "rds.db_cluster": db_cluster,
    "elbv2.load_balancer": load_balancer,
    "s3.bucket": bucket,
    "efs.file_system": file_system,
    "eks.cluster": eks_cluster,
    "route53.hosted_zone": hosted_zone,
}


#: How often the random fill draws one of the described types (each as likely as the others).
DESCRIBED_SHARE = 0.25


def play(plan: Planner, budget: int, *, guaranteed: bool, tour: Sequence[Kind] = ()) -> None:
    """Create about `budget` resources: first, when `guaranteed`, the twelve types and every
    story once, and the tour of the described types given to this (account, region)."""
    if guaranteed:
        for rtype in plan.types:
            LIFECYCLES[rtype](plan, True)
            LIFECYCLES[rtype](plan, False)
        for story, _ in STORIES.values():
            story(plan)
        for kind in tour:
            catalog_tour(plan, kind)
    names = list(STORIES)
    weights = [STORIES[name][1] for name in names]
    while plan.counts.created < budget:
        roll = plan.rng.random()
        if roll < 0.12:
            STORIES[plan.rng.choices(names, weights)[0]][0](plan)
        elif roll < 0.12 + DESCRIBED_SHARE and plan.kinds:
            lifecycle(plan, plan.kinds[plan.rng.randrange(len(plan.kinds))], plan.leftover())
        else:
            LIFECYCLES[plan.random_type()](plan, plan.leftover())
        if plan.rng.random() < 0.3:
            helper_write(plan)
