"""Facts and lifecycles to and from their stored JSON and time text, and back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scanner.lifecycle import Actor, Change, Fact, Lifecycle, ResourceKey
from scanner.store import fact_from_dict, fact_to_dict
from scanner.store.codec import time_text
from tests.store.builders import KEY, T0, fact, lifecycle_blob, lifecycle_of


def test_fact_round_trips_through_json() -> None:
    original = fact("e1", Change.STATE, 3, state="stopped")
    assert fact_from_dict(fact_to_dict(original)) == original


def test_facts_and_lifecycles_encode_as_their_dicts() -> None:
    from datetime import timezone

    import orjson

    from scanner.store.codec import fact_json

    other = ResourceKey(KEY.account_id, KEY.region, "rds.db_instance", "db-2")
    renamed = Fact(
        key=other,
        change=Change.CREATE,
        time=T0 + timedelta(seconds=1, microseconds=250),
        event_id="e9",
        event_name="ModifyDBInstance",
        actor=Actor(arn=None, user_name="bob", source_ip="10.0.0.1", user_agent="ua"),
        name="db-2",
        arn="arn:aws:rds:eu-west-1:111111111111:db:db-2",
        attributes=(("engine", "postgres"), ("size", "db.t3.micro")),
        renamed_from=ResourceKey(KEY.account_id, KEY.region, "rds.db_instance", "db-1"),
    )
    elsewhere = fact("e8", Change.STATE, 2, state="stopped")
    elsewhere = replace(elsewhere, time=elsewhere.time.astimezone(timezone(timedelta(hours=2))))
    for one in (fact("e1"), fact("e2", Change.STATE, 3, state="x"), renamed, elsewhere):
        assert fact_json(one) == orjson.dumps(fact_to_dict(one))
        assert fact_from_dict(orjson.loads(fact_json(one))) == one
    lifecycle = Lifecycle(key=KEY, created=fact("e1"), state_change=elsewhere)
    assert lifecycle_of(lifecycle_blob(lifecycle)) == lifecycle


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(2000, 1, 1),
            max_value=datetime(2100, 1, 1),
            timezones=st.sampled_from([UTC]),
        ),
        min_size=2,
    )
)
def test_stored_time_text_sorts_as_the_times_do(times: list[datetime]) -> None:
    """The write path compares held facts by their stored time text (whole seconds have no
    fraction, "+" sorts before "."): it must order exactly as the times themselves."""

    whole = [t.replace(microsecond=0) for t in times]
    everything = times + whole
    assert sorted(everything, key=time_text) == sorted(everything)
