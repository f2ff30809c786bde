"""The catalog as the scanner uses it: frozen resource types, compiled rules, O(1) lookup."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from types import MappingProxyType
from urllib.parse import unquote

from scanner.catalog.cleanup import Cleanup
from scanner.catalog.expressions import Expression
from scanner.catalog.prices import HOURS_PER_MONTH, PriceBook, RegionalRate, RegionalTable
from scanner.catalog.verification import Verification
from scanner.errors import CatalogError
from scanner.lifecycle import Change, ResourceKey

#: A rule's proof: checked on a vendored real record, or against botocore's shapes only.
REAL_RECORD = "real record"
MODEL_ONLY = "model only"


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
        elif step == "url_decode":
            functions.append(unquote)
        elif step.startswith("strip_prefix:") and len(step) > len("strip_prefix:"):
            functions.append(_strip_prefix(step[len("strip_prefix:") :]))
        else:
            raise ValueError(
                f"unknown normalise step {step!r} "
                "(known: lower, strip_trailing_dot, arn_tail, url_decode, strip_prefix:PREFIX)"
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
    when: Expression | None = field(default=None, repr=False, compare=False)
    when_text: str | None = None
    api: str | None = None
    created_via: tuple[tuple[str, Expression], ...] = field(default=(), repr=False, compare=False)
    proof: str = MODEL_ONLY
    tags: Expression | None = field(default=None, repr=False, compare=False)
    is_tagging: bool = False

    @property
    def kind(self) -> str:
        """`create`, `delete`, `state`, `rename` (deletes one key, creates another), `tag` or
        `untag` (sets or removes tags of a resource)."""
        if self.is_tagging:
            return "tag" if self.change is Change.CREATE else "untag"
        return "rename" if self.is_rename else self.change.value


def _number(attributes: Mapping[str, str], name: str) -> float | None:
    try:
        return float(attributes.get(name, ""))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Price:
    """What a resource costs while idle, from the price book: a fixed rate, a rate by class and
    rates per unit of an attribute (provisioned capacity units, shards; a missing attribute counts
    0), all times a count (nodes), plus a rate per GB-month of a size; every part that applies is
    added up. An estimate: list prices, no discounts, no usage-based parts."""

    hourly: RegionalRate | None = None
    free: bool = False
    by: str | None = None
    table: RegionalTable | None = None
    per_unit: tuple[tuple[str, RegionalRate], ...] = ()
    count: str | None = None
    size: str | None = None
    per_gb_month: RegionalRate | None = None
    per_gb_month_by: str | None = None
    per_gb_month_table: RegionalTable | None = None
    note: str | None = None

    def hourly_cost(self, attributes: Mapping[str, str], region: str | None = None) -> float | None:
        """The estimated USD per hour in `region` (the book's home region where it has no
        figure for it), or None when an attribute it needs is unknown."""
        parts = self._parts(attributes, region)
        if not parts:
            return 0.0 if self.free else None
        known = [part for part in parts if part is not None]
        return sum(known) if len(known) == len(parts) else None

    def _parts(self, attributes: Mapping[str, str], region: str | None) -> list[float | None]:
        """Each part in USD per hour (None where its rate or class is unknown), the fixed, class
        and per-unit parts times the count."""
        parts: list[float | None] = []
        if self.hourly is not None:
            parts.append(self.hourly.hourly(region))
        if self.table is not None and self.by is not None:
            parts.append(self.table.hourly(region, attributes.get(self.by, "")))
        for attribute, unit_rate in self.per_unit:
            rate = unit_rate.hourly(region)
            parts.append(None if rate is None else (_number(attributes, attribute) or 0.0) * rate)
        if self.count is not None:
            count = _number(attributes, self.count)
            times = 1.0 if count is None else count
            parts = [None if part is None else part * times for part in parts]
        if self.size is not None:
            parts.append(self._storage(attributes, region))
        return parts

    def _storage(self, attributes: Mapping[str, str], region: str | None) -> float | None:
        size = _number(attributes, self.size or "")
        if size is None:
            return None
        if self.per_gb_month is not None:
            rate = self.per_gb_month.hourly(region)
        elif self.per_gb_month_table is not None and self.per_gb_month_by is not None:
            key = attributes.get(self.per_gb_month_by, "")
            rate = self.per_gb_month_table.hourly(region, key)
        else:
            rate = None
        return None if rate is None else size * rate

    def describe(self) -> str:
        """A short human description in the book's home region, for `leftovers catalog`."""
        parts: list[str] = []
        if self.free:
            parts.append("$0/h itself")
        if self.hourly is not None:
            rate = self.hourly.hourly(None) or 0.0
            if self.hourly.unit == "month":
                parts.append(f"${rate * HOURS_PER_MONTH:.2f}/month")
            else:
                parts.append(f"${rate:.4f}/h")
        if self.table is not None and self.by is not None:
            rates = sorted(self.table.classes().values())
            each = f" x {self.count}" if self.count else ""
            parts.append(
                f"by {self.by}{each}: ${rates[0]:.4f}-{rates[-1]:.4f}/h ({len(rates)} known)"
            )
        for attribute, unit_rate in self.per_unit:
            parts.append(f"${unit_rate.hourly(None) or 0.0:.5f}/h per {attribute}")
        if self.count and (self.table is None or self.by is None) and parts:
            parts[-1] += f" x {self.count}"
        if self.size is not None:
            if self.per_gb_month is not None:
                monthly = (self.per_gb_month.hourly(None) or 0.0) * HOURS_PER_MONTH
                parts.append(f"${monthly:.4f}/GB-month of {self.size}")
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
    api: str
    is_global: bool
    default_state: str
    title: str
    display: tuple[str, ...]
    console_url_template: str
    rules: tuple[Rule, ...] = field(repr=False)
    price: Price | None = field(default=None, repr=False)
    normalise: Callable[[str], str] = field(default=lambda value: value, repr=False, compare=False)
    cleanup: Cleanup | None = field(default=None, repr=False)
    verify: Verification | None = field(default=None, repr=False)

    @property
    def proof(self) -> str:
        """`real record` when every rule was checked on a real record, `model only` when none
        was, else `real record (N of M rules)`."""
        proven = sum(rule.proof == REAL_RECORD for rule in self.rules)
        if proven == len(self.rules):
            return REAL_RECORD
        if proven == 0:
            return MODEL_ONLY
        return f"{REAL_RECORD} ({proven} of {len(self.rules)} rules)"

    def console_url(self, key: ResourceKey, arn: str | None, name: str | None) -> str:
        """The AWS console page of this resource."""
        return self.console_url_template.format(
            region=key.region,
            account_id=key.account_id,
            id=key.resource_id,
            arn=arn or key.resource_id,
            name=name or key.resource_id,
        )

    def hourly_cost(self, attributes: Mapping[str, str], region: str | None = None) -> float | None:
        """Estimated list-price USD per hour in `region` (an estimate); None when unknown."""
        return None if self.price is None else self.price.hourly_cost(attributes, region)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every resource type, with rules indexed by (eventSource, eventName) for O(1) lookup."""

    types: Mapping[str, ResourceType]
    global_region: str = "us-east-1"
    prices: PriceBook | None = field(default=None, repr=False, compare=False)
    _rules: Mapping[tuple[str, str], tuple[Rule, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    event_names: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    events: frozenset[tuple[str, str]] = field(default=frozenset(), repr=False, compare=False)
    _regional_names: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def of(
        cls,
        types: Iterable[ResourceType],
        global_region: str = "us-east-1",
        prices: PriceBook | None = None,
    ) -> Catalog:
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
            prices=prices,
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
            close = {m for name in unknown for m in get_close_matches(name, self.types, 3, 0.6)}
            hint = f" (did you mean {', '.join(sorted(close))}?)" if close else ""
            raise CatalogError(
                f"unknown resource type(s) {', '.join(unknown)}{hint}; "
                "`leftovers catalog` lists them"
            )
        return Catalog.of((self.types[name] for name in wanted), self.global_region, self.prices)

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
