"""Properties of the pairing engine: any order and any duplication give the same result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.catalog import load_catalog
from scanner.lifecycle import Actor, Change, Fact, ResourceKey
from scanner.pairing import extract, leftovers, merge, pair
from scanner.records import Record
from tests.pairing.builders import (
    T0,
    create_db,
    db_state,
    delete_db,
    rename_db,
    run_instances,
    start,
    stop,
    terminate,
)

CATALOG = load_catalog()

KEYS = [
    ResourceKey("111111111111", "us-east-1", "ec2.instance", "i-1"),
    ResourceKey("111111111111", "us-east-1", "ec2.instance", "i-2"),
    ResourceKey("222222222222", "eu-west-1", "rds.db_instance", "db"),
]

# Few values on purpose: ties in time and event id must happen often.
facts = st.builds(
    Fact,
    key=st.sampled_from(KEYS),
    change=st.sampled_from(list(Change)),
    time=st.integers(0, 4).map(lambda m: T0 + timedelta(minutes=m)),
    event_id=st.sampled_from(["e1", "e2"]),
    event_name=st.sampled_from(["RunInstances", "Other"]),
    actor=st.builds(Actor, user_name=st.sampled_from(["alice", "bob", None])),
    state=st.sampled_from([None, "stopped", "running"]),
    name=st.sampled_from([None, "web"]),
    attributes=st.sampled_from([(), (("instance_type", "t3.micro"),)]),
    renamed_from=st.sampled_from([None, KEYS[2]]),
)


T = TypeVar("T")


@st.composite
def shuffled_with_duplicates(draw: st.DrawFn, items: list[T]) -> list[T]:
    extra = draw(st.lists(st.sampled_from(items), max_size=len(items))) if items else []
    return draw(st.permutations(items + extra))


@settings(max_examples=300)
@given(st.data(), st.lists(facts, max_size=12))
def test_pair_is_the_same_for_any_order_and_duplication(
    data: st.DataObject, items: list[Fact]
) -> None:
    other = data.draw(shuffled_with_duplicates(list(items)))
    assert pair(other) == pair(items)
    assert leftovers(pair(other)) == leftovers(pair(items))


@given(facts, facts)
def test_merge_is_commutative(a: Fact, b: Fact) -> None:
    b = replace(b, key=a.key)
    assert merge(merge(None, a), b) == merge(merge(None, b), a)


@given(facts, facts, facts)
def test_merge_is_associative(a: Fact, b: Fact, c: Fact) -> None:
    def same_key(fact: Fact) -> Fact:
        return replace(fact, key=a.key)

    b, c = same_key(b), same_key(c)
    left = merge(merge(merge(None, a), b), c)
    right_inner = merge(merge(None, b), c)
    # fold right_inner's chosen facts into a: the join of a with (b join c)
    right = merge(None, a)
    for fact in (right_inner.created, right_inner.deleted, right_inner.state_change):
        if fact is not None:
            right = merge(right, fact)
    assert left == right


@given(st.lists(facts, min_size=1, max_size=8))
def test_merge_is_idempotent(items: list[Fact]) -> None:
    lifecycles = pair(items)
    for fact in items:
        assert merge(lifecycles[fact.key], fact) == lifecycles[fact.key]


# Records: histories over a few instances and databases, with renames, stops and failures.
def _record(kind: str, minute: int, target: str, user: str, fail: bool) -> Record:
    kw: dict[str, Any] = {"user": user, **({"error": "AccessDenied"} if fail else {})}
    instance, db, other_db = f"i-{target}", f"db-{target}", f"db-{'b' if target == 'a' else 'a'}"
    makers: dict[str, Callable[[], Record]] = {
        "run": lambda: run_instances(minute, instance, f"{instance}x", **kw),
        "terminate": lambda: terminate(minute, instance, **kw),
        "stop": lambda: stop(minute, instance, **kw),
        "start": lambda: start(minute, instance, **kw),
        "create_db": lambda: create_db(minute, db.upper() if minute % 2 else db, **kw),
        "delete_db": lambda: delete_db(minute, db, **kw),
        "stop_db": lambda: db_state(minute, db, "StopDBInstance", **kw),
        "rename_db": lambda: rename_db(minute, db, other_db, **kw),
    }
    return makers[kind]()


records = st.builds(
    _record,
    kind=st.sampled_from(
        ["run", "terminate", "stop", "start", "create_db", "delete_db", "stop_db", "rename_db"]
    ),
    minute=st.integers(0, 6),
    target=st.sampled_from(["a", "b"]),
    user=st.sampled_from(["alice", "bob"]),
    fail=st.booleans(),
)


def left_over(items: list[Record]) -> list[tuple[object, ...]]:
    lifecycles = pair(fact for record in items for fact in extract(record, CATALOG))
    return [(lc.key, lc.creation, lc.state_change, lc.deleted) for lc in leftovers(lifecycles)]


@settings(max_examples=300)
@given(st.data(), st.lists(records, max_size=10))
def test_records_in_any_order_and_duplication_leave_the_same_leftovers(
    data: st.DataObject, items: list[Record]
) -> None:
    other = data.draw(shuffled_with_duplicates(list(items)))
    assert left_over(other) == left_over(items)
