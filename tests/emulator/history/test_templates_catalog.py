"""The meta-test of the generator's templates: every catalog type has one, and every record it
writes goes through the real catalog extraction to the id the generator's truth expects."""

from __future__ import annotations

import random
from importlib import resources
from typing import Any

import pytest
import yaml

from emulator.history.actors import account_cast
from emulator.history.envelope import Call, Recorder
from emulator.history.scenarios import DEFAULT_STATES
from emulator.history.templates import network
from emulator.history.templates_catalog import Kind, kinds
from scanner.catalog import load_catalog
from scanner.pairing import extract
from scanner.records import record_from_body
from tests.catalog.shapes import PathChecker

CATALOG = load_catalog()
ACCOUNT = "123456789012"
Fact3 = tuple[str, str, str, str | None]


def test_every_catalog_type_has_exactly_one_template() -> None:
    described = set(kinds()) | set(DEFAULT_STATES)
    assert described == set(CATALOG.types)
    assert not set(kinds()) & set(DEFAULT_STATES), "a type described twice"


def _call() -> Call:
    rng = random.Random("templates")
    rec = Recorder(rng, ACCOUNT, "eu-west-1", 1_700_000_000, 1_700_900_000)
    actor = account_cast(random.Random("cast"), ACCOUNT).humans[0]
    return Call(rec, 1_700_000_100, actor, network(rec))


def _facts(body: dict[str, Any]) -> set[Fact3]:
    record = record_from_body(body)
    assert record is not None
    return {
        (fact.key.resource_type, fact.key.resource_id, fact.change.value, fact.state)
        for fact in extract(record, CATALOG)
    }


def _parents(body: dict[str, Any]) -> set[str | None]:
    record = record_from_body(body)
    assert record is not None
    return {fact.created_via for fact in extract(record, CATALOG)}


@pytest.mark.parametrize("kind", kinds().values(), ids=list(kinds()))
def test_each_template_gives_its_truth_through_the_catalog(kind: Kind) -> None:
    call = _call()
    name = f"orders-{kind.name.split('.')[1].replace('_', '-')}-7"
    rid = kind.new_id(call.rec, name)
    rtype = kind.name
    region = "us-east-1" if kind.is_global else call.rec.region
    assert kind.state == CATALOG.types[rtype].default_state
    parent = kind.new_parent(call.rec, name)
    create = kind.record(call, kind.create, rid, name, parent=parent)
    assert create["awsRegion"] == region
    assert _facts(create) == {(rtype, rid, "create", None)}
    assert _parents(create) == {parent or None}, "created_via as the truth says"
    assert _facts(kind.record(call, kind.delete, rid, name)) == {(rtype, rid, "delete", None)}
    failed = kind.record(call, kind.create, rid, name, error=("AccessDenied", "denied"))
    assert failed["responseElements"] is None
    assert _facts(failed) == set()
    for part in kind.states:
        assert _facts(kind.record(call, part, rid, name)) == {(rtype, rid, "state", part.sets)}
    if kind.rename is not None:
        new = kind.new_id(call.rec, f"{name}-renamed")
        facts = _facts(kind.record(call, kind.rename, rid, name, new=new))
        assert {(fact[1], fact[2]) for fact in facts} == {(rid, "delete"), (new, "create")}


def _paths(value: Any, path: str) -> list[str]:
    """JMESPath paths of every leaf (`[]` for lists), keys quoted."""
    if isinstance(value, dict) and value:
        return [
            p
            for key, inner in value.items()
            # EC2's `<set>.item` is a list even when it holds one item as an object
            for p in _paths(inner, f'{path}."{key}"' + ("[]" if key == "item" else ""))
        ]
    if isinstance(value, list) and value:
        return _paths(value[0], f"{path}[]")
    return [path]


def _model_only_parts() -> list[tuple[str, str, str, Any]]:
    """(type, event, root, body) of every part built from botocore's shapes, not a record."""
    text = resources.files("emulator.history").joinpath("templates_catalog.yaml").read_text()
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    parts = []
    for name, entry in data.items():
        for part in [
            entry["create"],
            entry["delete"],
            entry.get("rename"),
            *entry.get("states", []),
        ]:
            if part and part.get("model_only"):
                for root in ("requestParameters", "responseElements"):
                    body = part.get("request" if root == "requestParameters" else "response")
                    if body:
                        parts.append((name, part["event"], root, body))
    return parts


@pytest.mark.parametrize(("rtype", "event", "root", "body"), _model_only_parts())
def test_model_only_templates_follow_botocores_shapes(
    rtype: str, event: str, root: str, body: Any
) -> None:
    """A template part with no real record behind it names only members of the operation's
    input or output shape, in the casing CloudTrail logs for the service's protocol."""
    resource_type = CATALOG.types[rtype]
    rule = next(rule for rule in resource_type.rules if rule.event_name == event)
    checker = PathChecker(rule.api or resource_type.api, event)
    for path in _paths(body, root):
        if checker.protocol == "ec2" and (path.endswith('"tag"') or path.endswith('"requestId"')):
            continue  # EC2's list index of {tag, content} items and its request id, as logged
        checker.check(path)
    assert checker.problems == []
