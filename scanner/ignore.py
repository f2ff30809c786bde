"""Ignore rules: resources the settings say are not leftovers, each rule with its reason."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from scanner.errors import SettingsError
from scanner.lifecycle import Actor, ResourceKey

#: The fields of an ignore rule; every one given must match (`reason` says why it is ignored).
FIELDS = (
    "reason",
    "type",
    "account",
    "region",
    "id",
    "name",
    "creator",
    "user_agent",
    "tags",
    "min_age",
)
_GLOBS = ("type", "account", "region", "id", "name", "creator", "tags")
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True, slots=True)
class Subject:
    """What a rule looks at in a leftover."""

    key: ResourceKey
    name: str | None
    creator: Actor
    tags: Mapping[str, str]
    age_seconds: int


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """One rule: globs (type, account, region, id, name, creator: ARN, user or session name), a
    user-agent substring, tag globs by key, and `min_age` (ignored while younger)."""

    reason: str
    type: str | None = None
    account: str | None = None
    region: str | None = None
    id: str | None = None
    name: str | None = None
    creator: str | None = None
    user_agent: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    min_age_seconds: int | None = None

    def matches(self, subject: Subject) -> bool:
        key, actor = subject.key, subject.creator
        session = actor.arn.rsplit("/", 1)[-1] if actor.arn and "/" in actor.arn else None
        return (
            _glob(self.type, key.resource_type)
            and _glob(self.account, key.account_id)
            and _glob(self.region, key.region)
            and _glob(self.id, key.resource_id)
            and _glob(self.name, subject.name)
            and (
                self.creator is None
                or any(_glob(self.creator, text) for text in (actor.arn, actor.user_name, session))
            )
            and (self.user_agent is None or self.user_agent in (actor.user_agent or ""))
            and all(_glob(value, subject.tags.get(tag)) for tag, value in self.tags)
            and (self.min_age_seconds is None or subject.age_seconds < self.min_age_seconds)
        )


def _glob(pattern: str | None, text: str | None) -> bool:
    return pattern is None or (text is not None and fnmatchcase(text, pattern))


def reason_ignored(rules: tuple[IgnoreRule, ...], subject: Subject) -> str | None:
    """The reason of the first rule that matches, None when none does."""
    for rule in rules:
        if rule.matches(subject):
            return rule.reason
    return None


def _glob_problem(pattern: str) -> str | None:
    """Why a glob is malformed: empty, or a `[` class never closed (fnmatch would take it as a
    literal `[` silently)."""
    if not pattern:
        return "is empty"
    index = 0
    while index < len(pattern):
        if pattern[index] == "[":
            end = index + 1
            if end < len(pattern) and pattern[end] == "!":
                end += 1
            if end < len(pattern) and pattern[end] == "]":
                end += 1
            close = pattern.find("]", end)
            if close < 0:
                return f"has a '[' at {index + 1} that is never closed"
            index = close
        index += 1
    return None


def _duration(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"min_age: {value!r} is not a duration such as 30m, 24h or 7d")
    return int(match[1]) * _SECONDS[match[2]]


def _text(field: str, value: object) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"{field}: {value!r} is not text")
    text = str(value)
    problem = _glob_problem(text) if field in _GLOBS else (None if text else "is empty")
    if problem:
        raise ValueError(f"{field}: glob {text!r} {problem}")
    return text


def _rule(data: Mapping[str, Any]) -> IgnoreRule:
    unknown = [str(name) for name in data if name not in FIELDS]
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (known: {', '.join(FIELDS)})")
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("`reason` is required: say why these resources are not leftovers")
    raw_tags = data.get("tags", {})
    if not isinstance(raw_tags, Mapping):
        raise ValueError("tags: give a map of tag key to value glob ('*': any value)")
    if len(data) == 1 or (len(data) == 2 and "tags" in data and not raw_tags):
        raise ValueError("matches everything: give at least one field besides `reason`")
    texts = {f: _text(f, data[f]) for f in FIELDS[1:8] if data.get(f) is not None}
    return IgnoreRule(
        reason=reason.strip(),
        tags=tuple(sorted((str(k), _text("tags", v)) for k, v in raw_tags.items())),
        min_age_seconds=_duration(data["min_age"]) if data.get("min_age") is not None else None,
        **texts,
    )


def parse_ignore_rules(rules: object, origin: str = "settings") -> tuple[IgnoreRule, ...]:
    """The `ignore:` list of the settings; a bad rule is a SettingsError naming it."""
    if rules is None:
        return ()
    if not isinstance(rules, list):
        raise SettingsError(f"{origin}: ignore: give a list of rules, each with a `reason`")
    parsed: list[IgnoreRule] = []
    for index, data in enumerate(rules):
        reason = data.get("reason") if isinstance(data, Mapping) else None
        named = f"ignore[{index}]" + (f" ({reason!r})" if isinstance(reason, str) else "")
        if not isinstance(data, Mapping):
            raise SettingsError(f"{origin}: {named}: a rule is a map of fields, with a `reason`")
        try:
            parsed.append(_rule(data))
        except ValueError as error:
            raise SettingsError(f"{origin}: {named}: {error}") from None
    return tuple(parsed)
