"""Live verification: ask AWS, read-only, whether each leftover still exists.

Each catalog type declares one Describe/Get/List call (`verify:` in its YAML entry);
`calls.verify` runs them per (account, region, service) and gives a `Verdict` per leftover:
present (live state, tags), gone, or unknown (and why). The report applies the verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from scanner.catalog import Catalog
from scanner.lifecycle import ResourceKey
from scanner.settings import Settings
from scanner.sources.aws import AccountSession, account_sessions
from scanner.verify.calls import Subject, verify
from scanner.verify.verdict import GONE_REASON, OUTCOMES, Outcome, Verdict

__all__ = [
    "GONE_REASON",
    "OUTCOMES",
    "Outcome",
    "Subject",
    "Verdict",
    "check",
    "verify",
]


async def check(
    subjects: Iterable[Subject],
    catalog: Catalog,
    settings: Settings,
    now: datetime,
    sessions: Mapping[str, AccountSession] | None = None,
) -> dict[ResourceKey, Verdict]:
    """Verify the subjects through the settings' accounts (resolved here unless given)."""
    chosen = list(subjects)
    if not chosen:
        return {}
    if sessions is None:
        try:
            sessions = {a.account_id: a for a in await account_sessions(settings)}
        except Exception:  # no credentials or no STS: every leftover stays, flagged unknown
            return {s.key: Verdict("unknown", now, reason="no session") for s in chosen}
    return await verify(chosen, catalog, sessions, settings, now)
