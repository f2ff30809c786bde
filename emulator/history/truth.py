"""The ground truth of a generated history: which resources are left over, and in what state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from scanner.errors import InputError
from scanner.records import format_time, parse_time

#: Bumped when the layout of truth.json changes.
TRUTH_VERSION = 1

_ITEM_TEXT_FIELDS = (
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "state",
    "create_event_id",
    "created_by_arn",
)


@dataclass(frozen=True, slots=True, order=True)
class TruthItem:
    """One resource created in the history and never deleted by its end.

    `created_at`, `create_event_id` and `created_by_arn` are those of the call that created the
    resource; for an RDS instance renamed by ModifyDBInstance, `resource_id` is its last name,
    the creation is the original CreateDBInstance, and `renamed_from` lists its former ids.
    `created_via` names the group or stack an instance was launched for (`<type>/<id>`, or empty).
    """

    account_id: str
    region: str
    resource_type: str
    resource_id: str
    state: str
    created_at: datetime
    create_event_id: str
    created_by_arn: str
    renamed_from: tuple[str, ...] = ()
    created_via: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(account, region, type, id): what a scanner's leftover must match."""
        return (self.account_id, self.region, self.resource_type, self.resource_id)

    def to_json(self) -> dict[str, Any]:
        """The item as a JSON object (times in ISO 8601 UTC with `Z`)."""
        return {
            "account_id": self.account_id,
            "region": self.region,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "state": self.state,
            "created_at": format_time(self.created_at),
            "create_event_id": self.create_event_id,
            "created_by_arn": self.created_by_arn,
            "renamed_from": list(self.renamed_from),
            "created_via": self.created_via,
        }

    @classmethod
    def from_json(cls, data: object, where: str = "leftover") -> TruthItem:
        """Read one item; raise InputError naming the bad field."""
        if not isinstance(data, Mapping):
            raise InputError(f"{where}: not a JSON object")
        values: dict[str, str] = {}
        for name in _ITEM_TEXT_FIELDS:
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise InputError(f"{where}: field {name!r} must be a non-empty string")
            values[name] = value
        created = parse_time(data.get("created_at"))
        if created is None:
            raise InputError(f"{where}: field 'created_at' must be an ISO 8601 time")
        renamed = data.get("renamed_from", [])
        if not isinstance(renamed, list) or not all(isinstance(x, str) for x in renamed):
            raise InputError(f"{where}: field 'renamed_from' must be a list of strings")
        via = data.get("created_via", "")
        if not isinstance(via, str):
            raise InputError(f"{where}: field 'created_via' must be a string")
        return cls(created_at=created, renamed_from=tuple(renamed), created_via=via, **values)


@dataclass(frozen=True, slots=True)
class HistoryStats:
    """Counts of what a generated history holds."""

    records: int = 0
    read_only: int = 0
    writes: int = 0
    failed_writes: int = 0  # writes refused (errorCode); failed reads are not counted
    created: int = 0
    deleted: int = 0

    def __add__(self, other: HistoryStats) -> HistoryStats:
        return HistoryStats(
            **{name: getattr(self, name) + getattr(other, name) for name in _STAT_FIELDS}
        )


_STAT_FIELDS = ("records", "read_only", "writes", "failed_writes", "created", "deleted")


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """The leftovers of a history, its time window, the spec that made it, and its counts."""

    leftovers: tuple[TruthItem, ...]
    window_start: datetime
    window_end: datetime
    spec: str = ""
    stats: HistoryStats = field(default_factory=HistoryStats)

    def keys(self) -> set[tuple[str, str, str, str]]:
        """The (account, region, type, id) of every leftover."""
        return {item.key for item in self.leftovers}

    def to_json(self) -> dict[str, Any]:
        """The truth as a JSON object (the content of truth.json)."""
        return {
            "version": TRUTH_VERSION,
            "spec": self.spec,
            "window": {
                "start": format_time(self.window_start),
                "end": format_time(self.window_end),
            },
            "stats": asdict(self.stats),
            "leftovers": [item.to_json() for item in self.leftovers],
        }

    @classmethod
    def from_json(cls, data: object) -> GroundTruth:
        """Read a truth object; raise InputError naming what is wrong."""
        if not isinstance(data, Mapping):
            raise InputError("truth: not a JSON object")
        if data.get("version") != TRUTH_VERSION:
            raise InputError(f"truth: unsupported version {data.get('version')!r}")
        window = data.get("window")
        if not isinstance(window, Mapping):
            raise InputError("truth: field 'window' must be an object")
        start, end = parse_time(window.get("start")), parse_time(window.get("end"))
        if start is None or end is None:
            raise InputError("truth: 'window' needs ISO 8601 'start' and 'end'")
        items = data.get("leftovers")
        if not isinstance(items, list):
            raise InputError("truth: field 'leftovers' must be a list")
        raw_stats = data.get("stats", {})
        if not isinstance(raw_stats, Mapping) or not all(
            isinstance(raw_stats.get(name, 0), int) for name in _STAT_FIELDS
        ):
            raise InputError("truth: field 'stats' must map counts to integers")
        spec = data.get("spec", "")
        return cls(
            leftovers=tuple(
                TruthItem.from_json(item, f"truth: leftovers[{n}]") for n, item in enumerate(items)
            ),
            window_start=start,
            window_end=end,
            spec=spec if isinstance(spec, str) else "",
            stats=HistoryStats(**{name: int(raw_stats.get(name, 0)) for name in _STAT_FIELDS}),
        )

    def write(self, path: Path) -> None:
        """Write the truth as indented JSON."""
        path.write_bytes(orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2))

    @classmethod
    def read(cls, path: Path) -> GroundTruth:
        """Read a truth.json file; raise InputError naming the file on any problem."""
        try:
            data = orjson.loads(path.read_bytes())
        except OSError as error:
            raise InputError(f"{path}: cannot read ({error.strerror or error})") from None
        except orjson.JSONDecodeError as error:
            raise InputError(f"{path}: not valid JSON ({error})") from None
        try:
            return cls.from_json(data)
        except InputError as error:
            raise InputError(f"{path}: {error}") from None
