"""The service's memory of live checks: the last verdict per leftover, re-asked when it ages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

from scanner.catalog import Catalog
from scanner.lifecycle import ResourceKey
from scanner.settings import Settings
from scanner.sources.aws import AccountSession
from scanner.verify.calls import Subject, verify
from scanner.verify.verdict import OUTCOMES, Verdict


class VerdictMemory:
    """Verdicts by leftover, and how many checks gave each outcome since the service started.

    A leftover is checked again when its verdict is older than `verify_max_age_seconds`; one
    found gone is not asked again (it left the leftovers for good unless it is created again,
    which is a new create event and a new check).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._max_age = timedelta(seconds=settings.verify_max_age_seconds)
        self._verdicts: dict[ResourceKey, Verdict] = {}
        self._counts: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))

    @property
    def verdicts(self) -> Mapping[ResourceKey, Verdict]:
        """The last verdict per leftover: a read-only view that follows later checks."""
        return MappingProxyType(self._verdicts)

    @property
    def counts(self) -> Mapping[str, float]:
        """Checks per outcome (`leftovers_verifications_total{outcome}`), every outcome present."""
        return {outcome: float(self._counts[outcome]) for outcome in OUTCOMES}

    def due(self, subjects: Iterable[Subject], now: datetime) -> list[Subject]:
        """The subjects never checked, or last checked longer ago than the maximum age."""
        found = []
        for subject in subjects:
            last = self._verdicts.get(subject.key)
            if last is None or (last.outcome != "gone" and now - last.checked_at >= self._max_age):
                found.append(subject)
        return found

    async def check_due(
        self,
        subjects: Iterable[Subject],
        catalog: Catalog,
        sessions: Mapping[str, AccountSession],
        now: datetime,
    ) -> int:
        """Check the subjects that are due; how many were checked."""
        due = self.due(subjects, now)
        if not due:
            return 0
        answers = await verify(due, catalog, sessions, self._settings, now)
        self._verdicts.update(answers)
        self._counts.update(verdict.outcome for verdict in answers.values())
        return len(answers)
