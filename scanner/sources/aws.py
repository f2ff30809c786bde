"""AWS sessions: current credentials or an assumed role per account; account and region lists."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import aioboto3
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioCredentialResolver, AioDeferredRefreshableCredentials
from aiobotocore.session import AioSession
from botocore.configprovider import ConfiguredEndpointProvider
from botocore.credentials import CredentialProvider
from botocore.exceptions import BotoCoreError

from scanner.settings import AccountTarget, Settings
from scanner.sources import SourceError
from scanner.sources.tls import SharedTlsSession

STS_REGION = "us-east-1"
SESSION_NAME = "leftovers-scan"


def client_config(pool: int = 10) -> AioConfig:
    """One attempt per call (our own retry loop counts and spaces them), sane timeouts, and
    the process's one TLS context."""
    return AioConfig(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=pool,
        http_session_cls=SharedTlsSession,
    )


class _AssumedRoleProvider:
    """A credential provider whose credentials are refreshed by sts:AssumeRole when they age."""

    METHOD = "assume-role"
    CANONICAL_NAME = "custom-assume-role"

    def __init__(self, base: aioboto3.Session, role_arn: str, endpoint_url: str | None) -> None:
        self._base = base
        self._role_arn = role_arn
        self._endpoint_url = endpoint_url

    async def _fetch(self) -> dict[str, Any]:
        async with self._base.client(
            "sts", region_name=STS_REGION, endpoint_url=self._endpoint_url, config=client_config()
        ) as sts:
            answer = await sts.assume_role(RoleArn=self._role_arn, RoleSessionName=SESSION_NAME)
        creds = answer["Credentials"]
        expiration = creds["Expiration"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": (
                expiration.isoformat() if isinstance(expiration, datetime) else str(expiration)
            ),
        }

    async def load(self) -> AioDeferredRefreshableCredentials:
        return AioDeferredRefreshableCredentials(refresh_using=self._fetch, method=self.METHOD)


def assumed_role_session(
    base: aioboto3.Session, role_arn: str, endpoint_url: str | None
) -> aioboto3.Session:
    """A session whose credentials come from assuming `role_arn` (refreshed before expiry)."""
    core = AioSession()
    provider = _AssumedRoleProvider(base, role_arn, endpoint_url)
    # aiobotocore's providers are async; the stubs only know botocore's synchronous base class.
    resolver = AioCredentialResolver(providers=[cast(CredentialProvider, provider)])
    core.register_component("credential_provider", resolver)
    return aioboto3.Session(botocore_session=core)


def service_endpoint(
    session: aioboto3.Session, api: str, environ: Mapping[str, str] | None = None
) -> str | None:
    """The endpoint botocore's standard settings give one service (`AWS_ENDPOINT_URL_<SERVICE>`,
    or the `services` section of the config file), or None: it wins over the one `endpoint_url`,
    so CloudTrail may come from one endpoint and Describe calls go to another."""
    core = session._session
    try:
        provider: Any = ConfiguredEndpointProvider(
            full_config=core.full_config,
            scoped_config=core.get_scoped_config(),
            client_name=api,
            environ=dict(os.environ if environ is None else environ),
        )
        # botocore's own lookups of the two service-specific places, without the global ones.
        found = (
            provider._get_endpoint_url_environment_service()
            or provider._get_endpoint_url_config_service()
        )
    except BotoCoreError:  # a profile or services section that does not exist
        return None
    return str(found) if found else None


@dataclass(frozen=True, slots=True)
class AccountSession:
    """An account to scan and the session that reaches it."""

    account_id: str
    session: aioboto3.Session = field(compare=False)


async def _caller_account(session: aioboto3.Session, endpoint_url: str | None) -> str:
    async with session.client(
        "sts", region_name=STS_REGION, endpoint_url=endpoint_url, config=client_config()
    ) as sts:
        identity = await sts.get_caller_identity()
    return str(identity["Account"])


async def _organization_accounts(session: aioboto3.Session, endpoint_url: str | None) -> list[str]:
    found: list[str] = []
    async with session.client(
        "organizations", region_name=STS_REGION, endpoint_url=endpoint_url, config=client_config()
    ) as org:
        paginator = org.get_paginator("list_accounts")
        async for page in paginator.paginate():
            found.extend(
                str(a["Id"]) for a in page.get("Accounts", []) if a.get("Status") == "ACTIVE"
            )
    return found


async def account_sessions(
    settings: Settings, base: aioboto3.Session | None = None
) -> list[AccountSession]:
    """The accounts the settings select, each with its session (assumed role where one is set)."""
    base = base if base is not None else aioboto3.Session()
    endpoint = settings.endpoint_url
    selection = settings.accounts
    if selection.organization_role is not None:
        own = await _caller_account(base, endpoint)
        sessions = []
        for account_id in await _organization_accounts(base, endpoint):
            if account_id == own:
                sessions.append(AccountSession(account_id, base))
                continue
            role = f"arn:aws:iam::{account_id}:role/{selection.organization_role}"
            sessions.append(AccountSession(account_id, assumed_role_session(base, role, endpoint)))
        return sessions
    return [await _target_session(target, base, endpoint) for target in selection.targets]


async def _target_session(
    target: AccountTarget, base: aioboto3.Session, endpoint: str | None
) -> AccountSession:
    if target.role_arn:
        session = assumed_role_session(base, target.role_arn, endpoint)
        account_id = target.account_id or await _caller_account(session, endpoint)
        return AccountSession(account_id, session)
    own = await _caller_account(base, endpoint)
    if target.account_id not in (None, own):
        raise SourceError(
            "fatal",
            f"account {target.account_id} has no role to assume, and the current credentials "
            f"are account {own}'s: give {target.account_id}=ROLE_ARN",
        )
    return AccountSession(own, base)


async def enabled_regions(session: aioboto3.Session, endpoint_url: str | None) -> list[str]:
    """The regions enabled in an account (ec2:DescribeRegions)."""
    endpoint = service_endpoint(session, "ec2") or endpoint_url
    async with session.client(
        "ec2", region_name=STS_REGION, endpoint_url=endpoint, config=client_config()
    ) as ec2:
        answer: Mapping[str, Any] = await ec2.describe_regions()
    return sorted(str(r["RegionName"]) for r in answer.get("Regions", []))
