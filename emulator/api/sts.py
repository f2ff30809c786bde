"""STS on the emulator: AssumeRole issues keys that map to an account; GetCallerIdentity."""

from __future__ import annotations

import random
import re
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from emulator.api.clock import Clock
from emulator.api.protocol import STS_NAMESPACE, ApiError, request_id, xml_element

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>[^:/]+):role/(?P<path>.+)$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a key belongs to: account, principal ARN and user id; `expires` for temporary keys."""

    account: str
    arn: str
    user_id: str
    expires: float | None = None


class Sessions:
    """Keys issued by AssumeRole, each mapped to its role session; other keys are the default."""

    def __init__(self, clock: Clock, default_account: Callable[[], str], seed: int | None) -> None:
        self._clock = clock
        self._default_account = default_account
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._issued: dict[str, Identity] = {}

    def identity(self, access_key: str) -> Identity:
        """The identity behind a key; raise ApiError when the key has expired."""
        with self._lock:
            issued = self._issued.get(access_key)
        if issued is None:
            account = self._default_account()
            return Identity(account, f"arn:aws:iam::{account}:user/leftovers", "AIDALEFTOVERS")
        if issued.expires is not None and self._clock.now() >= issued.expires:
            raise ApiError(
                400,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            )
        return issued

    def _token(self, alphabet: str, size: int) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(size))

    def assume_role(self, params: Mapping[str, str]) -> str:
        """Answer AssumeRole (XML), issuing keys for the role's account."""
        role_arn = params.get("RoleArn", "")
        session_name = params.get("RoleSessionName", "")
        match = _ROLE_ARN.match(role_arn)
        if match is None:
            raise ApiError(400, "ValidationError", f"{role_arn!r} is not a valid role ARN")
        if not _SESSION_NAME.match(session_name):
            raise ApiError(
                400, "ValidationError", "1 validation error detected: RoleSessionName is invalid"
            )
        try:
            duration = int(params.get("DurationSeconds", "3600"))
        except ValueError:
            raise ApiError(400, "ValidationError", "DurationSeconds must be a number") from None
        if not 900 <= duration <= 43200:
            raise ApiError(400, "ValidationError", "DurationSeconds must be between 900 and 43200")
        account, role_name = match["account"], match["path"].rsplit("/", 1)[-1]
        role_id = "AROA" + self._token(string.ascii_uppercase + string.digits, 17)
        access_key = "ASIA" + self._token(string.ascii_uppercase + string.digits, 16)
        secret = self._token(string.ascii_letters + string.digits + "+/", 40)
        session_token = self._token(string.ascii_letters + string.digits + "+/", 120)
        expires = self._clock.now() + duration
        arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"
        user_id = f"{role_id}:{session_name}"
        with self._lock:
            self._issued[access_key] = Identity(account, arn, user_id, expires)
        expiration = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f'<AssumeRoleResponse xmlns="{STS_NAMESPACE}"><AssumeRoleResult>'
            f"<AssumedRoleUser>{xml_element('Arn', arn)}"
            f"{xml_element('AssumedRoleId', user_id)}</AssumedRoleUser>"
            f"<Credentials>{xml_element('AccessKeyId', access_key)}"
            f"{xml_element('SecretAccessKey', secret)}{xml_element('SessionToken', session_token)}"
            f"{xml_element('Expiration', expiration)}</Credentials>"
            f"<PackedPolicySize>0</PackedPolicySize></AssumeRoleResult>"
            f"<ResponseMetadata>{xml_element('RequestId', request_id())}</ResponseMetadata>"
            f"</AssumeRoleResponse>"
        )

    @staticmethod
    def role_account(params: Mapping[str, str]) -> str | None:
        """The account of the role an AssumeRole call asks for, if the ARN is one."""
        match = _ROLE_ARN.match(params.get("RoleArn", ""))
        return match["account"] if match else None


def caller_identity_xml(identity: Identity) -> str:
    """Answer GetCallerIdentity (XML)."""
    return (
        f'<GetCallerIdentityResponse xmlns="{STS_NAMESPACE}"><GetCallerIdentityResult>'
        f"{xml_element('Arn', identity.arn)}{xml_element('UserId', identity.user_id)}"
        f"{xml_element('Account', identity.account)}</GetCallerIdentityResult>"
        f"<ResponseMetadata>{xml_element('RequestId', request_id())}</ResponseMetadata>"
        f"</GetCallerIdentityResponse>"
    )
