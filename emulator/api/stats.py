"""Counters per (account, region): LookupEvents calls served, throttled, faulted; events sent."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

OUTCOMES = ("calls", "served", "throttled", "faulted", "rejected", "events")


class CallStats:
    """Thread-safe counters, read as a JSON-ready mapping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], Counter[str]] = {}

    def count(self, account: str, region: str, outcome: str, amount: int = 1) -> None:
        """Add to one counter."""
        with self._lock:
            self._counts.setdefault((account, region), Counter())[outcome] += amount

    def get(self, account: str, region: str, outcome: str) -> int:
        """One counter's value."""
        with self._lock:
            return self._counts.get((account, region), Counter())[outcome]

    def total(self, outcome: str) -> int:
        """A counter summed over every account-region."""
        with self._lock:
            return sum(counts[outcome] for counts in self._counts.values())

    def as_dict(self) -> dict[str, Any]:
        """`{"ACCOUNT/REGION": {"calls": n, ...}, ...}` plus totals."""
        with self._lock:
            per = {
                f"{account}/{region}": {outcome: counts[outcome] for outcome in OUTCOMES}
                for (account, region), counts in sorted(self._counts.items())
            }
        totals = {outcome: sum(counts[outcome] for counts in per.values()) for outcome in OUTCOMES}
        return {"totals": totals, "per_account_region": per}
