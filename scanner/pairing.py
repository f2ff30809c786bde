"""The pairing engine: facts drawn from records, joined into lifecycles (pure, order-independent).

`merge` is a join (commutative, associative, idempotent): it keeps, per resource, the latest
create, the latest delete and the latest state change by `Fact.order`. So `pair` gives the same
lifecycles for any order and any duplication of facts, and records can be paired as they stream in.
No I/O, no clock, no globals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from scanner.catalog import Catalog, Expression, Rule, is_false
from scanner.lifecycle import Actor, Change, Fact, Lifecycle, ResourceKey, tag_key
from scanner.records import Record
from scanner.tags import tag_pairs

_TRUE = (True, "true", "True")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def actor_of(body: Mapping[str, Any]) -> Actor:
    """Who made the call: ARN, user name, source IP and user agent.

    `user_name` is what LookupEvents calls `Username`: an IAM user's name, the session name of an
    assumed role (for IAM Identity Center, the person's login), `root`, or the calling service.
    """
    identity = body.get("userIdentity")
    if not isinstance(identity, dict):
        identity = {}
    arn = _text(identity.get("arn"))
    user = _text(identity.get("userName"))
    kind = identity.get("type")
    if user is None and kind == "AssumedRole" and arn is not None and "/" in arn:
        user = arn.rsplit("/", 1)[1] or None
    if user is None:
        context = identity.get("sessionContext")
        issuer = context.get("sessionIssuer") if isinstance(context, dict) else None
        user = _text(issuer.get("userName")) if isinstance(issuer, dict) else None
    if user is None and kind == "Root":
        user = "root"
    if user is None:
        user = _text(identity.get("invokedBy"))
    return Actor(
        arn=arn,
        user_name=user,
        source_ip=_text(body.get("sourceIPAddress")),
        user_agent=_text(body.get("userAgent")),
    )


def _scalar(value: object) -> str | None:
    """An attribute value as text: strings, numbers, booleans, `{tag, content}` objects."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict) and "content" in value:
        return _scalar(value["content"])
    return None


def _strings(value: object) -> list[str]:
    """Ids from an expression result: one string, a list of them, or `{tag, content}` objects."""
    if isinstance(value, list):
        found: list[str] = []
        for item in value:
            found.extend(_strings(item))
        return found
    text = _scalar(value)
    return [] if text is None or isinstance(value, bool) else [text]


def _is_dry_run(body: Mapping[str, Any]) -> bool:
    parameters = body.get("requestParameters")
    if not isinstance(parameters, dict):
        return False
    return parameters.get("dryRun") in _TRUE or parameters.get("DryRun") in _TRUE


def _attributes(expressions: tuple[tuple[str, Expression], ...], data: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, expression in expressions:
        value = _scalar(expression(data))
        if value is not None:
            found[name] = value
    return found


def _optional(expression: Expression | None, data: Any) -> str | None:
    return None if expression is None else _scalar(expression(data))


class _Builder:
    """Makes the facts of one record (the actor is worked out once, and only when needed)."""

    __slots__ = ("_actor", "body", "record")

    def __init__(self, record: Record) -> None:
        self.record = record
        self.body = record.body
        self._actor: Actor | None = None

    def created_via(self, rule: Rule) -> str | None:
        """`<parent type>/<id>` from the first of the rule's parent expressions that yields."""
        if rule.change is not Change.CREATE:
            return None
        for parent, expression in rule.created_via:
            value = _scalar(expression(self.body))
            if value is not None:
                return f"{parent}/{value}"
        return None

    def key(self, rule: Rule, raw_id: str) -> ResourceKey | None:
        resource_id = rule.normalise(raw_id)
        if not resource_id:
            return None
        record = self.record
        return ResourceKey(record.account_id, record.region, rule.resource_type, resource_id)

    def fact(
        self,
        rule: Rule,
        key: ResourceKey,
        change: Change,
        *,
        name: str | None = None,
        arn: str | None = None,
        attributes: Mapping[str, str] | None = None,
        renamed_from: ResourceKey | None = None,
        created_via: str | None = None,
    ) -> Fact:
        if self._actor is None:
            self._actor = actor_of(self.body)
        record = self.record
        return Fact(
            key=key,
            change=change,
            time=record.event_time,
            event_id=record.event_id,
            event_name=record.event_name,
            actor=self._actor,
            state=rule.state,
            name=name,
            arn=arn,
            attributes=tuple(sorted(attributes.items())) if attributes else (),
            renamed_from=renamed_from,
            created_via=created_via,
        )

    def rename(self, rule: Rule) -> list[Fact]:
        assert rule.new_id is not None
        old = _strings(rule.id(self.body))
        new = _strings(rule.new_id(self.body))
        if len(old) != 1 or len(new) != 1:
            return []
        old_key = self.key(rule, old[0])
        new_key = self.key(rule, new[0])
        if old_key is None or new_key is None or old_key == new_key:
            return []
        return [
            self.fact(rule, old_key, Change.DELETE),
            self.fact(rule, new_key, Change.CREATE, renamed_from=old_key),
        ]

    def items(self, rule: Rule) -> list[Fact]:
        assert rule.items is not None
        items = rule.items(self.body)
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            return []
        record_name = _optional(rule.record_name, self.body)
        record_attributes = _attributes(rule.record_attributes, self.body)
        via = self.created_via(rule) if rule.created_via else None
        facts: list[Fact] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            for raw_id in dict.fromkeys(_strings(rule.id(item))):
                key = self.key(rule, raw_id)
                if key is None:
                    continue
                attributes = {**record_attributes, **_attributes(rule.attributes, item)}
                name = _optional(rule.name, item) or record_name
                facts.append(
                    self.fact(
                        rule,
                        key,
                        rule.change,
                        name=name,
                        arn=_optional(rule.arn, item),
                        attributes=attributes,
                        created_via=via,
                    )
                )
        return facts

    def plain(self, rule: Rule) -> list[Fact]:
        ids = _strings(rule.id(self.body))
        if not ids:
            return []
        name = _optional(rule.name, self.body)
        arn = _optional(rule.arn, self.body)
        attributes = _attributes(rule.attributes, self.body)
        via = self.created_via(rule) if rule.created_via else None
        facts: list[Fact] = []
        for raw_id in dict.fromkeys(ids):
            key = self.key(rule, raw_id)
            if key is not None:
                facts.append(
                    self.fact(
                        rule,
                        key,
                        rule.change,
                        name=name,
                        arn=arn,
                        attributes=attributes,
                        created_via=via,
                    )
                )
        return facts


def _tag_facts(builder: _Builder, rule: Rule, facts: list[Fact]) -> list[Fact]:
    """The facts of the tags' own lifecycles (lifecycle.tag_key) that a rule's facts carry."""
    pairs = [] if rule.tags is None else tag_pairs(rule.tags(builder.body))
    return [
        builder.fact(rule, tag_key(f.key, tag), rule.change, attributes={"value": v} if v else None)
        for f in facts
        for tag, v in pairs
    ]


def extract(record: Record, catalog: Catalog) -> list[Fact]:
    """The facts one record states; [] for unwatched events, failed calls and dry runs."""
    rules = catalog.rules_for(record.event_source, record.event_name)
    if not rules or record.error_code or _is_dry_run(record.body):
        return []
    builder = _Builder(record)
    facts: list[Fact] = []
    for rule in rules:
        if rule.when is not None and is_false(rule.when(record.body)):
            continue
        make = builder.rename if rule.is_rename else builder.plain if rule.items is None else None
        found = make(rule) if make is not None else builder.items(rule)
        tags = _tag_facts(builder, rule, found)
        facts.extend(tags if rule.is_tagging else [*found, *tags])
    return facts


def _key_tuple(key: ResourceKey) -> tuple[str, str, str, str]:
    return (key.account_id, key.region, key.resource_type, key.resource_id)


def _tiebreak(fact: Fact) -> tuple[Any, ...]:
    actor = fact.actor
    return (
        fact.event_name,
        fact.state or "",
        fact.name or "",
        fact.arn or "",
        fact.attributes,
        (actor.arn or "", actor.user_name or "", actor.source_ip or "", actor.user_agent or ""),
        () if fact.renamed_from is None else _key_tuple(fact.renamed_from),
        fact.created_via or "",
    )


def _later(current: Fact | None, fact: Fact) -> Fact:
    """The later of two facts by `Fact.order`; a total order, so the choice never depends on
    which came first."""
    if current is None:
        return fact
    current_order, fact_order = current.order, fact.order
    if current_order != fact_order:
        return current if current_order > fact_order else fact
    if current == fact:
        return current
    return current if _tiebreak(current) >= _tiebreak(fact) else fact


def merge(lifecycle: Lifecycle | None, fact: Fact) -> Lifecycle:
    """Join one fact into a lifecycle (None: a new one); commutative, associative, idempotent."""
    if lifecycle is None:
        lifecycle = Lifecycle(key=fact.key)
    elif lifecycle.key != fact.key:
        raise ValueError(f"fact for {fact.key} merged into lifecycle of {lifecycle.key}")
    if fact.change is Change.CREATE:
        chosen = _later(lifecycle.created, fact)
        return lifecycle if chosen is lifecycle.created else replace(lifecycle, created=chosen)
    if fact.change is Change.DELETE:
        chosen = _later(lifecycle.deleted, fact)
        return lifecycle if chosen is lifecycle.deleted else replace(lifecycle, deleted=chosen)
    chosen = _later(lifecycle.state_change, fact)
    return (
        lifecycle if chosen is lifecycle.state_change else replace(lifecycle, state_change=chosen)
    )


def pair(facts: Iterable[Fact]) -> dict[ResourceKey, Lifecycle]:
    """Group facts by resource and merge them: the same result for any order and duplication."""
    lifecycles: dict[ResourceKey, Lifecycle] = {}
    for fact in facts:
        lifecycles[fact.key] = merge(lifecycles.get(fact.key), fact)
    return lifecycles


def _inherit(renamed: Fact, origin: Fact) -> Fact:
    """The create of a renamed resource, with its first creation's time, creator and attributes."""
    return replace(
        origin,
        key=renamed.key,
        name=renamed.name,
        arn=renamed.arn,
        attributes=tuple(sorted({**dict(origin.attributes), **dict(renamed.attributes)}.items())),
        renamed_from=renamed.renamed_from,
    )


def resolve(lifecycles: Mapping[ResourceKey, Lifecycle]) -> dict[ResourceKey, Lifecycle]:
    """Follow renames: a create with `renamed_from` inherits the creation of the old key, when
    the old key's latest create precedes the rename (chains of renames are followed)."""
    resolved: dict[ResourceKey, Fact] = {}

    def creation(key: ResourceKey) -> Fact | None:
        chain: list[Fact] = []
        lifecycle = lifecycles.get(key)
        current = lifecycle.created if lifecycle is not None else None
        base: Fact | None = None
        while current is not None:
            if current.key in resolved:
                base = resolved[current.key]
                break
            chain.append(current)
            if current.renamed_from is None:
                break
            parent_lifecycle = lifecycles.get(current.renamed_from)
            parent = parent_lifecycle.created if parent_lifecycle is not None else None
            if parent is None or not parent.order < current.order:
                break
            current = parent
        for fact in reversed(chain):
            base = fact if base is None or fact.renamed_from is None else _inherit(fact, base)
            resolved[fact.key] = base
        return base

    result: dict[ResourceKey, Lifecycle] = {}
    for key, lifecycle in lifecycles.items():
        created = lifecycle.created
        if created is not None and created.renamed_from is not None:
            origin = creation(key)
            if origin is not None and origin is not created:
                result[key] = replace(lifecycle, origin=origin)
                continue
        result[key] = lifecycle
    return result


def is_alive(lifecycle: Lifecycle) -> bool:
    """Created, and not deleted since its latest create."""
    created, deleted = lifecycle.created, lifecycle.deleted
    if created is None:
        return False
    return deleted is None or deleted.order < created.order


def current_state(lifecycle: Lifecycle, catalog: Catalog) -> str:
    """The latest state change after the latest create, else the create's state, else the
    type's default state."""
    created, changed = lifecycle.created, lifecycle.state_change
    if (
        created is not None
        and changed is not None
        and changed.state
        and changed.order > created.order
    ):
        return changed.state
    if created is not None and created.state:
        return created.state
    resource_type = catalog.types.get(lifecycle.key.resource_type)
    return resource_type.default_state if resource_type is not None else "unknown"


def leftovers(lifecycles: Mapping[ResourceKey, Lifecycle]) -> list[Lifecycle]:
    """Resolve renames, then keep the resources still alive, sorted by key."""
    resolved = resolve(lifecycles)
    return [resolved[key] for key in sorted(resolved) if is_alive(resolved[key])]
