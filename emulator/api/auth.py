"""SigV4 credential scope: who calls (access key) and where (region); signatures unchecked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from emulator.api.protocol import ApiError, Protocol

_CREDENTIAL = re.compile(
    r"Credential=(?P<key>[^/\s,]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/aws4_request"
)


@dataclass(frozen=True, slots=True)
class Caller:
    """The SigV4 credential scope of a request."""

    access_key: str
    region: str
    service: str


def _missing(protocol: Protocol) -> ApiError:
    if protocol is Protocol.JSON:
        return ApiError(400, "MissingAuthenticationTokenException", "Missing Authentication Token")
    return ApiError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")


def _incomplete(protocol: Protocol, detail: str) -> ApiError:
    code = "IncompleteSignatureException" if protocol is Protocol.JSON else "IncompleteSignature"
    return ApiError(400, code, detail)


def caller_of(headers: Mapping[str, str], query: Mapping[str, str], protocol: Protocol) -> Caller:
    """Read the credential scope from the Authorization header (or a presigned query)."""
    header = headers.get("Authorization")
    if header is None:
        presigned = query.get("X-Amz-Credential")
        if presigned is None:
            raise _missing(protocol)
        header = f"AWS4-HMAC-SHA256 Credential={presigned}, Signature=-"
    if not header.startswith("AWS4-HMAC-SHA256 "):
        raise _incomplete(protocol, "Authorization header requires the AWS4-HMAC-SHA256 scheme.")
    match = _CREDENTIAL.search(header)
    if match is None or "Signature=" not in header:
        raise _incomplete(
            protocol,
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            f"parameters. Authorization={header.split(' ', 1)[0]}",
        )
    return Caller(match["key"], match["region"], match["service"])
