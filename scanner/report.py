"""The leftovers view: lifecycles + catalog + window + failures + stats, filtered, as JSON.

An account-region whose window was not read in full (a first read or a gap that failed) is no
source of leftovers: a delete may be among what was not read. Its would-be leftovers are kept
apart, as `incomplete`, each with the reason its region is incomplete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from scanner.catalog import Catalog
from scanner.ignore import IgnoreRule, Subject, reason_ignored
from scanner.lifecycle import Actor, Lifecycle, ResourceKey, tagged_resource
from scanner.pages import ScanStats, StreamFailure
from scanner.pairing import current_state, is_alive, leftovers
from scanner.plan import Slice
from scanner.verify.verdict import GONE_REASON, Verdict


def iso(value: datetime) -> str:
    """ISO 8601 UTC with `Z`, whole seconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Leftover:
    """One resource created and never deleted, as the report shows it."""

    key: ResourceKey
    service: str
    title: str
    arn: str | None
    name: str | None
    state: str
    created_at: datetime
    created_by: Actor
    create_event_id: str
    attributes: tuple[tuple[str, str], ...]
    display: tuple[str, ...]
    console_url: str
    hourly_cost: float | None
    created_via: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    verification: Verdict | None = None

    def age_seconds(self, now: datetime) -> int:
        return max(0, int((now - self.created_at).total_seconds()))

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "account_id": self.key.account_id,
            "region": self.key.region,
            "service": self.service,
            "resource_type": self.key.resource_type,
            "resource_id": self.key.resource_id,
            "arn": self.arn,
            "name": self.name,
            "state": self.state,
            "created_at": iso(self.created_at),
            "created_by": {
                "arn": self.created_by.arn,
                "user_name": self.created_by.user_name,
                "source_ip": self.created_by.source_ip,
                "user_agent": self.created_by.user_agent,
            },
            "create_event_id": self.create_event_id,
            "created_via": self.created_via,
            "tags": dict(self.tags),
            "age_seconds": self.age_seconds(now),
            "attributes": dict(self.attributes),
            "console_url": self.console_url,
            "estimated_hourly_cost": (
                None if self.hourly_cost is None else round(self.hourly_cost, 6)
            ),
            **({} if self.verification is None else {"verification": self.verification.to_json()}),
        }


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """Which leftovers to show; empty sets mean any. `created_by` matches a user name or ARN."""

    accounts: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    created_by: frozenset[str] = frozenset()
    min_age_seconds: int = 0

    @classmethod
    def of(
        cls,
        *,
        accounts: Iterable[str] = (),
        regions: Iterable[str] = (),
        services: Iterable[str] = (),
        types: Iterable[str] = (),
        states: Iterable[str] = (),
        created_by: Iterable[str] = (),
        min_age_seconds: int = 0,
    ) -> ReportFilter:
        return cls(
            frozenset(accounts),
            frozenset(regions),
            frozenset(services),
            frozenset(types),
            frozenset(s.lower() for s in states),
            frozenset(created_by),
            min_age_seconds,
        )

    def keeps(self, item: Leftover, now: datetime) -> bool:
        key = item.key
        return (
            (not self.accounts or key.account_id in self.accounts)
            and (not self.regions or key.region in self.regions)
            and (not self.services or item.service in self.services)
            and (not self.types or key.resource_type in self.types)
            and (not self.states or item.state.lower() in self.states)
            and (not self.created_by or _created_by(item.created_by, self.created_by))
            and item.age_seconds(now) >= self.min_age_seconds
        )


def _created_by(actor: Actor, wanted: frozenset[str]) -> bool:
    if actor.user_name in wanted or actor.arn in wanted:
        return True
    tail = actor.arn.rsplit("/", 1)[-1] if actor.arn else None
    return tail in wanted


#: Why an (account, region) is not read in full, by (account_id, region).
Unread = Mapping[tuple[str, str], str]


def unread_regions(failures: Iterable[StreamFailure]) -> dict[tuple[str, str], str]:
    """The (account, region) pairs that a scan's failures left partly unread, each with the
    first failure's reason (failures of a whole account, `*`, read nothing there)."""
    unread: dict[tuple[str, str], str] = {}
    for failure in failures:
        if failure.account_id and failure.region != "*":
            reason = failure.reason.splitlines()[0] if failure.reason else "unknown error"
            unread.setdefault((failure.account_id, failure.region), f"not read in full: {reason}")
    return unread


def incomplete_json(item: Leftover, reason: str, now: datetime) -> dict[str, Any]:
    """The JSON item of a would-be leftover of an incomplete region: a leftover's, plus why."""
    return {**item.to_json(now), "reason": reason}


def unread_json(unread: Unread) -> list[dict[str, str]]:
    """The incomplete regions as JSON, sorted."""
    return [
        {"account_id": account, "region": region, "reason": reason}
        for (account, region), reason in sorted(unread.items())
    ]


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `leftovers scan` prints and `/results` serves. `incomplete` holds the would-be
    leftovers of the regions in `unread`, which are not counted as leftovers."""

    generated_at: datetime
    window: Slice
    leftovers: tuple[Leftover, ...]
    errors: tuple[StreamFailure, ...] = ()
    stats: ScanStats | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    incomplete: tuple[Leftover, ...] = ()
    unread: Unread = field(default_factory=dict)
    #: Leftovers an ignore rule matched, with its reason: in no count, metric or alert.
    ignored: tuple[tuple[Leftover, str], ...] = ()
    #: Leftovers a live check found gone (None: no verification ran).
    verified_gone: tuple[Leftover, ...] | None = None

    def filtered(self, chosen: ReportFilter) -> Report:
        now = self.generated_at
        return replace(
            self,
            leftovers=tuple(item for item in self.leftovers if chosen.keeps(item, now)),
            incomplete=tuple(item for item in self.incomplete if chosen.keeps(item, now)),
            ignored=tuple(pair for pair in self.ignored if chosen.keeps(pair[0], now)),
        )

    def verified(self, verdicts: Mapping[ResourceKey, Verdict]) -> Report:
        """The report after live checks: each leftover carries its verdict, and those found
        gone move to `verified_gone` (kept as they were where no verdict was given)."""
        kept: list[Leftover] = []
        gone = list(self.verified_gone or ())
        for item in self.leftovers:
            verdict = verdicts.get(item.key, item.verification)
            checked = replace(item, verification=verdict)
            (gone if verdict is not None and verdict.outcome == "gone" else kept).append(checked)
        return replace(self, leftovers=tuple(kept), verified_gone=tuple(gone))

    @property
    def hourly_cost(self) -> float:
        """Sum of the known estimates (USD per hour)."""
        return sum(item.hourly_cost or 0.0 for item in self.leftovers)

    def to_json(self) -> dict[str, Any]:
        stats = self.stats or ScanStats(0, 0, 0, 0, 0.0)
        return {
            "generated_at": iso(self.generated_at),
            "window": {"start": iso(self.window.start), "end": iso(self.window.end)},
            "leftovers": [item.to_json(self.generated_at) for item in self.leftovers],
            "incomplete": [
                incomplete_json(item, self.unread[where(item.key)], self.generated_at)
                for item in self.incomplete
            ],
            "incomplete_regions": unread_json(self.unread),
            "errors": [
                {
                    "account_id": failure.account_id,
                    "region": failure.region,
                    "stream": failure.stream,
                    "reason": failure.reason,
                    "count": failure.count,
                }
                for failure in self.errors
            ],
            "stats": {
                "api_calls": stats.api_calls,
                "throttled": stats.throttled,
                "events_read": stats.events_read,
                "events_matched": stats.events_matched,
                "duration_seconds": stats.duration_seconds,
                "hedged": stats.hedged,
                "retried": stats.retried,
            },
            "ignored": [
                {**item.to_json(self.generated_at), "ignored_reason": reason}
                for item, reason in self.ignored
            ],
            **({} if (gone := self.verified_gone_json()) is None else {"verified_gone": gone}),
            **self.extra,
        }

    def verified_gone_json(self) -> list[dict[str, Any]] | None:
        """The leftovers found gone, as JSON items with their reason (None: no checks ran)."""
        if self.verified_gone is None:
            return None
        return [
            {**item.to_json(self.generated_at), "reason": GONE_REASON}
            for item in self.verified_gone
        ]


def tags_by_resource(
    lifecycles: Mapping[ResourceKey, Lifecycle],
) -> dict[ResourceKey, dict[str, str]]:
    """The tags each resource has now: its tags' own lifecycles that are alive."""
    found: dict[ResourceKey, dict[str, str]] = {}
    for key, lifecycle in lifecycles.items():
        named = tagged_resource(key)
        if named is not None and lifecycle.created is not None and is_alive(lifecycle):
            found.setdefault(named[0], {})[named[1]] = dict(lifecycle.created.attributes).get(
                "value", ""
            )
    return found


def leftover_of(
    lifecycle: Lifecycle, catalog: Catalog, tags: Mapping[str, str] | None = None
) -> Leftover | None:
    """The report line of a live lifecycle (None when it was never created, or is unknown)."""
    created = lifecycle.creation
    resource_type = catalog.types.get(lifecycle.key.resource_type)
    if created is None or resource_type is None:
        return None
    latest = lifecycle.created or created
    attributes = dict(created.attributes)
    attributes.update(latest.attributes)
    arn = latest.arn or created.arn
    name = latest.name or created.name
    return Leftover(
        key=lifecycle.key,
        service=resource_type.service,
        title=resource_type.title,
        arn=arn,
        name=name,
        state=current_state(lifecycle, catalog),
        created_at=created.time,
        created_by=created.actor,
        create_event_id=created.event_id,
        attributes=tuple(sorted(attributes.items())),
        display=resource_type.display,
        console_url=resource_type.console_url(lifecycle.key, arn, name),
        hourly_cost=resource_type.hourly_cost(attributes, lifecycle.key.region),
        created_via=created.created_via,
        tags=tuple(sorted((tags or {}).items())),
    )


def ignored_by(ignore: Sequence[IgnoreRule], item: Leftover, now: datetime) -> str | None:
    """The reason of the first ignore rule that matches a leftover (None: none does)."""
    if not ignore:
        return None
    age = item.age_seconds(now)
    return reason_ignored(
        tuple(ignore), Subject(item.key, item.name, item.created_by, dict(item.tags), age)
    )


def build_report(
    lifecycles: Mapping[ResourceKey, Lifecycle],
    catalog: Catalog,
    window: Slice,
    *,
    failures: Sequence[StreamFailure] = (),
    stats: ScanStats | None = None,
    generated_at: datetime | None = None,
    only: ReportFilter | None = None,
    unread: Unread | None = None,
    ignore: tuple[IgnoreRule, ...] = (),
) -> Report:
    """The leftovers of these lifecycles (renames resolved), sorted by account, region, type;
    those of `unread` regions (default: the regions `failures` left unread) as `incomplete`,
    and those an ignore rule matches set apart with its reason."""
    generated_at = generated_at or datetime.now(UTC)
    unread = unread_regions(failures) if unread is None else unread
    tags = tags_by_resource(lifecycles)
    items = [leftover_of(lc, catalog, tags.get(lc.key)) for lc in leftovers(lifecycles)]
    found = sorted(
        (item for item in items if item is not None),
        key=lambda item: (item.key, item.created_at),
    )
    read = [item for item in found if where(item.key) not in unread]
    reasons = [ignored_by(ignore, item, generated_at) for item in read]
    report = Report(
        generated_at,
        window,
        tuple(item for item, reason in zip(read, reasons, strict=True) if reason is None),
        tuple(failures),
        stats,
        incomplete=tuple(item for item in found if where(item.key) in unread),
        unread=unread,
        ignored=tuple(
            (item, reason) for item, reason in zip(read, reasons, strict=True) if reason is not None
        ),
    )
    return report.filtered(only) if only is not None else report


def where(key: ResourceKey) -> tuple[str, str]:
    """A resource's (account_id, region)."""
    return (key.account_id, key.region)
