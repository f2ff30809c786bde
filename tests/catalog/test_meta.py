"""Meta-tests over every catalog entry: expressions compile, events exist in botocore's model,
the paths name real request/response members, and console URLs format."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jmespath
import pytest
import yaml
from botocore.loaders import Loader

from scanner.catalog import DEFAULT_PATH, load_catalog
from scanner.lifecycle import ResourceKey

CATALOG = load_catalog()
RAW: dict[str, Any] = yaml.safe_load(DEFAULT_PATH.read_text())

#: The types every part of the project names: catalog, demo generator's ground truth, reports.
EXPECTED_TYPES = {
    "ec2.instance": ("ec2", "running"),
    "ec2.volume": ("ec2", "available"),
    "ec2.snapshot": ("ec2", "available"),
    "ec2.elastic_ip": ("ec2", "allocated"),
    "ec2.nat_gateway": ("ec2", "available"),
    "rds.db_instance": ("rds", "available"),
    "rds.db_cluster": ("rds", "available"),
    "elbv2.load_balancer": ("elasticloadbalancing", "active"),
    "s3.bucket": ("s3", "available"),
    "efs.file_system": ("efs", "available"),
    "eks.cluster": ("eks", "active"),
    "route53.hosted_zone": ("route53", "available"),
}

#: eventSource -> botocore service name.
BOTOCORE_SERVICE = {
    "ec2.amazonaws.com": "ec2",
    "rds.amazonaws.com": "rds",
    "elasticloadbalancing.amazonaws.com": "elbv2",
    "s3.amazonaws.com": "s3",
    "elasticfilesystem.amazonaws.com": "efs",
    "eks.amazonaws.com": "eks",
    "route53.amazonaws.com": "route53",
}

#: Event names CloudTrail logs that are not operation names in botocore (none yet; Lambda's
#: `CreateFunction20150331` would go here).
KNOWN_ALIASES: dict[tuple[str, str], str] = {}

#: CloudTrail fields with no same-named member in botocore's model (EC2 logs its legacy query
#: names; S3 logs the bucket as `bucketName`). Each is confirmed on a real sample instead.
FIELD_EXCEPTIONS = {
    ("ec2", "instancesSet"),  # request InstanceIds, logged as instancesSet.items[].instanceId
    ("ec2", "zone"),  # CreateVolume's AvailabilityZone, in request and response
    ("s3", "bucketName"),  # Bucket
}

RULES = [
    (type_name, index, rule)
    for type_name, entry in RAW["types"].items()
    for index, rule in enumerate(entry["rules"])
]
RULE_IDS = [f"{type_name}:{rule['event']}" for type_name, _, rule in RULES]
EXPRESSION_FIELDS = ("id", "items", "new_id", "name", "arn", "record_name")


def expressions(rule: dict[str, Any]) -> list[str]:
    texts = [rule[field] for field in EXPRESSION_FIELDS if rule.get(field)]
    texts += list(rule.get("attributes", {}).values())
    texts += list(rule.get("record_attributes", {}).values())
    return texts


@cache
def service_model(service: str) -> dict[str, Any]:
    model: dict[str, Any] = Loader().load_service_model(service, "service-2")
    return model


def member_names(model: dict[str, Any], shape_name: str | None, depth: int) -> set[str]:
    """Lower-cased member names and locationNames of a shape, and of its structure members."""
    if shape_name is None:
        return set()
    shape = model["shapes"][shape_name]
    names: set[str] = set()
    for name, member in shape.get("members", {}).items():
        names.add(name.lower())
        if "locationName" in member:
            names.add(member["locationName"].lower())
        if depth > 0 and model["shapes"][member["shape"]].get("type") == "structure":
            names |= member_names(model, member["shape"], depth - 1)
    return names


def test_every_type_of_the_common_table_is_there() -> None:
    assert {name: (t.service, t.default_state) for name, t in CATALOG.types.items()} == (
        EXPECTED_TYPES
    )
    assert CATALOG.types["route53.hosted_zone"].is_global
    assert not any(
        t.is_global for name, t in CATALOG.types.items() if name != "route53.hosted_zone"
    )


@pytest.mark.parametrize(("type_name", "index", "rule"), RULES, ids=RULE_IDS)
def test_every_expression_compiles(type_name: str, index: int, rule: dict[str, Any]) -> None:
    texts = expressions(rule)
    assert texts, f"{type_name} rule {index} has no expression"
    for text in texts:
        jmespath.compile(text)


@pytest.mark.parametrize(("type_name", "index", "rule"), RULES, ids=RULE_IDS)
def test_every_event_is_an_operation_of_its_service(
    type_name: str, index: int, rule: dict[str, Any]
) -> None:
    del index
    source = RAW["types"][type_name]["event_source"]
    service = BOTOCORE_SERVICE[source]
    model = service_model(service)
    assert f"{model['metadata']['endpointPrefix']}.amazonaws.com" == source
    operation = KNOWN_ALIASES.get((source, rule["event"]), rule["event"])
    assert operation in model["operations"], f"{rule['event']} is not a {service} operation"


@pytest.mark.parametrize(("type_name", "index", "rule"), RULES, ids=RULE_IDS)
def test_paths_name_members_of_the_model(type_name: str, index: int, rule: dict[str, Any]) -> None:
    """`requestParameters.X` / `responseElements.X` name a member of the operation's input /
    output (CloudTrail writes members in lowerCamelCase; newer EC2 APIs wrap them as
    `<Op>Request.<Member>` / `<Op>Response.<member>`)."""
    del index
    service = BOTOCORE_SERVICE[RAW["types"][type_name]["event_source"]]
    model = service_model(service)
    operation = model["operations"][rule["event"]]
    shapes = {
        "requestParameters": operation.get("input", {}).get("shape"),
        "responseElements": operation.get("output", {}).get("shape"),
    }
    checked = 0
    for text in expressions(rule):
        for part, first, second in re.findall(
            r"(requestParameters|responseElements)\.(\w+)(?:\.(\w+))?", text
        ):
            field = first
            if first in (f"{rule['event']}Request", f"{rule['event']}Response"):
                field = second
            checked += 1
            if (service, field) in FIELD_EXCEPTIONS:
                continue
            known = member_names(model, shapes[part], depth=1)
            assert field.lower() in known or field.lower().removesuffix("set") in known, (
                f"{rule['event']}: {part}.{field} is not in botocore's {shapes[part]}"
            )
            checked += 1
    assert checked or rule.get("items"), "no path was checked"


@pytest.mark.parametrize("type_name", sorted(CATALOG.types))
def test_console_urls_format(type_name: str) -> None:
    resource_type = CATALOG.types[type_name]
    key = ResourceKey("123456789012", "eu-west-1", type_name, "the-id")
    url = resource_type.console_url(key, arn=None, name=None)
    assert url.startswith("https://")
    assert "the-id" in url
    assert "{" not in url
    assert "eu-west-1" in url or resource_type.is_global


def test_rule_lookup_is_keyed_on_source_and_name() -> None:
    assert CATALOG.watches("eks.amazonaws.com", "CreateCluster")
    assert not CATALOG.watches("redshift.amazonaws.com", "CreateCluster")
    assert not CATALOG.watches("ecs.amazonaws.com", "CreateCluster")
    assert not CATALOG.watches("s3express.amazonaws.com", "CreateBucket")
    assert CATALOG.rules_for("iam.amazonaws.com", "CreateUser") == ()
    assert [r.resource_type for r in CATALOG.rules_for("ec2.amazonaws.com", "RunInstances")] == [
        "ec2.instance"
    ]


def test_event_names_split_global_from_regional() -> None:
    regional = CATALOG.event_names_in(region_is_global_home=False)
    everything = CATALOG.event_names_in(region_is_global_home=True)
    assert everything == CATALOG.event_names
    assert "CreateHostedZone" in everything
    assert "CreateHostedZone" not in regional
    assert "DeleteHostedZone" not in regional
    assert {"RunInstances", "TerminateInstances", "CreateBucket", "ModifyDBInstance"} <= regional
    assert CATALOG.is_global_home("us-east-1")
    assert not CATALOG.is_global_home("eu-west-1")
    assert {name for _, name in CATALOG.events} == CATALOG.event_names
