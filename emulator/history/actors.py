"""Who calls AWS in a generated account: users, roles, root and services, with their clients."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

_ALNUM_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

# User agents as real records show them (aws-spotlight, panther, stratus samples).
_CLI = (
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-aws md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe "
    "md/prompt#off md/command#{command}"
)
_TERRAFORM = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) "
    "terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.21.6 md/GOOS#linux md/GOARCH#amd64 api/{api}"
)
_BOTO3 = (
    "Boto3/1.34.60 md/Botocore#1.34.60 ua/2.0 os/linux#5.15.0-1055-aws md/arch#x86_64 "
    "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.60"
)
_JAVA_INTERNAL = (
    "aws-internal/3 aws-sdk-java/1.12.655 Linux/5.10.209-175.858.amzn2int.x86_64 "
    "OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 vendor/Oracle_Corporation "
    "cfg/retry-mode/standard"
)
_BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36"
)
_CONSOLE_BY_SOURCE = {
    "ec2.amazonaws.com": "console.ec2.amazonaws.com",
    "elasticloadbalancing.amazonaws.com": "console.ec2.amazonaws.com",
    "s3.amazonaws.com": f"[S3Console/0.4, {_JAVA_INTERNAL}]",
    "rds.amazonaws.com": _JAVA_INTERNAL,
    "eks.amazonaws.com": _JAVA_INTERNAL,
    "elasticfilesystem.amazonaws.com": _BROWSER,
    "route53.amazonaws.com": "console.amazonaws.com",
}
_GLOBAL_HOSTS = {"route53.amazonaws.com": "route53.amazonaws.com", "iam.amazonaws.com": ""}

_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _kebab(name: str) -> str:
    """`DeleteDBCluster` -> `delete-db-cluster`, as the aws CLI names its commands."""
    return _WORD_BREAK.sub("-", name).lower()


@dataclass(slots=True)
class Actor:
    """One caller: its identity (per day, as sessions come and go) and the client it uses."""

    arn: str
    kind: str  # IAMUser, AssumedRole, Root
    client: str  # console, cli, terraform, boto3, service
    account_id: str
    principal_id: str
    source_ip: str
    access_key: str = ""  # long-term key (AKIA) of an IAM user calling from a CLI or SDK
    user_name: str | None = None
    role_arn: str | None = None
    role_principal: str | None = None
    invoked_by: str | None = None
    mfa: bool = False
    _identities: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    _clients: dict[tuple[str, str, str], tuple[str, dict[str, str] | None]] = field(
        default_factory=dict, repr=False
    )

    @property
    def is_service(self) -> bool:
        """True for a role a service uses on the account's behalf (CloudFormation, Auto Scaling)."""
        return self.invoked_by is not None

    def identity(self, day: int) -> dict[str, Any]:
        """The `userIdentity` of this actor's session on a given day (shared, never mutate).

        Drawn from a generator seeded by the actor and the day, so that it does not depend on
        the order in which records are made.
        """
        found = self._identities.get(day)
        if found is None:
            rng = random.Random(f"{self.arn}/{self.principal_id}/{day}")
            found = self._identities[day] = self._new_identity(day, rng)
        return found

    def _new_identity(self, day: int, rng: random.Random) -> dict[str, Any]:
        session_key = "ASIA" + "".join(rng.choices(_ALNUM_UPPER, k=16))
        # The session began the evening before, so that it precedes every call of the day.
        created = f"{_day_text(day - 1)}T{rng.randint(18, 23):02d}:{rng.randint(0, 59):02d}:00Z"
        attributes = {"creationDate": created, "mfaAuthenticated": "true" if self.mfa else "false"}
        identity: dict[str, Any] = {"type": self.kind, "principalId": self.principal_id}
        identity["arn"] = self.arn
        identity["accountId"] = self.account_id
        if self.kind == "AssumedRole":
            identity["accessKeyId"] = session_key
            identity["sessionContext"] = {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": self.role_principal,
                    "arn": self.role_arn,
                    "accountId": self.account_id,
                    "userName": (self.role_arn or "").rsplit("/", 1)[-1],
                },
                "webIdFederationData": {},
                "attributes": attributes,
            }
            if self.invoked_by:
                identity["invokedBy"] = self.invoked_by
            return identity
        if self.client == "console" or self.kind == "Root":
            identity["accessKeyId"] = session_key
        else:
            identity["accessKeyId"] = self.access_key
        if self.user_name:
            identity["userName"] = self.user_name
        if self.client == "console" or self.kind == "Root":
            identity["sessionContext"] = {
                "sessionIssuer": {},
                "webIdFederationData": {},
                "attributes": attributes,
            }
        return identity

    def client_fields(
        self, source: str, name: str, region: str
    ) -> tuple[str, dict[str, str] | None]:
        """(userAgent, tlsDetails) of a call by this actor; tlsDetails None for services."""
        key = (source, name, region)
        found = self._clients.get(key)
        if found is None:
            found = self._clients[key] = self._client_fields(source, name, region)
        return found

    def _client_fields(
        self, source: str, name: str, region: str
    ) -> tuple[str, dict[str, str] | None]:
        service = source.split(".", 1)[0]
        if self.invoked_by:
            return self.invoked_by, None
        if self.client == "console":
            agent = _CONSOLE_BY_SOURCE.get(source, "console.amazonaws.com")
        elif self.client == "cli":
            agent = _CLI.format(command=f"{service}.{_kebab(name)}")
        elif self.client == "terraform":
            agent = _TERRAFORM.format(api=f"{service}#1.150.0")
        else:
            agent = _BOTO3
        host = _GLOBAL_HOSTS.get(source, f"{service}.{region}.amazonaws.com")
        if not host:
            host = f"{service}.amazonaws.com"
        tls = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": host,
        }
        return agent, tls


def _day_text(day: int) -> str:
    from datetime import UTC, datetime  # noqa: PLC0415 - only used when a session starts

    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")


def _principal(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(_ALNUM_UPPER, k=17))


def _ip(rng: random.Random) -> str:
    # Documentation and carrier ranges, so that no real address is named.
    first = rng.choice((198, 203, 192, 100))
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


_USER_NAMES = (
    "alice",
    "bob.martin",
    "carol",
    "dinesh.k",
    "emma.dev",
    "farid",
    "grace.ops",
    "hiro",
    "ines",
    "jonas",
)
_ROLE_SESSIONS = ("erin@example.com", "frank@example.com", "gita@example.com")


@dataclass(frozen=True, slots=True)
class Cast:
    """Everyone who acts in one account."""

    humans: tuple[Actor, ...]  # make changes (and read)
    readers: tuple[Actor, ...]  # only read: monitoring, scripts, the console's own polling
    root: Actor
    cloudformation: Actor
    autoscaling: Actor

    @property
    def all(self) -> tuple[Actor, ...]:
        """Every actor, services included."""
        return (*self.humans, *self.readers, self.root, self.cloudformation, self.autoscaling)


def iam_user(rng: random.Random, account: str, name: str, client: str) -> Actor:
    """An IAM user calling through `client` (console, cli, terraform, boto3)."""
    return Actor(
        arn=f"arn:aws:iam::{account}:user/{name}",
        kind="IAMUser",
        client=client,
        account_id=account,
        principal_id=_principal(rng, "AIDA"),
        source_ip=_ip(rng),
        access_key="AKIA" + "".join(rng.choices(_ALNUM_UPPER, k=16)),
        user_name=name,
        mfa=client == "console",
    )


def _role(
    rng: random.Random,
    account: str,
    role: str,
    session: str,
    client: str,
    *,
    path: str = "",
    invoked_by: str | None = None,
) -> Actor:
    role_principal = _principal(rng, "AROA")
    return Actor(
        arn=f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        kind="AssumedRole",
        client=client,
        account_id=account,
        principal_id=f"{role_principal}:{session}",
        source_ip=invoked_by or _ip(rng),
        role_arn=f"arn:aws:iam::{account}:role/{path}{role}",
        role_principal=role_principal,
        invoked_by=invoked_by,
        mfa=client == "console",
    )


def account_cast(rng: random.Random, account: str) -> Cast:
    """The actors of one account, drawn deterministically from `rng`."""
    names = rng.sample(_USER_NAMES, 4)
    clients = ("console", "cli", "terraform", "boto3")
    humans = [
        iam_user(rng, account, name, client) for name, client in zip(names, clients, strict=True)
    ]
    sso_role = f"AWSReservedSSO_AdministratorAccess_{rng.getrandbits(64):016x}"
    sso_path = "aws-reserved/sso.amazonaws.com/"
    humans.extend(
        _role(rng, account, sso_role, session, rng.choice(("console", "cli")), path=sso_path)
        for session in rng.sample(_ROLE_SESSIONS, 2)
    )
    instance_session = f"i-{rng.getrandbits(68):017x}"
    readers = (
        _role(rng, account, "ReadOnlyAudit", instance_session, "boto3"),
        _role(rng, account, "monitoring-exporter", "exporter", "boto3"),
    )
    root = Actor(
        arn=f"arn:aws:iam::{account}:root",
        kind="Root",
        client="console",
        account_id=account,
        principal_id=account,
        source_ip=_ip(rng),
        mfa=True,
    )
    cloudformation = _role(
        rng,
        account,
        "cfn-deploy-role",
        f"{rng.getrandbits(128):032x}",
        "service",
        invoked_by="cloudformation.amazonaws.com",
    )
    autoscaling = _role(
        rng,
        account,
        "AWSServiceRoleForAutoScaling",
        "AutoScaling",
        "service",
        path="aws-service-role/autoscaling.amazonaws.com/",
        invoked_by="autoscaling.amazonaws.com",
    )
    return Cast(tuple(humans), readers, root, cloudformation, autoscaling)
