"""What a live check says of one leftover: present (state, tags), gone, or unknown (and why)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Outcome = Literal["present", "gone", "unknown"]
#: Every outcome, each counted from 0 in `leftovers_verifications_total{outcome}`.
OUTCOMES: tuple[Outcome, ...] = ("present", "gone", "unknown")
#: Why a verified-gone resource is no longer a leftover.
GONE_REASON = "deleted without a delete event in the window"

_ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "UnrecognizedClientException",
        "AuthFailure",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
_THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer of one live check, as of `checked_at`."""

    outcome: Outcome
    checked_at: datetime
    state: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "checked_at": self.checked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "live_state": self.state,
            "tags": dict(self.tags),
            "reason": self.reason,
        }


def unknown_reason(code: str) -> str:
    """The reason an error code leaves a resource unknown: access denied, throttled, or the code."""
    if code in _ACCESS_DENIED:
        return "access denied"
    if code in _THROTTLED:
        return "throttled"
    return f"error {code}" if code else "error"


def tag_pairs(value: object) -> tuple[tuple[str, str], ...]:
    """Tags as AWS answers them (a list of Key/Value or key/value objects, or a map), sorted."""
    pairs: dict[str, str] = {}
    if isinstance(value, Mapping):
        pairs = {str(k): str(v) for k, v in value.items()}
    elif isinstance(value, list):
        for entry in value:
            if isinstance(entry, Mapping):
                key = entry.get("Key", entry.get("key", entry.get("TagKey")))
                if key is not None:
                    found = entry.get("Value", entry.get("value", entry.get("TagValue", "")))
                    pairs[str(key)] = "" if found is None else str(found)
    return tuple(sorted(pairs.items()))
