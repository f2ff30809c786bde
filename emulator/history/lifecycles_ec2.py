"""Life stories of EC2 resources: instances, volumes, snapshots, addresses, NAT gateways."""

from __future__ import annotations

from emulator.history import templates as ec2
from emulator.history.actors import Actor
from emulator.history.scenarios import APPS, DRY_RUN, INSTANCE_TYPES, Planner, Tracked


def instances(
    plan: Planner,
    leftover: bool,
    *,
    count: int = 1,
    actor: Actor | None = None,
    span: tuple[int, int] | None = None,
    keep: int | None = None,
    dry_run: bool = False,
    quiet: bool = False,
    via: tuple[str, str, str] | None = None,
) -> list[Tracked]:
    """RunInstances for `count` instances; stops and starts; terminate all but `keep`.

    `via` (parent type, tag key, parent id): launched for a group or stack, which tags them."""
    actor = actor or plan.human()
    t0, t_end = span or plan.span(leftover)
    if dry_run:
        ts = plan.rec.clamp(t0 - 20)
        name = f"{plan.rng.choice(APPS)}-dry-run"
        record = ec2.run_instances(plan.call(ts, actor), [], "t3.micro", name, error=DRY_RUN)
        plan.emit(ts, record)
    ids = [plan.rec.hex_id("i-") for _ in range(count)]
    name = f"{plan.rng.choice(APPS)}-{plan.serial()}"
    kind = plan.rng.choice(INSTANCE_TYPES)
    tags = () if via is None else ((via[1], via[2]),)  # the parent tags what it launches
    record = plan.emit(
        t0, ec2.run_instances(plan.call(t0, actor), ids, kind, name, extra_tags=tags)
    )
    items = [plan.track("ec2.instance", i, t0, record, actor) for i in ids]
    if via is not None:
        for item in items:
            item.created_via = f"{via[0]}/{via[2]}"
    if not quiet and plan.rng.random() < 0.2:
        ts = plan.between(t0, t_end)
        plan.emit(ts, ec2.create_tags(plan.call(ts, actor), ids[0]))
    if not quiet and plan.rng.random() < 0.35 and t_end - t0 > 600:
        _stop_start_instances(plan, items, t0, t_end, actor)
    survivors = count if leftover else (keep or 0)
    doomed = items[survivors:]
    if doomed:
        terminate(plan, doomed, t_end, actor)
    return items


def _stop_start_instances(
    plan: Planner, items: list[Tracked], t0: int, t_end: int, actor: Actor
) -> None:
    cycles = plan.rng.randint(1, 3)
    step = (t_end - t0) // (2 * cycles + 1)
    ts = t0
    for n in range(2 * cycles):
        if n == 2 * cycles - 1 and plan.rng.random() < 0.5:
            break  # leave it stopped
        ts += max(step, 2) - 1
        name, current = (
            ("StopInstances", "stopped") if n % 2 == 0 else ("StartInstances", "running")
        )
        previous = "running" if current == "stopped" else "stopped"
        showing = "stopping" if current == "stopped" else "pending"
        changes = [(item.resource_id, previous, showing) for item in items]
        plan.emit(ts, ec2.instance_state_change(plan.call(ts, actor), name, changes))
        for item in items:
            item.state = current


def terminate(plan: Planner, items: list[Tracked], ts: int, actor: Actor) -> None:
    """TerminateInstances of several instances in one call."""
    changes = [(i.resource_id, i.state, "shutting-down") for i in items]
    plan.emit(ts, ec2.instance_state_change(plan.call(ts, actor), "TerminateInstances", changes))
    for item in items:
        plan.gone(item)


def volume(plan: Planner, leftover: bool) -> None:
    actor = plan.human()
    t0, t_end = plan.span(leftover)
    vid = plan.rec.hex_id("vol-")
    size = plan.rng.choice((8, 20, 50, 100, 500))
    name = f"{plan.rng.choice(APPS)}-data-{plan.serial()}"
    item = plan.create(t0, actor, "ec2.volume", vid, ec2.create_volume, vid, size, name)
    if plan.rng.random() < 0.15:
        ts = plan.between(t0, t_end)
        plan.emit(ts, ec2.create_tags(plan.call(ts, actor), vid))
    if not leftover:
        plan.delete(t_end, actor, item, ec2.delete_volume, vid)


def snapshot(plan: Planner, leftover: bool) -> None:
    actor = plan.human()
    t0, t_end = plan.span(leftover)
    sid = plan.rec.hex_id("snap-")
    volume = plan.rec.hex_id("vol-")  # a volume older than the history
    record = plan.emit(
        t0, ec2.create_snapshot(plan.call(t0, actor), sid, volume, plan.rng.choice((8, 30)))
    )
    item = plan.track("ec2.snapshot", sid, t0, record, actor)
    if not leftover:
        plan.delete(t_end, actor, item, ec2.delete_snapshot, sid)


def address(plan: Planner, leftover: bool) -> None:
    actor = plan.human()
    t0, t_end = plan.span(leftover)
    elastic_ip(plan, actor, t0, None if leftover else t_end)


def elastic_ip(plan: Planner, actor: Actor, t0: int, t_end: int | None) -> str:
    """AllocateAddress, and ReleaseAddress at `t_end` unless None."""
    alloc = plan.rec.hex_id("eipalloc-")
    item = plan.create(t0, actor, "ec2.elastic_ip", alloc, ec2.allocate_address, alloc)
    if t_end is not None:
        plan.delete(t_end, actor, item, ec2.release_address, alloc)
    return alloc


def nat_gateway(plan: Planner, leftover: bool) -> None:
    actor = plan.human()
    t0, t_end = plan.span(leftover)
    released = None if leftover else min(t_end + plan.rng.randint(60, 900), plan.rec.end)
    alloc = elastic_ip(plan, actor, t0, released)
    nat = plan.rec.hex_id("nat-")
    ts = t0 + 30
    item = plan.create(ts, actor, "ec2.nat_gateway", nat, ec2.create_nat_gateway, nat, alloc)
    if not leftover:
        plan.delete(t_end, actor, item, ec2.delete_nat_gateway, nat)
