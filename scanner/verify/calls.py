"""Live checks through aioboto3: one client per (account, region, service), batched ids.

Each (account, region, service) gets its own client in botocore's adaptive retry mode, whose
client-side rate limiter paces that client and backs off when AWS throttles it; its calls run
one at a time, and at most `settings.concurrency` such groups run at once. A call's error code
decides: one of the type's `gone` codes means gone, anything else leaves the resource unknown.
A batch that fails with a gone code (EC2 names one missing id and answers nothing for the rest)
is asked again one id at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from aiobotocore.config import AioConfig
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from scanner.catalog import Catalog
from scanner.catalog.verification import Verification
from scanner.lifecycle import ResourceKey
from scanner.logs import get_logger
from scanner.settings import Settings
from scanner.sources.aws import AccountSession, service_endpoint
from scanner.sources.tls import SharedTlsSession
from scanner.verify.verdict import Verdict, tag_pairs, unknown_reason

log = get_logger("verify")


@dataclass(frozen=True, slots=True)
class Subject:
    """A leftover to check: its key, and the ARN and name its events gave."""

    key: ResourceKey
    arn: str | None = None
    name: str | None = None

    def fields(self) -> dict[str, object]:
        """The values a verification's parameter templates may use."""
        key = self.key
        return {
            "id": key.resource_id,
            "part": key.resource_id.split("/"),
            "arn": self.arn or key.resource_id,
            "name": self.name or key.resource_id,
            "region": key.region,
            "account_id": key.account_id,
        }


def verify_config(settings: Settings) -> AioConfig:
    """botocore's adaptive retry mode (client-side pacing), our timeouts, the shared TLS context."""
    return AioConfig(
        retries={"mode": "adaptive", "total_max_attempts": settings.retry.attempts},
        connect_timeout=10,
        read_timeout=settings.retry.call_timeout_seconds,
        http_session_cls=SharedTlsSession,
    )


class Checker:
    """The checks of one (account, region, service), run through one client."""

    def __init__(self, client: Any, now: datetime) -> None:
        self._client = client
        self._now = now

    async def _call(self, verification: Verification, params: Mapping[str, object]) -> Any:
        method = getattr(self._client, xform_name(verification.call))
        return await method(**params)

    def _failed(self, verification: Verification, error: Exception) -> Verdict:
        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in verification.gone:
                return Verdict("gone", self._now, reason=f"{verification.call}: {code}")
            return Verdict("unknown", self._now, reason=unknown_reason(code))
        return Verdict("unknown", self._now, reason="unavailable")

    def _seen(self, verification: Verification, item: object) -> Verdict:
        state = verification.state(item) if verification.state else None
        tags = tag_pairs(verification.tags(item)) if verification.tags else ()
        text = None if state is None else str(state)
        if text is not None and text.lower() in verification.gone_states:
            return Verdict("gone", self._now, text, tags, f"{verification.call}: state {text}")
        return Verdict("present", self._now, text, tags)

    def _items(self, verification: Verification, answer: object) -> list[object]:
        if verification.items is None:
            return [answer]
        found = verification.items(answer)
        if found is None:
            return []
        return list(found) if isinstance(found, list) else [found]

    def _verdicts(
        self, verification: Verification, answer: object, ids: Sequence[str]
    ) -> dict[str, Verdict]:
        """Each id's verdict from an answer: the item with that id (with no `id` path, the one
        resource asked for is whatever the answer holds), or gone when there is none."""
        items = self._items(verification, answer)
        by_id: dict[str, object] = {}
        path = verification.id
        if path is None:
            by_id = {ids[0]: items[0]} if items else {}
        else:
            for item in items:
                found = path(item)
                if found is not None:
                    by_id.setdefault(str(found), item)
        missing = Verdict("gone", self._now, reason=f"{verification.call}: not found")
        return {
            wanted: self._seen(verification, by_id[wanted]) if wanted in by_id else missing
            for wanted in ids
        }

    async def one(self, verification: Verification, subject: Subject) -> Verdict:
        """Check one resource with its own parameters."""
        wanted = subject.key.resource_id
        try:
            answer = await self._call(verification, verification.request(subject.fields()))
        except (ClientError, BotoCoreError, IndexError) as error:  # IndexError: an id too short
            return self._failed(verification, error)
        return self._verdicts(verification, answer, [wanted])[wanted]

    async def many(
        self, verification: Verification, subjects: Sequence[Subject]
    ) -> dict[ResourceKey, Verdict]:
        """Check resources whose ids go in one list parameter; a batch failing with a gone code
        (EC2 names one missing id and answers nothing for the rest) is asked one id at a time."""
        ids = [subject.key.resource_id for subject in subjects]
        try:
            answer = await self._call(verification, verification.batch_request(ids))
        except (ClientError, BotoCoreError) as error:
            verdict = self._failed(verification, error)
            if verdict.outcome == "gone" and len(subjects) > 1:
                return {s.key: (await self.many(verification, [s]))[s.key] for s in subjects}
            return dict.fromkeys((s.key for s in subjects), verdict)
        found = self._verdicts(verification, answer, ids)
        return {s.key: found[s.key.resource_id] for s in subjects}


async def _run_group(
    account: AccountSession,
    *,
    region: str,
    api: str,
    work: Sequence[tuple[Verification, Sequence[Subject]]],
    settings: Settings,
    now: datetime,
) -> dict[ResourceKey, Verdict]:
    endpoint = service_endpoint(account.session, api) or settings.endpoint_url
    found: dict[ResourceKey, Verdict] = {}
    async with account.session.client(
        api, region_name=region, endpoint_url=endpoint, config=verify_config(settings)
    ) as client:
        group = Checker(client, now)
        for verification, subjects in work:
            if verification.ids is None:
                for subject in subjects:
                    found[subject.key] = await group.one(verification, subject)
                continue
            for start in range(0, len(subjects), verification.batch):
                chunk = subjects[start : start + verification.batch]
                found.update(await group.many(verification, chunk))
    return found


async def verify(
    subjects: Sequence[Subject],
    catalog: Catalog,
    sessions: Mapping[str, AccountSession],
    settings: Settings,
    now: datetime,
) -> dict[ResourceKey, Verdict]:
    """Check each subject live; a verdict for every one (unknown where it cannot be checked)."""
    verdicts: dict[ResourceKey, Verdict] = {}
    groups: dict[tuple[str, str, str], dict[str, list[Subject]]] = {}
    for subject in subjects:
        key = subject.key
        resource_type = catalog.types.get(key.resource_type)
        check = resource_type.verify if resource_type is not None else None
        if check is None or key.account_id not in sessions:
            reason = "unsupported" if check is None else "no session for the account"
            verdicts[key] = Verdict("unknown", now, reason=reason)
            continue
        region = catalog.global_region if resource_type and resource_type.is_global else key.region
        where = (key.account_id, region, check.api)
        groups.setdefault(where, {}).setdefault(key.resource_type, []).append(subject)
    limiter = anyio.CapacityLimiter(settings.concurrency)

    async def run(where: tuple[str, str, str], by_type: dict[str, list[Subject]]) -> None:
        account, region, api = where
        work = [(_check(catalog, name), items) for name, items in sorted(by_type.items())]
        async with limiter:
            try:
                verdicts.update(
                    await _run_group(
                        sessions[account],
                        region=region,
                        api=api,
                        work=work,
                        settings=settings,
                        now=now,
                    )
                )
            except (ClientError, BotoCoreError, OSError) as error:
                log.warning(
                    "verification_failed", account_id=account, region=region, service=api,
                    error=type(error).__name__,
                )  # fmt: skip
                for _, items in work:
                    for subject in items:
                        verdicts.setdefault(
                            subject.key, Verdict("unknown", now, reason="unavailable")
                        )

    async with anyio.create_task_group() as tasks:
        for where, by_type in sorted(groups.items()):
            tasks.start_soon(run, where, by_type)
    return verdicts


def _check(catalog: Catalog, name: str) -> Verification:
    found = catalog.types[name].verify
    assert found is not None  # grouped only when it has one
    return found
