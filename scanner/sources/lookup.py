"""LookupEvents through aioboto3: one client per (account, region), pages parsed to records."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import aioboto3
import aiohttp
import anyio
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    HTTPClientError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from scanner.logs import get_logger
from scanner.plan import PAGE_SIZE, Slice, StreamId, lookup_attribute
from scanner.records import parse_time, record_from_lookup_event
from scanner.sources import SourceError, SourcePage, Watches
from scanner.sources.answers import use_fast_lookup_parser
from scanner.sources.aws import AwsClients

log = get_logger("lookup")

THROTTLE_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
TRANSIENT_CODES = frozenset(
    {"InternalFailure", "InternalError", "ServiceUnavailable", "ServiceUnavailableException"}
)
#: Codes that say the caller may not read (or its credentials are not valid): `access_denied`.
ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "OptInRequired",
    }
)


_TIMEOUTS = (ReadTimeoutError, ConnectTimeoutError, asyncio.TimeoutError, TimeoutError)
_CONNECTION_ERRORS = (
    BotoConnectionError,
    HTTPClientError,
    aiohttp.ClientError,
    OSError,
    asyncio.TimeoutError,
)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _classify_client_error(error: ClientError) -> SourceError:
    info = error.response.get("Error", {})
    code = str(info.get("Code", "Unknown"))
    message = str(info.get("Message") or "").strip()
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    reason = f"{code}: {message.splitlines()[0]}" if message else code
    if code in THROTTLE_CODES or status == 429:
        return SourceError("throttled", reason)
    if code == "InvalidNextTokenException":
        return SourceError("invalid_token", reason)
    if status >= 500 or code in TRANSIENT_CODES:
        return SourceError("transient", f"HTTP {status} {reason}")
    if code in ACCESS_CODES or status in (401, 403):
        return SourceError("fatal", reason, "access_denied")
    return SourceError("fatal", reason)


def classify(error: BaseException) -> SourceError:
    """Turn what botocore or aiohttp raised into a SourceError with a one-line reason and its
    category (throttled, access_denied, unavailable, timeout or other)."""
    if isinstance(error, ClientError):
        return _classify_client_error(error)
    if isinstance(error, NoCredentialsError):
        return SourceError("fatal", "no AWS credentials found", "access_denied")
    if isinstance(error, _TIMEOUTS):
        return SourceError("transient", _first_line(error), "timeout")
    if isinstance(error, _CONNECTION_ERRORS):
        return SourceError("transient", _first_line(error))
    if isinstance(error, BotoCoreError):
        return SourceError("fatal", _first_line(error))
    return SourceError("fatal", f"{type(error).__name__}: {_first_line(error)}")


def _oldest(stamps: list[object]) -> datetime | None:
    """The oldest of a page's `EventTime`s: epoch seconds as sent (the fast parser, compared as
    numbers and converted once), or times parsed already."""
    numbers = [v for v in stamps if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(stamps):
        return datetime.fromtimestamp(min(numbers), UTC) if numbers else None
    times = [datetime.fromtimestamp(v, UTC) for v in numbers]
    times += [t for v in stamps if (t := parse_time(v)) is not None]
    return min(times, default=None)


def parse_page(answer: Mapping[str, Any], watches: Watches) -> SourcePage:
    """A LookupEvents answer as a SourcePage: every event counted, only watched ones parsed."""
    events = answer.get("Events") or []
    records = []
    stamps = []
    for event in events:
        stamp = event.get("EventTime")
        if stamp is not None:
            stamps.append(stamp)
        source = event.get("EventSource") or ""
        name = event.get("EventName") or ""
        if source and name and not watches(source, name):
            continue
        record = record_from_lookup_event(event)
        if record is None:
            continue
        if not (source and name) and not watches(record.event_source, record.event_name):
            continue
        records.append(record)
    oldest = _oldest(stamps)
    for record in records:  # an event without EventTime still counts, by its record's time
        if oldest is None or record.event_time < oldest:
            oldest = record.event_time
    token = answer.get("NextToken") or None
    return SourcePage(tuple(records), len(events), oldest, token)


class LookupSource:
    """LookupEvents for the accounts it holds sessions for; use it as an async context manager.
    Its clients come from `clients`, kept open beyond it; without, from its own, closed with it."""

    time_sliced = True

    def __init__(
        self,
        sessions: Mapping[str, aioboto3.Session],
        watches: Watches,
        endpoint_url: str | None = None,
        pool: int = 10,
        clients: AwsClients | None = None,
    ) -> None:
        self._sessions = dict(sessions)
        for session in self._sessions.values():
            use_fast_lookup_parser(session)
        self._watches = watches
        self._endpoint_url = endpoint_url
        self._pool = pool
        self._owned = clients is None
        self._clients = clients if clients is not None else AwsClients()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owned:
            await self._clients.aclose()

    async def warm(self, keys: Iterable[tuple[str, str]]) -> None:
        """Resolve every account's credentials (an sts:AssumeRole per role) and open a client per
        (account, region), all at once, so that no region's first call waits on its set-up."""

        async def credentials(session: aioboto3.Session) -> None:
            try:
                found = await session.get_credentials()  # aioboto3: botocore's, a coroutine
                if found is not None:
                    await found.get_frozen_credentials()
            except Exception as error:  # the region's first call reports it, classified
                log.debug("credentials_deferred", reason=type(error).__name__)

        async def client(account_id: str, region: str) -> None:
            with contextlib.suppress(SourceError):  # the first call reports it as a failure
                await self._client(account_id, region)

        async with anyio.create_task_group() as group:
            for session in self._sessions.values():
                group.start_soon(credentials, session)
        async with anyio.create_task_group() as group:
            for account_id, region in dict.fromkeys(keys):
                group.start_soon(client, account_id, region)

    async def _client(self, account_id: str, region: str) -> Any:
        session = self._sessions.get(account_id)
        if session is None:
            raise SourceError("fatal", f"no session for account {account_id}")
        return await self._clients.client(
            session, "cloudtrail", region, self._endpoint_url, self._pool
        )

    async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage:
        params: dict[str, Any] = {
            "StartTime": bounds.start,
            "EndTime": bounds.end,
            "MaxResults": PAGE_SIZE,
        }
        attribute = lookup_attribute(stream.name)
        if attribute is not None:
            params["LookupAttributes"] = [
                {"AttributeKey": attribute[0], "AttributeValue": attribute[1]}
            ]
        if token:
            params["NextToken"] = token
        try:
            client = await self._client(stream.account_id, stream.region)
            answer = await client.lookup_events(**params)
        except SourceError:
            raise
        except Exception as error:  # every client failure is classified, none escapes raw
            raise classify(error) from None
        return parse_page(answer, self._watches)
