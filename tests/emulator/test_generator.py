"""The demo history generator: determinism, coverage, record shapes, layout and ground truth."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from scanner.emulator.generator import (
    GeneratorSpec,
    GroundTruth,
    generate,
    ground_truth,
    original_script_case,
    parse_spec,
    write_history,
)
from scanner.emulator.scenarios import RESOURCE_TYPES
from scanner.errors import InputError
from scanner.records import ReadStats, read_file, read_paths, record_files, record_from_body

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SPEC = GeneratorSpec(now=NOW)
_ROOT = Path(__file__).resolve().parents[2]
# ../shared beside the repository; a git worktree one level deeper finds it one level up.
SAMPLES = next(
    (
        base / "shared" / "cloudtrail-samples"
        for base in (_ROOT / "..", _ROOT / ".." / "..")
        if (base / "shared" / "cloudtrail-samples").is_dir()
    ),
    _ROOT / ".." / "shared" / "cloudtrail-samples",
)

# The real record each template is modelled on: (eventSource, eventName) -> sample files,
# relative to ../shared/cloudtrail-samples. Templates without a sample (StopDBInstance,
# StopDBCluster, StartDBCluster, EC2 CreateTags, most reads) are not listed.
TEMPLATE_SAMPLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("ec2.amazonaws.com", "RunInstances"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_RunInstances.json",
        "panther-analysis/cloudtrail_test_logs.jsonl",
    ),
    ("ec2.amazonaws.com", "StopInstances"): (
        "awsdocs/aws-cloudtrail-user-guide/cloudtrail-log-file-examples.json",
        "panther-analysis/cloudtrail_test_logs.jsonl",
    ),
    ("ec2.amazonaws.com", "StartInstances"): (
        "stratus-red-team/detonation-logs/aws.execution.ec2-user-data.json",
    ),
    ("ec2.amazonaws.com", "TerminateInstances"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_TerminateInstances.json",
        "panther-analysis/cloudtrail_test_logs.jsonl",
    ),
    ("ec2.amazonaws.com", "CreateVolume"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_CreateVolume.json",
    ),
    ("ec2.amazonaws.com", "DeleteVolume"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_DeleteVolume.json",
    ),
    ("ec2.amazonaws.com", "CreateSnapshot"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_CreateSnapshot.json",
    ),
    ("ec2.amazonaws.com", "DeleteSnapshot"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_DeleteSnapshot.json",
    ),
    ("ec2.amazonaws.com", "AllocateAddress"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_AllocateAddress.json",
    ),
    ("ec2.amazonaws.com", "ReleaseAddress"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_ReleaseAddress.json",
    ),
    ("ec2.amazonaws.com", "CreateNatGateway"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_CreateNatGateway.json",
    ),
    ("ec2.amazonaws.com", "DeleteNatGateway"): (
        "aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_DeleteNatGateway.json",
    ),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"): (
        "stratus-red-team/detonation-logs/aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
    ),
    ("rds.amazonaws.com", "CreateDBInstance"): (
        "aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_CreateDBInstance.json",
    ),
    ("rds.amazonaws.com", "DeleteDBInstance"): (
        "aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_DeleteDBInstance.json",
    ),
    ("rds.amazonaws.com", "ModifyDBInstance"): (
        "aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_ModifyDBInstance.json",
    ),
    ("rds.amazonaws.com", "StartDBInstance"): ("panther-analysis/cloudtrail_test_logs.jsonl",),
    ("rds.amazonaws.com", "CreateDBCluster"): (
        "aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_CreateDBCluster.json",
    ),
    ("rds.amazonaws.com", "DeleteDBCluster"): (
        "aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_DeleteDBCluster.json",
    ),
    ("elasticloadbalancing.amazonaws.com", "CreateLoadBalancer"): (
        "awsdocs/elb-application-load-balancers-user-guide/load-balancer-cloudtrail-logs.json",
        "aws-spotlight/archive/backend/src/cloudtrail/test/datas/create/elb/"
        "ELASTICLOADBALANCING_CreateLoadBalancer.json",
    ),
    ("elasticloadbalancing.amazonaws.com", "DeleteLoadBalancer"): (
        "aws-spotlight/archive/backend/src/cloudtrail/test/datas/delete/elb/"
        "ELASTICLOADBALANCING_DeleteLoadBalancer.json",
    ),
    ("s3.amazonaws.com", "CreateBucket"): (
        "aws-spotlight/backend/cloudtrail/test/services/s3/datas/S3_CreateBucket.json",
    ),
    ("s3.amazonaws.com", "DeleteBucket"): (
        "aws-spotlight/backend/cloudtrail/test/services/s3/datas/S3_DeleteBucket.json",
    ),
    ("s3.amazonaws.com", "PutBucketPolicy"): ("panther-analysis/cloudtrail_test_logs.jsonl",),
    ("elasticfilesystem.amazonaws.com", "CreateFileSystem"): (
        "aws-spotlight/backend/cloudtrail/test/services/efs/datas/"
        "ELASTICFILESYSTEM_CreateFileSystem.json",
        "aws-spotlight/backend/cloudtrail/test/services/efs/datas/"
        "ELASTICFILESYSTEM_CreateFileSystemForSagemaker.json",
    ),
    ("elasticfilesystem.amazonaws.com", "DeleteFileSystem"): (
        "aws-spotlight/backend/cloudtrail/test/services/efs/datas/"
        "ELASTICFILESYSTEM_DeleteFileSystem.json",
    ),
    ("eks.amazonaws.com", "CreateCluster"): (
        "aws-spotlight/backend/cloudtrail/test/services/eks/datas/EKS_CreateCluster.json",
    ),
    ("eks.amazonaws.com", "DeleteCluster"): (
        "aws-spotlight/backend/cloudtrail/test/services/eks/datas/EKS_DeleteCluster.json",
    ),
    ("route53.amazonaws.com", "CreateHostedZone"): (
        "aws-spotlight/backend/cloudtrail/test/services/route53/datas/ROUTE53_CreateHostedZone.json",
    ),
    ("route53.amazonaws.com", "DeleteHostedZone"): (
        "aws-spotlight/backend/cloudtrail/test/services/route53/datas/ROUTE53_DeleteHostedZone.json",
    ),
    ("logs.amazonaws.com", "CreateLogGroup"): (
        "aws-spotlight/archive/backend/src/cloudtrail/test/datas/create/LOGS_CreateLogGroup.json",
    ),
    ("cloudformation.amazonaws.com", "CreateStack"): (
        "aws-spotlight/backend/cloudtrail/test/services/cloudformation/datas/"
        "CLOUDFORMATION_CreateStack.json",
    ),
    ("cloudformation.amazonaws.com", "DeleteStack"): (
        "aws-spotlight/backend/cloudtrail/test/services/cloudformation/datas/"
        "CLOUDFORMATION_DeleteStack.json",
    ),
    ("autoscaling.amazonaws.com", "CreateAutoScalingGroup"): (
        "aws-spotlight/backend/cloudtrail/test/services/autoscaling/datas/"
        "AUTOSCALING_CreateAutoScalingGroup.json",
    ),
    ("autoscaling.amazonaws.com", "DeleteAutoScalingGroup"): (
        "aws-spotlight/backend/cloudtrail/test/services/autoscaling/datas/"
        "AUTOSCALING_DeleteAutoScalingGroup.json",
    ),
    ("ec2.amazonaws.com", "DescribeInstances"): (
        "stratus-red-team/detonation-logs/aws.execution.ec2-user-data.json",
    ),
    ("ec2.amazonaws.com", "DescribeSecurityGroups"): (
        "panther-analysis/cloudtrail_test_logs.jsonl",
    ),
    ("s3.amazonaws.com", "ListBuckets"): (
        "awsdocs/amazon-s3-userguide/cloudtrail-logging-understanding-s3-entries.json",
    ),
    ("s3.amazonaws.com", "GetBucketAcl"): ("panther-analysis/cloudtrail_test_logs.jsonl",),
    ("s3.amazonaws.com", "GetBucketPolicy"): ("panther-analysis/cloudtrail_test_logs.jsonl",),
    ("route53.amazonaws.com", "ListHostedZones"): (
        "awsdocs/amazon-route53-docs/logging-using-cloudtrail.json",
    ),
}


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
    for rtype in RESOURCE_TYPES:
        assert created[rtype] > 0, rtype
        assert left[rtype] > 0, rtype
        assert left[rtype] < created[rtype] or rtype == "route53.hosted_zone", rtype


def test_a_minority_is_left_over(truth: GroundTruth) -> None:
    share = len(truth.leftovers) / truth.stats.created
    assert 0.15 <= share <= 0.35
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
    renamed = [i for i in truth.leftovers if i.renamed_from]
    assert renamed
    new_ids = {r["requestParameters"]["newDBInstanceIdentifier"].lower() for r in renames}
    old_ids = {r["responseElements"]["dBInstanceIdentifier"] for r in renames}
    for item in renamed:
        assert item.resource_id in new_ids
        assert item.resource_id not in old_ids or item.resource_id in new_ids
        assert set(item.renamed_from) <= old_ids
    assert any(r["requestParameters"]["applyImmediately"] for r in renames)


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
    elb = [r for r in records if r["eventName"] == "DeleteLoadBalancer"]
    assert all(r["requestParameters"]["loadBalancerArn"].startswith("arn:aws:") for r in elb)


def test_names_are_recreated_after_deletion(truth: GroundTruth, records: list[dict]) -> None:
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
    assert {i.region for i in truth.leftovers if i.resource_type.startswith("route53")} == {
        "us-east-1"
    }
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
        assert create["eventName"].startswith(("Run", "Create", "Allocate"))


# shapes against the real samples ------------------------------------------------------------
def _dicts(
    value: object, path: tuple[object, ...] = ()
) -> Iterator[tuple[tuple[object, ...], Any]]:
    if isinstance(value, dict):
        yield path, value
        for key, inner in value.items():
            yield from _dicts(inner, (*path, key))
    elif isinstance(value, list) and value:
        yield from _dicts(value[0], (*path, 0))


def _sample_bodies(source: str, name: str, files: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        dict(record.body)
        for file in files
        for record in read_file(SAMPLES / file)
        if record.event_source == source and record.event_name == name and not record.failed
    ]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/cloudtrail-samples is not present")
@pytest.mark.parametrize(("source", "name"), sorted(TEMPLATE_SAMPLES))
def test_template_keys_match_the_real_sample(
    records: list[dict[str, Any]], source: str, name: str
) -> None:
    ours = [
        r
        for r in records
        if r["eventSource"] == source and r["eventName"] == name and not r.get("errorCode")
    ]
    assert ours, f"the default history has no {name}"
    samples = _sample_bodies(source, name, TEMPLATE_SAMPLES[source, name])
    assert samples, f"no sample of {name} in {TEMPLATE_SAMPLES[source, name]}"
    for part in ("requestParameters", "responseElements"):
        known: dict[tuple[object, ...], set[str]] = {}
        shown = [sample for sample in samples if part in sample]  # hand-minimised ones omit it
        for sample in shown:
            for path, value in _dicts(sample[part]):
                known.setdefault(path, set()).update(value)
        for record in ours if shown else []:
            if all(sample[part] is None for sample in shown):
                assert record[part] is None, f"{name}.{part} is null in the samples"
                continue
            for path, value in _dicts(record[part]):
                if path in known:
                    extra = set(value) - known[path]
                    assert not extra, f"{name}.{part}{list(path)}: keys not in the sample {extra}"


# files ---------------------------------------------------------------------------------------
def test_write_history_layout_round_trips(tmp_path: Path) -> None:
    spec = GeneratorSpec(
        accounts=2, regions=("us-east-1", "eu-west-1"), resources=45, days=2, noise=2, now=NOW
    )
    truth = write_history(spec, tmp_path)
    assert truth == ground_truth(spec)
    pattern = re.compile(
        r"AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/"
        r"\1_CloudTrail_\2_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz"
    )
    files = record_files([tmp_path / "AWSLogs"])
    assert len(files) > 10
    for file in files:
        match = pattern.fullmatch(file.relative_to(tmp_path).as_posix())
        assert match, file
        year, month, day, stamp = match.group(3, 4, 5, 6)
        assert stamp.startswith(f"{year}{month}{day}T")
        document = orjson.loads(gzip.decompress(file.read_bytes()))
        assert set(document) == {"Records"}
        account, region = match.group(1, 2)
        times = []
        for body in document["Records"]:
            assert body["recipientAccountId"] == account
            assert body["awsRegion"] == region
            times.append(body["eventTime"])
        begin = datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        assert all(begin <= datetime.fromisoformat(t) < begin + timedelta(minutes=5) for t in times)
    stats = ReadStats()
    from_files = sorted(r.event_id for r in read_paths([tmp_path / "AWSLogs"], stats))
    assert stats.skipped == 0
    assert from_files == sorted(r["eventID"] for r in generate(spec))
    assert GroundTruth.read(tmp_path / "truth.json") == truth


def test_truth_json_round_trip(tmp_path: Path, truth: GroundTruth) -> None:
    path = tmp_path / "truth.json"
    truth.write(path)
    assert GroundTruth.read(path) == truth
    assert GroundTruth.from_json(orjson.loads(orjson.dumps(truth.to_json()))) == truth
    data = truth.to_json()
    data["leftovers"][0]["resource_id"] = ""
    with pytest.raises(InputError, match="resource_id"):
        GroundTruth.from_json(data)
    path.write_text("{not json")
    with pytest.raises(InputError, match=r"truth\.json"):
        GroundTruth.read(path)


# spec ----------------------------------------------------------------------------------------
def test_parse_spec_reads_every_key() -> None:
    spec = parse_spec(
        "accounts=2,regions=us-east-1,eu-west-1,ap-south-1,seed=7,days=30,resources=200,"
        "noise=4.5,now=2025-01-02T03:04:00Z"
    )
    assert spec.accounts == 2
    assert spec.regions == ("us-east-1", "eu-west-1", "ap-south-1")
    assert (spec.seed, spec.days, spec.resources, spec.noise) == (7, 30, 200, 4.5)
    assert spec.now == datetime(2025, 1, 2, 3, 4, tzinfo=UTC)
    assert parse_spec(spec.text()) == spec
    assert parse_spec("") == GeneratorSpec()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("acounts=3", "acounts"),
        ("accounts=three", "accounts"),
        ("accounts=0", "accounts"),
        ("regions=us-east-1,moon-1", "regions"),
        ("seed=1,2", "seed"),
        ("noise=-1", "noise"),
        ("days=1000", "days"),
        ("now=yesterday", "now"),
        ("accounts=1,accounts=2", "accounts"),
    ],
)
def test_parse_spec_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(InputError, match=repr(key)):
        parse_spec(text)


def test_small_specs_still_work() -> None:
    spec = GeneratorSpec(accounts=1, regions=("eu-west-1",), resources=5, noise=0, now=NOW)
    records = list(generate(spec))
    assert records
    assert not any(r["readOnly"] for r in records)
    assert ground_truth(spec).stats.created >= 5
    empty = GeneratorSpec(accounts=1, regions=("eu-west-1",), resources=0, now=NOW)
    assert list(generate(empty)) == []


def test_history_ends_now_when_unpinned() -> None:
    spec = GeneratorSpec(accounts=1, regions=("us-east-1",), resources=3, days=1, noise=1)
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    truth = ground_truth(spec)
    assert before <= truth.window_end <= datetime.now(UTC)
    for body in generate(spec):
        assert datetime.fromisoformat(body["eventTime"]) <= datetime.now(UTC)


# the original script's case --------------------------------------------------------------------
def test_original_script_case() -> None:
    records, truth = original_script_case(NOW)
    assert all(r["awsRegion"] == "us-east-1" for r in records)
    assert len({r["userIdentity"]["arn"] for r in records}) == 1
    launches = [r for r in records if r["eventName"] == "RunInstances"]
    launched = [
        i["instanceId"] for r in launches for i in r["responseElements"]["instancesSet"]["items"]
    ]
    assert len(launched) == 3
    assert all(
        i["instanceType"] == "t2.micro"
        for r in launches
        for i in r["responseElements"]["instancesSet"]["items"]
    )
    terminated = [
        i["instanceId"]
        for r in records
        if r["eventName"] == "TerminateInstances"
        for i in r["requestParameters"]["instancesSet"]["items"]
    ]
    assert len(terminated) == 1
    db = [r for r in records if r["eventName"] == "CreateDBInstance"]
    assert len(db) == 1
    assert db[0]["requestParameters"]["dBInstanceClass"] == "db.r5.large"
    left = sorted((i.resource_type, i.resource_id) for i in truth.leftovers)
    expected = sorted(
        [("ec2.instance", i) for i in launched if i not in terminated]
        + [("rds.db_instance", "database-1-instance-1")]
    )
    assert left == expected
    assert all(NOW - timedelta(hours=2) <= i.created_at <= NOW for i in truth.leftovers)
    assert records == sorted(records, key=lambda r: r["eventTime"])
    assert original_script_case(NOW)[0] == records
