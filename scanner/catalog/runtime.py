"""The catalog as the scanner uses it: frozen resource types, compiled rules, O(1) lookup."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from scanner.catalog.expressions import Expression
from scanner.errors import CatalogError
from scanner.lifecycle import Change, ResourceKey

#: Hours in a month, to turn monthly prices into hourly ones (730 = 8760 / 12).
HOURS_PER_MONTH = 730.0


def _arn_tail(value: str) -> str:
    """`arn:aws:rds:r:a:cluster:name` -> `name`; `arn:...:cluster/name` -> `name`; else as is."""
    if not value.startswith("arn:"):
        return value
    parts = value.split(":", 5)
    if len(parts) < 6:
        return value
    resource = parts[5]
    return re.split(r"[:/]", resource)[-1]


def _strip_prefix(prefix: str) -> Callable[[str], str]:
    return lambda value: value.removeprefix(prefix)


def normaliser(steps: Sequence[str]) -> Callable[[str], str]:
    """Build the id normaliser from step names (validated: unknown steps raise ValueError)."""
    functions: list[Callable[[str], str]] = []
    for step in steps:
        if step == "lower":
            functions.append(str.lower)
        elif step == "strip_trailing_dot":
            functions.append(lambda value: value.rstrip("."))
        elif step == "arn_tail":
            functions.append(_arn_tail)
        elif step.startswith("strip_prefix:") and len(step) > len("strip_prefix:"):
            functions.append(_strip_prefix(step[len("strip_prefix:") :]))
        else:
            raise ValueError(
                f"unknown normalise step {step!r} "
                "(known: lower, strip_trailing_dot, arn_tail, strip_prefix:PREFIX)"
            )
    if not functions:
        return lambda value: value

    def apply(value: str) -> str:
        for function in functions:
            value = function(value)
        return value

    return apply


@dataclass(frozen=True, slots=True)
class Rule:
    """One (eventSource, eventName) rule: how an event names resources and what it does to them."""

    resource_type: str
    event_source: str
    event_name: str
    change: Change
    id_text: str
    id: Expression = field(repr=False, compare=False)
    normalise: Callable[[str], str] = field(repr=False, compare=False)
    items: Expression | None = field(default=None, repr=False, compare=False)
    items_text: str | None = None
    new_id: Expression | None = field(default=None, repr=False, compare=False)
    new_id_text: str | None = None
    state: str | None = None
    name: Expression | None = field(default=None, repr=False, compare=False)
    arn: Expression | None = field(default=None, repr=False, compare=False)
    attributes: tuple[tuple[str, Expression], ...] = field(default=(), repr=False, compare=False)
    record_name: Expression | None = field(default=None, repr=False, compare=False)
    record_attributes: tuple[tuple[str, Expression], ...] = field(
        default=(), repr=False, compare=False
    )
    is_rename: bool = False

    @property
    def kind(self) -> str:
        """`create`, `delete`, `state` or `rename` (deletes one key, creates another)."""
        return "rename" if self.is_rename else self.change.value


@dataclass(frozen=True, slots=True)
class Price:
    """A rough us-east-1 on-demand price (an estimate: no discounts, no usage-based parts)."""

    hourly: float = 0.0
    by: str | None = None
    table: Mapping[str, float] = field(default_factory=dict)
    size: str | None = None
    per_gb_month: float | None = None
    per_gb_month_by: str | None = None
    per_gb_month_table: Mapping[str, float] = field(default_factory=dict)
    note: str | None = None

    def hourly_cost(self, attributes: Mapping[str, str]) -> float | None:
        """The estimated USD per hour, or None when an attribute it needs is unknown."""
        total = self.hourly
        known = self.hourly > 0
        if self.by is not None:
            rate = self.table.get(attributes.get(self.by, ""))
            if rate is None:
                return None
            total += rate
            known = True
        if self.size is not None:
            try:
                size = float(attributes.get(self.size, ""))
            except ValueError:
                return None
            gb_rate = self.per_gb_month
            if gb_rate is None and self.per_gb_month_by is not None:
                table = self.per_gb_month_table
                gb_rate = table.get(attributes.get(self.per_gb_month_by, ""), table.get("default"))
            if gb_rate is None:
                return None
            total += size * gb_rate / HOURS_PER_MONTH
            known = True
        return total if known else None

    def describe(self) -> str:
        """A short human description, for `leftovers catalog`."""
        parts: list[str] = []
        if self.hourly:
            parts.append(f"${self.hourly:.4f}/h")
        if self.by is not None:
            rates = sorted(self.table.values())
            parts.append(f"by {self.by}: ${rates[0]:.4f}-{rates[-1]:.4f}/h ({len(rates)} known)")
        if self.size is not None:
            if self.per_gb_month is not None:
                parts.append(f"${self.per_gb_month:.3f}/GB-month of {self.size}")
            else:
                parts.append(f"per GB-month of {self.size} by {self.per_gb_month_by}")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One kind of idle-cost resource: its events, display attributes, console link and price."""

    name: str
    service: str
    event_source: str
    is_global: bool
    default_state: str
    title: str
    display: tuple[str, ...]
    console_url_template: str
    rules: tuple[Rule, ...] = field(repr=False)
    price: Price | None = field(default=None, repr=False)
    normalise: Callable[[str], str] = field(default=lambda value: value, repr=False, compare=False)

    def console_url(self, key: ResourceKey, arn: str | None, name: str | None) -> str:
        """The AWS console page of this resource."""
        return self.console_url_template.format(
            region=key.region,
            account_id=key.account_id,
            id=key.resource_id,
            arn=arn or key.resource_id,
            name=name or key.resource_id,
        )

    def hourly_cost(self, attributes: Mapping[str, str]) -> float | None:
        """Rough us-east-1 on-demand USD per hour (an estimate); None when unknown."""
        return None if self.price is None else self.price.hourly_cost(attributes)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every resource type, with rules indexed by (eventSource, eventName) for O(1) lookup."""

    types: Mapping[str, ResourceType]
    global_region: str = "us-east-1"
    _rules: Mapping[tuple[str, str], tuple[Rule, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    event_names: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    events: frozenset[tuple[str, str]] = field(default=frozenset(), repr=False, compare=False)
    _regional_names: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def of(cls, types: Iterable[ResourceType], global_region: str = "us-east-1") -> Catalog:
        """Build a catalog (and its indexes) from resource types."""
        by_name = {resource_type.name: resource_type for resource_type in types}
        rules: dict[tuple[str, str], list[Rule]] = {}
        regional: set[str] = set()
        for resource_type in by_name.values():
            for rule in resource_type.rules:
                rules.setdefault((rule.event_source, rule.event_name), []).append(rule)
                if not resource_type.is_global:
                    regional.add(rule.event_name)
        return cls(
            types=MappingProxyType(dict(sorted(by_name.items()))),
            global_region=global_region,
            _rules=MappingProxyType({key: tuple(value) for key, value in rules.items()}),
            event_names=frozenset(name for _, name in rules),
            events=frozenset(rules),
            _regional_names=frozenset(regional),
        )

    def select(self, names: Iterable[str] | None) -> Catalog:
        """The catalog restricted to some types (None: all); unknown names raise CatalogError."""
        if names is None:
            return self
        wanted = list(dict.fromkeys(names))
        unknown = [name for name in wanted if name not in self.types]
        if unknown:
            raise CatalogError(
                f"unknown resource type(s) {', '.join(unknown)}; known: {', '.join(self.types)}"
            )
        return Catalog.of((self.types[name] for name in wanted), self.global_region)

    def rules_for(self, event_source: str, event_name: str) -> Sequence[Rule]:
        """The rules listening to this event (empty when it is not watched)."""
        return self._rules.get((event_source, event_name), ())

    def watches(self, event_source: str, event_name: str) -> bool:
        """True when some rule listens to this event: a cheap filter before parsing a record."""
        return (event_source, event_name) in self._rules

    def event_names_in(self, region_is_global_home: bool) -> frozenset[str]:
        """Event names to read in a region: global types are read in the global home only."""
        return self.event_names if region_is_global_home else self._regional_names

    def is_global_home(self, region: str) -> bool:
        """True for the region where global services (Route 53) record their events."""
        return region == self.global_region
