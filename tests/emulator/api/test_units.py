"""The emulator's parts on their own: tokens, latency grammar, rate buckets, the paging index."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.api.clock import ManualClock
from emulator.api.index import History, Query
from emulator.api.latency import MAX_LATENCY, Distribution, parse_latency
from emulator.api.limits import RateLimiter
from emulator.api.tokens import InvalidTokenError, TokenCodec
from scanner.records import format_time, record_from_body

BASE = datetime(2026, 10, 1, tzinfo=UTC)


def test_tokens_open_only_with_the_same_binding() -> None:
    codec = TokenCodec(b"k" * 32)
    token = codec.issue(b"params", (-1234.5, 42))
    assert codec.open(token, b"params") == (-1234.5, 42)
    with pytest.raises(InvalidTokenError):
        codec.open(token, b"other params")
    with pytest.raises(InvalidTokenError):
        TokenCodec(b"x" * 32).open(token, b"params")
    for garbage in ("", "%%%", token[:-4], token + "AAAA"):
        with pytest.raises(InvalidTokenError):
            codec.open(garbage, b"params")


def test_latency_grammar() -> None:
    model = parse_latency("0.2:0.35,us-east-1=1.8:1.0")
    assert model.default == Distribution(0.2, 0.35)
    assert model.regions == {"us-east-1": Distribution(1.8, 1.0)}
    assert parse_latency("off").off
    rng = random.Random(1)
    draws = [model.draw("us-east-1", rng) for _ in range(2000)]
    assert all(0 < d <= MAX_LATENCY for d in draws)
    assert sum(draws) / len(draws) > sum(model.draw("eu-west-1", rng) for _ in range(2000)) / 2000
    with pytest.raises(ValueError, match="latency entry"):
        parse_latency("fast")
    with pytest.raises(ValueError, match="'moon' is not a region"):
        parse_latency("0.2,moon=1")


def test_rate_limiter_refills_with_the_clock_and_time_scale() -> None:
    clock = ManualClock(BASE)
    limiter = RateLimiter(clock, rate=2.0, time_scale=10.0)
    key = ("111111111111", "us-east-1")
    assert sum(limiter.allow(key) for _ in range(50)) == 20
    clock.advance(0.1)
    assert sum(limiter.allow(key) for _ in range(50)) == 2
    assert limiter.allow(("111111111111", "eu-west-1"))


def _record(i: int, seconds: int, name: str, account: str = "111111111111") -> dict[str, Any]:
    return {
        "eventID": f"id-{i:05d}",
        "eventName": name,
        "eventSource": "ec2.amazonaws.com",
        "awsRegion": "us-east-1",
        "recipientAccountId": account,
        "eventTime": format_time(BASE + timedelta(seconds=seconds)),
        "readOnly": name.startswith("Describe"),
        "userIdentity": {"type": "IAMUser", "userName": "u", "accessKeyId": "AKIA1"},
    }


EVENTS = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from(["RunInstances", "DescribeInstances"])),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(
    first=EVENTS,
    later=EVENTS,
    page_size=st.integers(1, 7),
    name=st.sampled_from([None, "RunInstances"]),
    window=st.tuples(st.integers(0, 40), st.integers(0, 40)),
)
def test_pages_concatenate_to_the_filtered_history_newest_first(
    first: list[tuple[int, str]],
    later: list[tuple[int, str]],
    page_size: int,
    name: str | None,
    window: tuple[int, int],
) -> None:
    history = History()
    bodies = [_record(i, s, n) for i, (s, n) in enumerate(first + later)]
    records = [record_from_body(body) for body in bodies]
    history.add(r for r in records[: len(first)] if r is not None)
    history.page("111111111111", "us-east-1", Query(), None, 1)  # build, then append more
    history.add(r for r in records[len(first) :] if r is not None)
    start, end = BASE + timedelta(seconds=min(window)), BASE + timedelta(seconds=max(window))
    query = Query(("EventName", name) if name else None, start.timestamp(), end.timestamp())
    served: list[bytes] = []
    cursor = None
    while True:
        page = history.page("111111111111", "us-east-1", query, cursor, page_size)
        assert len(page.items) <= page_size
        served.extend(page.items)
        if page.cursor is None:
            break
        cursor = page.cursor
    expected = [
        body
        for body in bodies
        if (name is None or body["eventName"] == name)
        and start <= datetime.fromisoformat(body["eventTime"]) <= end
    ]
    served_ids = [item.split(b'"EventId":"')[1].split(b'"')[0].decode() for item in served]
    assert sorted(served_ids) == sorted(body["eventID"] for body in expected)
    times = {body["eventID"]: body["eventTime"] for body in bodies}
    served_times = [times[event_id] for event_id in served_ids]
    assert served_times == sorted(served_times, reverse=True)
