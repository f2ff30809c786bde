"""Sessions and clients kept between the service's scans: a second scan opens no session or
client, and an assumed role's credentials are renewed when they expire, not assumed each scan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import aioboto3
import pytest

from emulator import Running
from emulator.api.clock import ManualClock
from scanner.catalog import load_catalog
from scanner.service import Service
from scanner.settings import load_settings
from scanner.sources.aws import AwsClients
from scanner.store import Store
from tests.conftest import ACCOUNT_A, ACCOUNT_B
from tests.sources.conftest import aws_env

__all__ = ["aws_env"]

ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/LeftoversReader"
HOUR = 3600.0


class CountingSession(aioboto3.Session):  # type: ignore[misc]  # aioboto3 ships no types
    """An aioboto3 session that counts the sessions of its class made and the clients they open
    (an assumed role's session is of its base's class)."""

    made: ClassVar[list[CountingSession]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened = 0
        CountingSession.made.append(self)

    def client(self, *args: Any, **kwargs: Any) -> Any:
        self.opened += 1
        return super().client(*args, **kwargs)


@pytest.fixture
def manual_clock() -> ManualClock:
    """The emulator's clock, and the credentials' (AssumeRole's expiry is on it): now."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def service(
    emulator: Running, manual_clock: ManualClock, aws_env: None, tmp_path: Path
) -> AsyncIterator[tuple[Service, CountingSession]]:
    """A service over accounts A (the caller's) and B (an assumed role) in two regions, its
    sessions and clients kept in AwsClients over a CountingSession."""
    CountingSession.made.clear()
    settings = load_settings(
        None,
        env={},
        flags={
            "accounts": [{"id": ACCOUNT_A}, {"id": ACCOUNT_B, "role_arn": ROLE_B}],
            "regions": ["us-east-1", "eu-west-1"],
            "endpoint_url": emulator.endpoint_url,
            "rate": 100.0,
            "retry.attempts": 1,
            "service.state_path": str(tmp_path / "state.db"),
        },
    )

    def now() -> datetime:
        return datetime.fromtimestamp(manual_clock.now(), UTC)

    base = CountingSession()
    store = await Store.open(tmp_path / "state.db")
    try:
        async with AwsClients(base, clock=now) as clients:
            yield Service(settings, store, load_catalog(), clock=now, clients=clients), base
    finally:
        await store.close()


def assumed(base: aioboto3.Session) -> list[str]:
    """Record the roles assumed through `base`'s STS client (botocore's event hooks)."""
    roles: list[str] = []

    def note(params: dict[str, Any], **_: Any) -> None:
        roles.append(params["body"]["RoleArn"])

    base.events.register("before-call.sts.AssumeRole", note)
    return roles


def opened() -> tuple[int, int]:
    """(sessions made, clients opened) by CountingSession and the sessions made from it."""
    return len(CountingSession.made), sum(s.opened for s in CountingSession.made)


async def test_a_second_scan_opens_no_session_and_no_client(
    service: tuple[Service, CountingSession],
) -> None:
    scanner, base = service
    roles = assumed(base)
    first = await scanner.scan_once()
    after_first = opened()
    second = await scanner.scan_once()
    assert (first.outcome, second.outcome) == ("ok", "ok")
    # The base session and B's role session; the base's STS client (GetCallerIdentity for A,
    # AssumeRole for B) and a CloudTrail client per (account, region).
    assert after_first == (2, 5)
    assert opened() == after_first
    assert roles == [ROLE_B]


async def test_an_assumed_roles_credentials_are_renewed_when_they_expire(
    service: tuple[Service, CountingSession], manual_clock: ManualClock
) -> None:
    scanner, base = service
    roles = assumed(base)
    assert (await scanner.scan_once()).outcome == "ok"
    manual_clock.advance(HOUR - 60)  # still valid, but within botocore's refresh margin
    renewed = await scanner.scan_once()
    manual_clock.advance(HOUR + 60)  # past the renewed keys' expiry: the emulator refuses them
    expired = await scanner.scan_once()
    assert (renewed.outcome, expired.outcome) == ("ok", "ok")
    assert expired.result is not None
    assert not expired.result.failures
    assert roles == [ROLE_B] * 3
    assert opened() == (2, 5)
