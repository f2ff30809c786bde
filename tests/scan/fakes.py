"""Fakes for scan tests: a virtual timer that jumps when everything waits, and a fake Source."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ParamSpec, TypeVar

import anyio
import anyio.lowlevel

from scanner.lifecycle import Change, Fact, ResourceKey
from scanner.plan import PAGE_SIZE, Slice, StreamId, lookup_attribute
from scanner.records import Record
from scanner.sources import SourceError, SourcePage

P = ParamSpec("P")
T = TypeVar("T")


class VirtualTimer:
    """Time that passes only when every task waits on it: then it jumps to the next deadline.

    Use `async with timer.running():` around the code under test. Deterministic and instant.
    """

    def __init__(self) -> None:
        self._now = 0.0
        self._heap: list[tuple[float, int, anyio.Event]] = []
        self._ids = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._heap, (self._now + seconds, next(self._ids), event))
        await event.wait()

    async def _drive(self) -> None:
        while True:
            for _ in range(30):
                await anyio.lowlevel.checkpoint()
            while self._heap and self._heap[0][2].is_set():
                heapq.heappop(self._heap)
            if self._heap:
                deadline, _, event = heapq.heappop(self._heap)
                self._now = max(self._now, deadline)
                event.set()

    async def run(
        self, coroutine_function: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `await coroutine_function(*args, **kwargs)` with the timer driven."""
        result: list[T] = []
        async with anyio.create_task_group() as group:
            group.start_soon(self._drive)
            result.append(await coroutine_function(*args, **kwargs))
            group.cancel_scope.cancel()
        return result[0]


def record(  # noqa: PLR0917 -- a test record reads best as one positional line
    event_id: str,
    when: datetime,
    name: str,
    resource: str,
    account: str = "111111111111",
    region: str = "us-east-1",
    source: str = "test.amazonaws.com",
) -> Record:
    body = {
        "eventID": event_id,
        "eventName": name,
        "eventSource": source,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "awsRegion": region,
        "recipientAccountId": account,
        "requestParameters": {"id": resource},
        "readOnly": False,
    }
    return Record(event_id, name, source, when, region, account, None, False, body)


WATCHED = {"CreateThing": Change.CREATE, "DeleteThing": Change.DELETE}


def watches(source: str, name: str) -> bool:
    del source
    return name in WATCHED


def extract(item: Record) -> list[Fact]:
    change = WATCHED.get(item.event_name)
    if change is None:
        return []
    key = ResourceKey(
        item.account_id, item.region, "test.thing", item.body["requestParameters"]["id"]
    )
    return [Fact(key, change, item.event_time, item.event_id, item.event_name)]


@dataclass
class FakeSource:
    """LookupEvents over in-memory records, newest first, tokens bound to their parameters.

    `fail_regions`: every call there fails (fatal); `throttle_every`: every n-th call is
    throttled; `transient_every`: every n-th call fails with a 5xx; `break_after`: a stream's
    chain dies (fatal) after that many successful pages; `latency`: virtual seconds per call.
    """

    records: Sequence[Record]
    timer: VirtualTimer | None = None
    latency: float = 0.0
    fail_regions: frozenset[str] = frozenset()
    throttle_every: int = 0
    transient_every: int = 0
    break_after: dict[str, int] = field(default_factory=dict)
    time_sliced: bool = True
    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    call_log: list[tuple[StreamId, Slice, str | None]] = field(default_factory=list)
    pages_by_stream: dict[str, int] = field(default_factory=dict)

    def _matching(self, stream: StreamId, window: Slice) -> list[Record]:
        attribute = lookup_attribute(stream.name)
        found = [
            r
            for r in self.records
            if r.account_id == stream.account_id
            and r.region == stream.region
            and window.start <= r.event_time <= window.end
            and (
                attribute is None
                or (attribute[0] == "ReadOnly")
                or (attribute[0] == "EventName" and r.event_name == attribute[1])
            )
        ]
        found.sort(key=lambda r: (r.event_time, r.event_id), reverse=True)
        return found

    async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage:
        self.calls += 1
        number = self.calls
        self.call_log.append((stream, bounds, token))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.timer is not None and self.latency:
                await self.timer.sleep(self.latency)
            if stream.region in self.fail_regions:
                raise SourceError("fatal", f"region {stream.region} is down")
            if self.throttle_every and number % self.throttle_every == 0:
                raise SourceError("throttled", "ThrottlingException: Rate exceeded")
            if self.transient_every and number % self.transient_every == 0:
                raise SourceError("transient", "HTTP 503 ServiceUnavailable")
            limit = self.break_after.get(stream.name)
            if limit is not None and self.pages_by_stream.get(stream.name, 0) >= limit:
                raise SourceError("fatal", "chain broken on purpose")
            offset = 0
            if token is not None:
                bound, _, text = token.rpartition("|")
                if bound != f"{stream}{bounds}":
                    raise SourceError("invalid_token", "InvalidNextTokenException")
                offset = int(text)
            matching = self._matching(stream, bounds)
            page = matching[offset : offset + PAGE_SIZE]
            self.pages_by_stream[stream.name] = self.pages_by_stream.get(stream.name, 0) + 1
            more = offset + PAGE_SIZE < len(matching)
            return SourcePage(
                records=tuple(r for r in page if watches(r.event_source, r.event_name)),
                events_read=len(page),
                oldest=min((r.event_time for r in page), default=None),
                next_token=f"{stream}{bounds}|{offset + PAGE_SIZE}" if more else None,
            )
        finally:
            self.in_flight -= 1


def keys_alive(facts: Iterable[Fact]) -> set[ResourceKey]:
    created = {f.key for f in facts if f.change is Change.CREATE}
    deleted = {f.key for f in facts if f.change is Change.DELETE}
    return created - deleted
