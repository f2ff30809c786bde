"""Proof on real records: every vendored record of a watched event gives exactly the facts
tests/catalog/proofs.yaml states; a rule is labelled `real record` exactly when one of them
proves it; failed calls, dry runs and read-only calls give nothing, for every type."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.catalog import REAL_RECORD, load_catalog
from scanner.pairing import extract
from scanner.records import Record, read_file, record_files
from tests.samples import SAMPLES

CATALOG = load_catalog()
PROOFS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("proofs.yaml")).read_text(encoding="utf-8")
)
Fact3 = tuple[str, str, str]


@cache
def vendored() -> tuple[tuple[str, Record], ...]:
    """Every vendored record, with its file relative to tests/data/cloudtrail."""
    return tuple(
        (path.relative_to(SAMPLES).as_posix(), record)
        for path in record_files([SAMPLES])
        for record in read_file(path)
    )


def is_negative(record: Record) -> bool:
    """A call that changed nothing: failed, a dry run, or read-only."""
    body = record.body
    parameters = body.get("requestParameters")
    dry_run = isinstance(parameters, dict) and any(
        parameters.get(key) in (True, "true") for key in ("dryRun", "DryRun")
    )
    return record.failed or dry_run or body.get("readOnly") in (True, "true")


def facts_of(records: list[Record]) -> set[Fact3]:
    return {
        (fact.key.resource_type, fact.key.resource_id, fact.change.value)
        for record in records
        for fact in extract(record, CATALOG)
    }


@pytest.mark.parametrize("proof", PROOFS, ids=[f"{p['event']}@{p['file']}" for p in PROOFS])
def test_each_real_record_gives_the_stated_facts(proof: dict[str, Any]) -> None:
    records = [
        record
        for file, record in vendored()
        if file == proof["file"]
        and (record.event_source, record.event_name) == (proof["source"], proof["event"])
        and not record.failed
    ]
    assert records, f"{proof['file']} holds no successful {proof['event']}"
    assert facts_of(records) == {tuple(fact) for fact in proof["facts"]}


def test_proofs_cover_every_vendored_record_of_a_watched_event() -> None:
    """A new sample of a watched event, or a new rule on an event with samples, needs a proof."""
    watched = {
        (file, record.event_source, record.event_name)
        for file, record in vendored()
        if CATALOG.watches(record.event_source, record.event_name) and not record.failed
    }
    assert watched == {(p["file"], p["source"], p["event"]) for p in PROOFS}


def test_rules_labelled_real_record_are_exactly_the_proven_ones() -> None:
    proven = {(fact[0].removesuffix("#tag"), p["event"]) for p in PROOFS for fact in p["facts"]}
    labelled = {
        (rule.resource_type, rule.event_name)
        for resource_type in CATALOG.types.values()
        for rule in resource_type.rules
        if rule.proof == REAL_RECORD
    }
    assert labelled == proven


def test_negative_records_give_nothing_for_every_type() -> None:
    negative = [record for _, record in vendored() if is_negative(record)]
    watched = [r for r in negative if CATALOG.watches(r.event_source, r.event_name)]
    assert len(negative) > 300
    assert {r.error_code for r in watched} >= {
        "Client.UnauthorizedOperation",
        "Client.DryRunOperation",
        "AccessDenied",
    }
    assert facts_of(negative) == set()


def test_pairs_found_in_the_samples_match() -> None:
    """The same resource's create and delete, in different real files, meet on one key."""
    created = {(f[0], f[1]) for p in PROOFS for f in p["facts"] if f[2] == "create"}
    deleted = {(f[0], f[1]) for p in PROOFS for f in p["facts"] if f[2] == "delete"}
    paired = {type_name for type_name, _ in created & deleted}
    assert len(paired) >= 45
    assert {
        "ec2.instance",
        "rds.db_instance",
        "elasticache.cache_cluster",
        "redshift.cluster",
        "opensearch.domain",
        "kms.key",
        "ds.directory",
        "network_firewall.firewall",
    } <= paired
