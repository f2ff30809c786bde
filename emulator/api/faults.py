"""Fault injection per account and region, from a compact grammar, deterministic given a seed.

Grammar (`--faults`, `POST /_emulator/faults`): comma-separated rules
`KIND[=ARG][@ACCOUNT][/REGION][:PROBABILITY]`; ACCOUNT (12 digits) and REGION (a region
name) default to `*` (any), PROBABILITY to 1. The first matching rule whose draw succeeds
applies to a call. Kinds:

    throttle   ThrottlingException (HTTP 400), counted as throttled
    500 / 503  InternalFailure (HTTP 500) / ServiceUnavailable (HTTP 503); `5xx` picks either
    slow=S     answer S seconds later (default 5; divided by the time scale)
    hang       never answer (until the client gives up or the emulator stops)
    drop       close the connection in the middle of the answer
    denied     AccessDeniedException (also for AssumeRole into that account)
    expired    ExpiredTokenException
    down       the region is down: every call's connection is closed without an answer

Example: `down@*/eu-west-1,5xx:0.1,throttle/us-east-1:0.3,denied@222222222222,hang/ap-south-1:0.05`
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Collection
from dataclasses import dataclass

from emulator.names import is_account_id, is_region

KINDS = ("throttle", "500", "503", "5xx", "slow", "hang", "drop", "denied", "expired", "down")

_RULE = re.compile(
    r"^(?P<kind>[a-z0-9]+)(?:=(?P<arg>\d+(?:\.\d+)?))?"
    r"(?:@(?P<account>[^/:@,]+))?(?:/(?P<region>[a-z0-9-]+|\*))?"
    r"(?::(?P<probability>\d+(?:\.\d+)?))?$"
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One rule: what goes wrong, where, how often."""

    kind: str
    account: str = "*"
    region: str = "*"
    probability: float = 1.0
    argument: float | None = None

    def matches(self, account: str, region: str) -> bool:
        """True when the rule covers this account-region."""
        return self.account in ("*", account) and self.region in ("*", region)

    def __str__(self) -> str:
        text = self.kind + (f"={self.argument:g}" if self.argument is not None else "")
        text += f"@{self.account}/{self.region}"
        return text + (f":{self.probability:g}" if self.probability != 1.0 else "")


def parse_faults(spec: str) -> tuple[Fault, ...]:
    """Parse a fault spec; raise ValueError naming the bad rule."""
    rules: list[Fault] = []
    for raw in spec.split(","):
        text = raw.strip()
        if not text:
            continue
        match = _RULE.match(text)
        if match is None:
            raise ValueError(
                f"fault rule {text!r} is not KIND[=ARG][@ACCOUNT][/REGION][:PROBABILITY]"
            )
        kind = match["kind"]
        if kind not in KINDS:
            raise ValueError(f"fault rule {text!r}: unknown kind {kind!r} (one of {KINDS})")
        account, region = match["account"] or "*", match["region"] or "*"
        if account != "*" and not is_account_id(account):
            raise ValueError(f"fault rule {text!r}: {account!r} is not a 12-digit account id or *")
        if region != "*" and not is_region(region):
            raise ValueError(f"fault rule {text!r}: {region!r} is not a region name or *")
        probability = float(match["probability"] or 1.0)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"fault rule {text!r}: probability must be within 0..1")
        rules.append(
            Fault(
                kind=kind,
                account=account,
                region=region,
                probability=probability,
                argument=float(match["arg"]) if match["arg"] else None,
            )
        )
    return tuple(rules)


class FaultPlan:
    """The rules in force, switchable at runtime, drawing from one seeded generator."""

    def __init__(self, rules: tuple[Fault, ...] = (), seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.rules = rules

    def replace(self, rules: tuple[Fault, ...]) -> None:
        """Switch to other rules."""
        with self._lock:
            self.rules = rules

    def pick(self, account: str, region: str, kinds: Collection[str] | None = None) -> Fault | None:
        """The fault to apply to one call, or None; `kinds` limits which rules count."""
        with self._lock:
            for rule in self.rules:
                if kinds is not None and rule.kind not in kinds:
                    continue
                if not rule.matches(account, region):
                    continue
                if rule.probability >= 1.0 or self._rng.random() < rule.probability:
                    if rule.kind == "5xx":
                        return Fault(
                            self._rng.choice(("500", "503")), account, region, rule.probability
                        )
                    return rule
            return None
