"""created_via travels from the record to the stored fact and to the leftover's JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from scanner.catalog import load_catalog
from scanner.pairing import extract, pair
from scanner.report import leftover_of
from scanner.store.codec import fact_from_dict, fact_json
from tests.samples import sample_records

CATALOG = load_catalog()
GROUP = "aws-spotlight/backend/cloudtrail/test/services/autoscaling/datas/"


def test_created_via_is_stored_and_reported() -> None:
    (record,) = sample_records(GROUP + "AUTOSCALING_CreateAutoScalingGroup.json")
    (fact,) = extract(record, CATALOG)
    assert fact.created_via is not None
    assert fact.created_via.startswith("cloudformation.stack/arn:aws:cloudformation:")
    assert fact_from_dict(orjson.loads(fact_json(fact))) == fact
    (lifecycle,) = pair([fact]).values()
    item = leftover_of(lifecycle, CATALOG)
    assert item is not None
    assert item.to_json(datetime(2026, 1, 1, tzinfo=UTC))["created_via"] == fact.created_via


def test_a_fact_stored_before_created_via_reads_back_without_it() -> None:
    (record,) = sample_records(GROUP + "AUTOSCALING_DeleteAutoScalingGroup.json")
    (fact,) = extract(record, CATALOG)
    stored = orjson.loads(fact_json(fact))
    del stored["created_via"]
    assert fact_from_dict(stored) == fact
