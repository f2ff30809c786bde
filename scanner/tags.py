"""Tags as events write them: a map, or a list of {Key, Value} objects in any casing, or keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _is_tag_object(value: Mapping[str, Any]) -> bool:
    return any(str(k).lower() in ("key", "tagkey") for k in value)


def tag_pairs(value: object) -> list[tuple[str, str | None]]:
    """(key, value) of the tags an expression yields: a map, or a list of {Key, Value} objects in
    any casing (`TagKey`/`TagValue` too), or of bare keys (value None: an untag)."""
    if isinstance(value, dict) and not _is_tag_object(value):
        return [(str(k), _text(v) or "") for k, v in value.items() if k]
    items = value if isinstance(value, list) else [value]
    pairs: list[tuple[str, str | None]] = []
    for item in items:
        if isinstance(item, str) and item:
            pairs.append((item, None))
        elif isinstance(item, dict) and _is_tag_object(item):
            fields = {str(k).lower().removeprefix("tag"): v for k, v in item.items()}
            tag = _text(fields.get("key"))
            if tag:
                pairs.append((tag, _text(fields.get("value")) or ""))
    return pairs
