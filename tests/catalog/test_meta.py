"""Meta-tests over every catalog rule: its event is an operation of its API in botocore's model,
its paths name members of that operation's input and output shapes with CloudTrail's casing, and
every type is complete (console URL, price, display attributes)."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest
import yaml

from scanner.catalog import catalog_files, load_catalog
from scanner.lifecycle import ResourceKey
from tests.catalog.shapes import ROOT, PathChecker, service_model

CATALOG = load_catalog()
RAW: dict[str, dict[str, Any]] = {
    name: entry
    for path in catalog_files()
    for name, entry in yaml.safe_load(path.read_text())["types"].items()
}

#: Event names CloudTrail logs that are not operation names in botocore: (source, name) -> op.
KNOWN_ALIASES = {
    ("lambda.amazonaws.com", "CreateFunction20150331"): "CreateFunction",
    ("lambda.amazonaws.com", "DeleteFunction20150331"): "DeleteFunction",
}

#: Types whose events are recorded in us-east-1 whatever region the call named.
GLOBAL_TYPES = {"route53.hosted_zone", "route53.health_check", "cloudfront.distribution"}

RULES = [
    (type_name, index, rule)
    for type_name, entry in RAW.items()
    for index, rule in enumerate(entry["rules"])
]
RULE_IDS = [f"{type_name}:{rule['event']}" for type_name, _, rule in RULES]
RECORD_FIELDS = ("id", "new_id", "when", "record_name")
ITEM_FIELDS = ("id", "name", "arn")


def api_of(type_name: str, rule: dict[str, Any]) -> str:
    return str(rule.get("api") or RAW[type_name]["api"])


def operation_of(type_name: str, rule: dict[str, Any]) -> str:
    return str(KNOWN_ALIASES.get((RAW[type_name]["event_source"], rule["event"]), rule["event"]))


def test_at_least_120_types() -> None:
    assert len(CATALOG.types) >= 120
    assert len(CATALOG.types) == len(RAW)


def test_global_types() -> None:
    assert {name for name, t in CATALOG.types.items() if t.is_global} == GLOBAL_TYPES


@pytest.mark.parametrize(("type_name", "index", "rule"), RULES, ids=RULE_IDS)
def test_every_event_is_an_operation_of_its_api(
    type_name: str, index: int, rule: dict[str, Any]
) -> None:
    del index
    model = service_model(api_of(type_name, rule))
    operation = operation_of(type_name, rule)
    assert operation in model.operation_names, f"{operation} is not in botocore's {model}"
    assert not operation.startswith(("Describe", "Get", "List")), "a read-only call"


@pytest.mark.parametrize(("type_name", "index", "rule"), RULES, ids=RULE_IDS)
def test_paths_name_members_of_the_operation_shapes(
    type_name: str, index: int, rule: dict[str, Any]
) -> None:
    """`requestParameters.X...` walks the input shape, `responseElements.X...` the output
    shape, member by member, in CloudTrail's casing for the protocol (see tests/catalog/shapes)."""
    del index
    checker = PathChecker(api_of(type_name, rule), operation_of(type_name, rule))
    item = ROOT
    if rule.get("items"):
        item = checker.element(checker.check(rule["items"]))
    for field in RECORD_FIELDS:
        if rule.get(field) and not (field == "id" and rule.get("items")):
            checker.check(rule[field])
    for field in ITEM_FIELDS:
        if rule.get(field) and rule.get("items"):
            checker.check(rule[field], item)
    for text in rule.get("attributes", {}).values():
        checker.check(text, item)
    for group in ("record_attributes", "created_via"):
        for text in rule.get(group, {}).values():
            checker.check(text)
    if rule.get("name") and not rule.get("items"):
        checker.check(rule["name"])
    if rule.get("arn") and not rule.get("items"):
        checker.check(rule["arn"])
    assert checker.problems == []
    assert checker.checked or rule["id"] == "recipientAccountId", "no member was checked"


def expressions(rule: dict[str, Any]) -> list[str]:
    """Every JMESPath text of a rule."""
    fields = ("id", "items", "new_id", "name", "arn", "record_name", "when")
    texts = [rule[field] for field in fields if rule.get(field)]
    for group in ("attributes", "record_attributes", "created_via"):
        texts += list(rule.get(group, {}).values())
    return texts


@pytest.mark.parametrize(("type_name", "index", "rule"), RULES, ids=RULE_IDS)
def test_every_expression_compiles(type_name: str, index: int, rule: dict[str, Any]) -> None:
    del type_name, index
    for text in expressions(rule):
        jmespath.compile(text)


@pytest.mark.parametrize("type_name", sorted(CATALOG.types))
def test_every_type_is_complete(type_name: str) -> None:
    resource_type = CATALOG.types[type_name]
    key = ResourceKey("123456789012", "eu-west-1", type_name, "the-id")
    url = resource_type.console_url(key, arn="the-id", name="the-id")
    assert url.startswith("https://")
    assert "the-id" in url or not any(
        field in resource_type.console_url_template for field in ("{id}", "{arn}", "{name}")
    )
    assert "{" not in url
    assert resource_type.price is not None
    assert resource_type.price.describe()
    kinds = {rule.kind for rule in resource_type.rules}
    assert "create" in kinds or "rename" in kinds
    assert "delete" in kinds
    produced = {name for entry in RAW[type_name]["rules"] for name in entry.get("attributes", {})}
    assert set(resource_type.display) <= produced | {"name"}, "a display attribute no rule sets"


def test_rule_lookup_is_keyed_on_source_and_name() -> None:
    assert [r.resource_type for r in CATALOG.rules_for("eks.amazonaws.com", "CreateCluster")] == [
        "eks.cluster"
    ]
    assert [
        r.resource_type for r in CATALOG.rules_for("redshift.amazonaws.com", "CreateCluster")
    ] == ["redshift.cluster"]
    assert not CATALOG.watches("ecs.amazonaws.com", "CreateCluster")
    express = CATALOG.rules_for("s3express.amazonaws.com", "CreateBucket")
    assert [r.resource_type for r in express] == ["s3express.directory_bucket"]
    assert {
        r.resource_type
        for r in CATALOG.rules_for("elasticloadbalancing.amazonaws.com", "CreateLoadBalancer")
    } == {"elbv2.load_balancer", "elb.classic_load_balancer"}
    assert CATALOG.rules_for("iam.amazonaws.com", "CreateUser") == ()
    assert [r.resource_type for r in CATALOG.rules_for("ec2.amazonaws.com", "RunInstances")] == [
        "ec2.instance"
    ]


def test_event_names_split_global_from_regional() -> None:
    regional = CATALOG.event_names_in(region_is_global_home=False)
    everything = CATALOG.event_names_in(region_is_global_home=True)
    assert everything == CATALOG.event_names
    assert {"CreateHostedZone", "CreateHealthCheck", "CreateDistributionWithTags"} <= everything
    assert not {"CreateHostedZone", "DeleteHostedZone", "CreateHealthCheck"} & regional
    assert "CreateDistribution" in regional  # Lightsail's, while CloudFront's is global
    assert {"RunInstances", "TerminateInstances", "CreateBucket", "ModifyDBInstance"} <= regional
    assert CATALOG.is_global_home("us-east-1")
    assert not CATALOG.is_global_home("eu-west-1")
    assert {name for _, name in CATALOG.events} == CATALOG.event_names
