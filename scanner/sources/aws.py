"""AWS sessions and clients: current credentials or an assumed role per account, kept (with their
models and open clients) for as long as the process wants them; account and region lists."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self, cast

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
#: The time credentials' expiry is compared with (botocore's own clock unless a test moves it).
Clock = Callable[[], datetime]
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


class AwsClients:
    """Sessions and open clients kept between scans, closed by leaving `async with`.

    One base session (the environment's credentials) whose model loader every other session
    shares, so botocore reads and parses each service's model files once; one session per assumed
    role, whose refreshable credentials botocore renews before they expire by `clock` (not
    assumed again each scan); and one open client per (session, service, region, endpoint,
    pool): a client is bound to its region, so per (account, region) is as few as LookupEvents
    allows."""

    def __init__(self, base: aioboto3.Session | None = None, clock: Clock | None = None) -> None:
        self.base = base if base is not None else aioboto3.Session()
        self._clock = clock
        self._roles: dict[tuple[str, str | None], aioboto3.Session] = {}
        self._clients: dict[tuple[int, str, str, str | None, int], Any] = {}
        self._owners: dict[int, aioboto3.Session] = {}  # keeps each key's session (and id) alive
        self._locks: dict[tuple[int, str, str, str | None, int], asyncio.Lock] = {}
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        await self._stack.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every client opened (they may be opened again afterwards)."""
        self._clients.clear()
        self._locks.clear()
        await self._stack.aclose()

    @property
    def clients_open(self) -> int:
        """How many clients are open."""
        return len(self._clients)

    def role_session(self, role_arn: str, endpoint_url: str | None) -> aioboto3.Session:
        """The session of `role_arn`, made once (its credentials refresh themselves)."""
        key = (role_arn, endpoint_url)
        if key not in self._roles:
            self._roles[key] = assumed_role_session(
                self.base, role_arn, endpoint_url, self, self._clock
            )
        return self._roles[key]

    async def client(
        self,
        session: aioboto3.Session,
        service: str,
        region: str,
        endpoint_url: str | None,
        pool: int = 10,
    ) -> Any:
        """`session`'s open client of `service` in `region`, opened on first use; botocore's
        own setting for the service (`AWS_ENDPOINT_URL_<SERVICE>`, the config file's
        `services` section) wins over `endpoint_url`."""
        endpoint_url = service_endpoint(session, service) or endpoint_url
        key = (id(session), service, region, endpoint_url, pool)
        found = self._clients.get(key)
        if found is not None:
            return found
        async with self._locks.setdefault(key, asyncio.Lock()):
            if key not in self._clients:
                client = session.client(
                    service,
                    region_name=region,
                    endpoint_url=endpoint_url,
                    config=client_config(pool),
                )
                self._clients[key] = await self._stack.enter_async_context(client)
                self._owners[id(session)] = session
        return self._clients[key]


class _AssumedRoleProvider:
    """A credential provider whose credentials are refreshed by sts:AssumeRole when they age."""

    METHOD = "assume-role"
    CANONICAL_NAME = "custom-assume-role"

    def __init__(
        self,
        base: aioboto3.Session,
        role_arn: str,
        endpoint_url: str | None,
        clients: AwsClients | None,
        clock: Clock | None,
    ) -> None:
        self._base = base
        self._role_arn = role_arn
        self._endpoint_url = endpoint_url
        self._clients = clients
        self._clock = clock

    async def _assume(self) -> Mapping[str, Any]:
        if self._clients is not None:  # the base session's STS client, kept open
            sts = await self._clients.client(self._base, "sts", STS_REGION, self._endpoint_url)
            answer: Mapping[str, Any] = await sts.assume_role(
                RoleArn=self._role_arn, RoleSessionName=SESSION_NAME
            )
            return answer
        async with self._base.client(
            "sts", region_name=STS_REGION, endpoint_url=self._endpoint_url, config=client_config()
        ) as sts:
            answer = await sts.assume_role(RoleArn=self._role_arn, RoleSessionName=SESSION_NAME)
        return answer

    async def _fetch(self) -> dict[str, Any]:
        creds = (await self._assume())["Credentials"]
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
        if self._clock is None:
            return AioDeferredRefreshableCredentials(refresh_using=self._fetch, method=self.METHOD)
        return AioDeferredRefreshableCredentials(
            refresh_using=self._fetch, method=self.METHOD, time_fetcher=self._clock
        )


def assumed_role_session(
    base: aioboto3.Session,
    role_arn: str,
    endpoint_url: str | None,
    clients: AwsClients | None = None,
    clock: Clock | None = None,
) -> aioboto3.Session:
    """A session of `base`'s class whose credentials come from assuming `role_arn` (refreshed
    before they expire by `clock`, by default the machine's), reading models through `base`'s
    loader; `clients`: where its STS client is kept open."""
    core = AioSession()
    # aioboto3 gives no public way to the botocore session it wraps; register_component is
    # botocore's documented way to share a component (the loader caches every model it parsed).
    core.register_component("data_loader", base._session.get_component("data_loader"))
    provider = _AssumedRoleProvider(base, role_arn, endpoint_url, clients, clock)
    # aiobotocore's providers are async; the stubs only know botocore's synchronous base class.
    resolver = AioCredentialResolver(providers=[cast(CredentialProvider, provider)])
    core.register_component("credential_provider", resolver)
    return type(base)(botocore_session=core)


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


async def _caller_account(
    clients: AwsClients, session: aioboto3.Session, endpoint_url: str | None
) -> str:
    sts = await clients.client(session, "sts", STS_REGION, endpoint_url)
    identity = await sts.get_caller_identity()
    return str(identity["Account"])


async def _organization_accounts(clients: AwsClients, endpoint_url: str | None) -> list[str]:
    found: list[str] = []
    org = await clients.client(clients.base, "organizations", STS_REGION, endpoint_url)
    paginator = org.get_paginator("list_accounts")
    async for page in paginator.paginate():
        found.extend(str(a["Id"]) for a in page.get("Accounts", []) if a.get("Status") == "ACTIVE")
    return found


async def account_sessions(
    settings: Settings, base: aioboto3.Session | None = None, *, clients: AwsClients | None = None
) -> list[AccountSession]:
    """The accounts the settings select, each with its session (assumed role where one is set):
    `clients`' sessions, or for just this answer, sessions from `base`."""
    if clients is None:
        async with AwsClients(base) as scoped:
            return await account_sessions(settings, clients=scoped)
    base = clients.base
    endpoint = settings.endpoint_url
    selection = settings.accounts
    if selection.organization_role is not None:
        own = await _caller_account(clients, base, endpoint)
        sessions = []
        for account_id in await _organization_accounts(clients, endpoint):
            if account_id == own:
                sessions.append(AccountSession(account_id, base))
                continue
            role = f"arn:aws:iam::{account_id}:role/{selection.organization_role}"
            sessions.append(AccountSession(account_id, clients.role_session(role, endpoint)))
        return sessions
    return [await _target_session(target, clients, endpoint) for target in selection.targets]


async def _target_session(
    target: AccountTarget, clients: AwsClients, endpoint: str | None
) -> AccountSession:
    if target.role_arn:
        session = clients.role_session(target.role_arn, endpoint)
        account_id = target.account_id or await _caller_account(clients, session, endpoint)
        return AccountSession(account_id, session)
    own = await _caller_account(clients, clients.base, endpoint)
    if target.account_id not in (None, own):
        raise SourceError(
            "fatal",
            f"account {target.account_id} has no role to assume, and the current credentials "
            f"are account {own}'s: give {target.account_id}=ROLE_ARN",
        )
    return AccountSession(own, clients.base)


async def enabled_regions(
    clients: AwsClients, session: aioboto3.Session, endpoint_url: str | None
) -> list[str]:
    """The regions enabled in an account (ec2:DescribeRegions)."""
    ec2 = await clients.client(session, "ec2", STS_REGION, endpoint_url)
    answer: Mapping[str, Any] = await ec2.describe_regions()
    return sorted(str(r["RegionName"]) for r in answer.get("Regions", []))
