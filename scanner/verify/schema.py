"""The JSON schema of a verdict and of `verified_gone`, for the service's OpenAPI document."""

from __future__ import annotations

from typing import Any

from scanner.verify.verdict import GONE_REASON, OUTCOMES

_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}

VERIFICATION: dict[str, Any] = {
    "type": "object",
    "description": "the live check, when verification is on",
    "required": ["outcome", "checked_at", "live_state", "tags", "reason"],
    "properties": {
        "outcome": {"enum": list(OUTCOMES)},
        "checked_at": {"type": "string", "format": "date-time"},
        "live_state": _NULLABLE_STRING,
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "reason": {
            **_NULLABLE_STRING,
            "description": "why unknown (access denied, throttled, unsupported, ...) or what "
            "showed it gone",
        },
    },
}

VERIFIED_GONE: dict[str, Any] = {
    "type": "array",
    "description": f"leftovers a live check found gone (verification on): {GONE_REASON}",
    "items": {"$ref": "#/components/schemas/GoneLeftover"},
}


def gone_leftover(leftover: dict[str, Any]) -> dict[str, Any]:
    """The schema of a `verified_gone` item: a leftover, with the reason it left."""
    return {
        **leftover,
        "required": [*leftover["required"], "reason"],
        "properties": {**leftover["properties"], "reason": {"const": GONE_REASON}},
    }
