"""Life stories of the types described in templates_catalog.yaml: create (now and then refused
first), state changes, a rename, delete unless left over; names created again where ids are names.
"""

from __future__ import annotations

from emulator.history.scenarios import APPS, Planner, Tracked, denied
from emulator.history.templates_catalog import Kind


def _name(plan: Planner, kind: Kind) -> str:
    short = kind.name.split(".", 1)[1].replace("_", "-")
    return f"{plan.rng.choice(APPS)}-{short}-{plan.serial()}"


def lifecycle(
    plan: Planner,
    kind: Kind,
    leftover: bool,
    *,
    name: str | None = None,
    span: tuple[int, int] | None = None,
    failed_first: bool | None = None,
) -> Tracked:
    """One resource of `kind`; refused once before it is created when `failed_first`."""
    actor = plan.human()
    t0, t_end = span or plan.span(leftover)
    again = name is not None
    name = name or _name(plan, kind)
    rid = kind.new_id(plan.rec, name)
    parent = kind.new_parent(plan.rec, name)
    known = plan.by_id.get((kind.name, rid))
    if known is not None and not again:  # one per account (a subscription): made once
        return known
    if failed_first if failed_first is not None else plan.rng.random() < 0.1:
        ts = plan.rec.clamp(t0 - plan.rng.randint(30, 600))
        service = kind.source.split(".", 1)[0]
        error = denied(actor, f"{service}:{kind.create.event}", kind.arn(plan.call(ts, actor), rid))
        plan.emit(ts, kind.record(plan.call(ts, actor), kind.create, rid, name, error=error))
    record = plan.emit(t0, kind.record(plan.call(t0, actor), kind.create, rid, name, parent=parent))
    item = plan.track(kind.name, rid, t0, record, actor, state=kind.state)
    item.created_via = parent
    if kind.states and t_end - t0 > 3600 and plan.rng.random() < 0.5:
        count = plan.rng.randint(1, len(kind.states))
        ts = t0
        for part in kind.states[:count]:
            ts = plan.between(ts, t_end)
            plan.emit(ts, kind.record(plan.call(ts, actor), part, item.resource_id, name))
            item.state = part.sets or item.state
    if kind.rename is not None and t_end - t0 > 1200 and plan.rng.random() < 0.5:
        ts = plan.between(t0 + 600, t_end)
        new = kind.new_id(plan.rec, _name(plan, kind))
        call = plan.call(ts, actor)
        plan.emit(ts, kind.record(call, kind.rename, item.resource_id, name, new=new))
        plan.renamed(item, new)
    if not leftover:
        call = plan.call(t_end, actor)
        plan.emit(t_end, kind.record(call, kind.delete, item.resource_id, name))
        plan.gone(item)
    return item


def tour(plan: Planner, kind: Kind) -> None:
    """Every story of a type once, one resource in three left over: refused then created and
    left, and two deleted; where ids are names, deleted and created again under the same name
    (the second one left) instead of the first."""
    if "{name}" not in kind.id_form:  # one per account: the one left
        lifecycle(plan, kind, True, failed_first=True)
        return
    lifecycle(plan, kind, False, failed_first=False)
    if not kind.names_are_ids:
        lifecycle(plan, kind, True, failed_first=True)
        lifecycle(plan, kind, False, failed_first=False)
        return
    start, end = plan.rec.start, plan.rec.end
    t0 = plan.moment(start, start + (end - start) // 2)
    t1 = min(t0 + plan.rng.randint(600, 3 * 86400), end - 7200)
    name = _name(plan, kind)
    lifecycle(plan, kind, False, name=name, span=(t0, t1), failed_first=True)
    lifecycle(plan, kind, True, name=name, span=(plan.between(t1, end - 600), end))
