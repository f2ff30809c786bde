"""The demo history generator: determinism, coverage, and the records themselves against the
catalog's types and the ground truth."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from emulator import GeneratorSpec, generate
from emulator.history.generator import GroundTruth, ground_truth
from emulator.history.scenarios import DEFAULT_STATES, GLOBAL_TYPES, RESOURCE_TYPES
from emulator.history.templates_catalog import kinds
from scanner.catalog import load_catalog
from scanner.pairing import extract
from scanner.records import record_from_body

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SPEC = GeneratorSpec(now=NOW)
CATALOG = load_catalog()


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return list(generate(SPEC))


@pytest.fixture(scope="module")
def truth() -> GroundTruth:
    return ground_truth(SPEC)


def _creates(records: list[dict[str, Any]]) -> Counter[str]:
    """Successful creates per catalog type, read from the records with the samples' id paths."""
    names = {
        "RunInstances": "ec2.instance",
        "CreateVolume": "ec2.volume",
        "CreateSnapshot": "ec2.snapshot",
        "AllocateAddress": "ec2.elastic_ip",
        "CreateNatGateway": "ec2.nat_gateway",
        "CreateDBInstance": "rds.db_instance",
        "CreateDBCluster": "rds.db_cluster",
        "CreateLoadBalancer": "elbv2.load_balancer",
        "CreateBucket": "s3.bucket",
        "CreateFileSystem": "efs.file_system",
        "CreateHostedZone": "route53.hosted_zone",
    }
    found: Counter[str] = Counter()
    for record in records:
        if record.get("errorCode"):
            continue
        name = record["eventName"]
        if name == "CreateCluster" and record["eventSource"] == "eks.amazonaws.com":
            found["eks.cluster"] += 1
        elif name in names:
            found[names[name]] += 1
    return found


# determinism ------------------------------------------------------------------------------
def test_same_spec_gives_identical_records_and_truth(records: list[dict[str, Any]]) -> None:
    again = list(generate(SPEC))
    assert orjson.dumps(again) == orjson.dumps(records)
    assert ground_truth(SPEC) == ground_truth(SPEC)


def test_different_seed_gives_a_different_history(records: list[dict[str, Any]]) -> None:
    other = GeneratorSpec(seed=2, now=NOW)
    other_records = list(generate(other))
    assert {r["eventID"] for r in other_records}.isdisjoint({r["eventID"] for r in records})
    assert ground_truth(other).keys() != ground_truth(SPEC).keys()


def test_account_ids_are_twelve_digits_from_the_seed(records: list[dict[str, Any]]) -> None:
    accounts = {r["recipientAccountId"] for r in records}
    assert len(accounts) == SPEC.accounts
    assert all(re.fullmatch(r"\d{12}", a) for a in accounts)
    assert accounts != {r["recipientAccountId"] for r in generate(GeneratorSpec(seed=9, now=NOW))}


# coverage ---------------------------------------------------------------------------------
def test_every_type_is_created_and_left_over(
    records: list[dict[str, Any]], truth: GroundTruth
) -> None:
    created = _creates(records)
    left = Counter(item.resource_type for item in truth.leftovers)
    assert {item.resource_type for item in truth.leftovers} == set(RESOURCE_TYPES)
    for rtype in DEFAULT_STATES:
        assert created[rtype] > 0, rtype
        assert left[rtype] > 0, rtype
        assert left[rtype] < created[rtype] or rtype == "route53.hosted_zone", rtype


def test_a_minority_is_left_over(truth: GroundTruth) -> None:
    share = len(truth.leftovers) / truth.stats.created
    # the tour leaves one of two of the twelve and one of three of the others, the fill one in six
    assert 0.15 <= share <= 0.45
    assert truth.stats.deleted + len(truth.leftovers) == truth.stats.created


def test_leftover_states_follow_stops_and_starts(truth: GroundTruth) -> None:
    states = {(i.resource_type, i.state) for i in truth.leftovers}
    assert ("ec2.instance", "running") in states
    assert ("ec2.instance", "stopped") in states
    assert ("rds.db_instance", "stopped") in states or ("rds.db_cluster", "stopped") in states
    allowed = {
        "ec2.instance": {"running", "stopped"},
        "rds.db_instance": {"available", "stopped"},
        "rds.db_cluster": {"available", "stopped"},
        "ec2.elastic_ip": {"allocated"},
        "elbv2.load_balancer": {"active"},
        "eks.cluster": {"active"},
    }
    for name, kind in kinds().items():
        allowed[name] = {kind.state, *(part.sets for part in kind.states if part.sets)}
    for item in truth.leftovers:
        assert item.state in allowed.get(item.resource_type, {"available"}), item


def test_failures_and_dry_runs_are_present(records: list[dict[str, Any]]) -> None:
    failed = [r for r in records if r.get("errorCode")]
    codes = {(r["eventName"], r["errorCode"]) for r in failed}
    assert ("RunInstances", "Client.UnauthorizedOperation") in codes
    assert ("RunInstances", "Client.DryRunOperation") in codes
    assert ("DeleteDBInstance", "InvalidDBInstanceState") in codes
    assert ("DeleteBucket", "BucketNotEmpty") in codes
    assert ("TerminateInstances", "Client.UnauthorizedOperation") in codes
    for record in failed:
        assert record["errorMessage"]
        assert record["responseElements"] is None


def test_a_failed_delete_leaves_the_resource_alive(
    records: list[dict[str, Any]], truth: GroundTruth
) -> None:
    left = truth.keys()
    refused = [
        r
        for r in records
        if r["eventName"] == "DeleteBucket" and r.get("errorCode") == "BucketNotEmpty"
    ]
    deleted = {
        (r["recipientAccountId"], r["requestParameters"]["bucketName"])
        for r in records
        if r["eventName"] == "DeleteBucket" and not r.get("errorCode")
    }
    outcomes = set()
    for record in refused:
        key = (record["recipientAccountId"], record["awsRegion"], "s3.bucket")
        name = record["requestParameters"]["bucketName"]
        alive = (*key, name) in left
        assert alive != ((record["recipientAccountId"], name) in deleted)
        outcomes.add(alive)
    assert outcomes == {True, False}


def test_multi_instance_launches_and_service_callers(records: list[dict[str, Any]]) -> None:
    launches = [r for r in records if r["eventName"] == "RunInstances" and not r.get("errorCode")]
    counts = {len(r["responseElements"]["instancesSet"]["items"]) for r in launches}
    assert counts & {2, 3, 4}
    for record in launches:
        item = record["requestParameters"]["instancesSet"]["items"][0]
        assert (
            item["minCount"]
            == item["maxCount"]
            == len(record["responseElements"]["instancesSet"]["items"])
        )
    by = {r["userIdentity"].get("invokedBy") for r in records if not r["readOnly"]}
    assert {"cloudformation.amazonaws.com", "autoscaling.amazonaws.com"} <= by
    asg = [r for r in records if r["userIdentity"].get("invokedBy") == "autoscaling.amazonaws.com"]
    assert {r["eventName"] for r in asg} == {"RunInstances", "TerminateInstances"}
    for record in asg:
        assert "AWSServiceRoleForAutoScaling" in record["userIdentity"]["arn"]
        assert record["userAgent"] == record["sourceIPAddress"] == "autoscaling.amazonaws.com"
    cfn = [
        r for r in records if r["userIdentity"].get("invokedBy") == "cloudformation.amazonaws.com"
    ]
    assert all(r["userIdentity"]["type"] == "AssumedRole" for r in cfn)
    assert all(r["userAgent"] == "cloudformation.amazonaws.com" for r in cfn)


def test_renames_leave_the_new_id(records: list[dict[str, Any]], truth: GroundTruth) -> None:
    renames = [r for r in records if r["eventName"] == "ModifyDBInstance"]
    assert renames
    renamed = [
        i for i in truth.leftovers if i.renamed_from and i.resource_type == "rds.db_instance"
    ]
    assert renamed
    new_ids = {r["requestParameters"]["newDBInstanceIdentifier"].lower() for r in renames}
    old_ids = {r["responseElements"]["dBInstanceIdentifier"] for r in renames}
    for item in renamed:
        assert item.resource_id in new_ids
        assert item.resource_id not in old_ids or item.resource_id in new_ids
        assert set(item.renamed_from) <= old_ids
    assert any(r["requestParameters"]["applyImmediately"] for r in renames)


def test_clusters_are_renamed_too(records: list[dict[str, Any]], truth: GroundTruth) -> None:
    renames = {
        r["requestParameters"]["dBClusterIdentifier"].lower(): r["requestParameters"][
            "newDBClusterIdentifier"
        ]
        for r in records
        if r["eventName"] == "ModifyDBCluster"
    }
    renamed = [i for i in truth.leftovers if i.renamed_from and i.resource_type == "rds.db_cluster"]
    assert renamed
    for item in renamed:
        assert renames[item.renamed_from[-1]] == item.resource_id


def test_identifiers_need_normalising(records: list[dict[str, Any]]) -> None:
    rds = [r for r in records if r["eventName"] == "CreateDBInstance" and not r.get("errorCode")]
    mixed = [
        r
        for r in rds
        if r["requestParameters"]["dBInstanceIdentifier"]
        != r["responseElements"]["dBInstanceIdentifier"]
    ]
    assert mixed
    for record in rds:
        typed = record["requestParameters"]["dBInstanceIdentifier"]
        assert record["responseElements"]["dBInstanceIdentifier"] == typed.lower()
    by_arn = [
        r
        for r in records
        if r["eventName"] == "DeleteDBCluster"
        and r["requestParameters"]["dBClusterIdentifier"].startswith("arn:aws:rds:")
    ]
    assert by_arn
    zones = [r for r in records if r["eventName"] == "CreateHostedZone"]
    assert all(r["responseElements"]["hostedZone"]["id"].startswith("/hostedzone/Z") for r in zones)
    deletes = [r for r in records if r["eventName"] == "DeleteHostedZone"]
    assert deletes
    assert all(not r["requestParameters"]["id"].startswith("/") for r in deletes)
    elb = [
        r
        for r in records
        if r["eventName"] == "DeleteLoadBalancer"
        and "loadBalancerName" not in r["requestParameters"]
    ]
    assert all(r["requestParameters"]["loadBalancerArn"].startswith("arn:aws:") for r in elb)


def test_names_are_recreated_after_deletion(
    truth: GroundTruth, records: list[dict[str, Any]]
) -> None:
    for event, field, rtype in (
        ("CreateBucket", "bucketName", "s3.bucket"),
        ("CreateDBInstance", "dBInstanceIdentifier", "rds.db_instance"),
    ):
        seen = Counter(
            (r["recipientAccountId"], r["requestParameters"][field].lower())
            for r in records
            if r["eventName"] == event and not r.get("errorCode")
        )
        again = {key for key, count in seen.items() if count > 1}
        assert again, event
        left = {(i.account_id, i.resource_id) for i in truth.leftovers if i.resource_type == rtype}
        assert again & left, event


def test_route53_only_in_us_east_1(records: list[dict[str, Any]], truth: GroundTruth) -> None:
    regions = {r["awsRegion"] for r in records if r["eventSource"] == "route53.amazonaws.com"}
    assert regions == {"us-east-1"}
    assert {i.region for i in truth.leftovers if i.resource_type in GLOBAL_TYPES} == {"us-east-1"}
    west = list(generate(GeneratorSpec(regions=("eu-west-1",), accounts=1, now=NOW)))
    assert not any(r["eventSource"] in ("route53.amazonaws.com", "iam.amazonaws.com") for r in west)


def test_non_catalog_writes_are_present(records: list[dict[str, Any]]) -> None:
    names = {r["eventName"] for r in records if not r["readOnly"] and not r.get("errorCode")}
    assert {"CreateTags", "AuthorizeSecurityGroupIngress", "PutBucketPolicy", "CreateLogGroup"} <= (
        names
    )


# the records themselves ---------------------------------------------------------------------
def test_records_parse_with_unique_ids_in_the_window(records: list[dict[str, Any]]) -> None:
    start = NOW - timedelta(days=SPEC.days)
    ids = set()
    for body in records:
        record = record_from_body(body)
        assert record is not None
        assert start <= record.event_time <= NOW
        assert body["eventTime"].endswith("Z")
        assert body["eventType"] == "AwsApiCall"
        assert body["managementEvent"] is True
        assert isinstance(body["readOnly"], bool)
        assert body["requestID"]
        assert body["userIdentity"]["accountId"] == body["recipientAccountId"]
        session = body["userIdentity"].get("sessionContext", {}).get("attributes", {})
        assert session.get("creationDate", "") <= body["eventTime"]
        ids.add(record.event_id)
    assert len(ids) == len(records)


def test_reads_outnumber_writes_as_asked(records: list[dict[str, Any]], truth: GroundTruth) -> None:
    reads = sum(1 for r in records if r["readOnly"])
    writes = len(records) - reads
    assert reads / writes == pytest.approx(SPEC.noise, rel=0.01)
    assert truth.stats.read_only == reads
    assert truth.stats.records == len(records)
    services = {r["eventSource"] for r in records if r["readOnly"]}
    assert {"ec2.amazonaws.com", "s3.amazonaws.com", "sts.amazonaws.com", "iam.amazonaws.com"} <= (
        services
    )


def test_several_kinds_of_caller(records: list[dict[str, Any]]) -> None:
    account = records[0]["recipientAccountId"]
    mine = [r for r in records if r["recipientAccountId"] == account]
    kinds = {r["userIdentity"]["type"] for r in mine}
    assert {"IAMUser", "AssumedRole", "Root"} <= kinds
    agents = " ".join({r["userAgent"] for r in mine})
    for client in ("console.ec2.amazonaws.com", "aws-cli/", "Terraform/", "Boto3/"):
        assert client in agents
    assert all(
        r["userIdentity"]["accessKeyId"] for r in mine if r["userIdentity"]["type"] != "Root"
    )


def test_truth_matches_the_records(records: list[dict[str, Any]], truth: GroundTruth) -> None:
    by_id = {r["eventID"]: r for r in records}
    for item in truth.leftovers:
        create = by_id[item.create_event_id]
        assert create["recipientAccountId"] == item.account_id
        assert create["awsRegion"] == item.region
        assert create["userIdentity"]["arn"] == item.created_by_arn
        assert create["eventTime"] == item.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        record = record_from_body(create)
        assert record is not None
        made = {
            (f.key.resource_type, f.key.resource_id, f.change.value)
            for f in extract(record, CATALOG)
        }
        assert (
            item.resource_type,
            item.renamed_from[0] if item.renamed_from else item.resource_id,
            "create",
        ) in made
