"""Generator record templates have only the keys of the real samples they are modelled on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from emulator import GeneratorSpec, generate
from emulator.history.scenarios import DEFAULT_STATES
from scanner.catalog import load_catalog
from scanner.lifecycle import TAG_TYPE_SUFFIX
from scanner.pairing import extract
from scanner.records import read_file, record_from_body
from tests.samples import samples_dir

SPEC = GeneratorSpec(now=datetime(2025, 6, 1, 12, 0, tzinfo=UTC))

# The real record each template is modelled on: (eventSource, eventName) -> sample files,
# relative to tests/data/cloudtrail. Templates without a sample (StopDBInstance,
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


CATALOG = load_catalog()


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return list(generate(SPEC))


def _dicts(
    value: object, path: tuple[object, ...] = ()
) -> Iterator[tuple[tuple[object, ...], Any]]:
    if isinstance(value, dict):
        yield path, value
        for key, inner in value.items():
            yield from _dicts(inner, (*path, key))
    elif isinstance(value, list) and value:
        yield from _dicts(value[0], (*path, 0))


def _of_the_twelve(body: dict[str, Any]) -> bool:
    """Whether a record is one of the hand-written templates' (classic ELB, DocumentDB and
    Neptune share their event names; templates_catalog.yaml describes those)."""
    record = record_from_body(body)
    assert record is not None
    twelve = {*DEFAULT_STATES, "autoscaling.group", "logs.log_group"}  # and the stories' own
    return all(  # a tag's own lifecycle belongs to its resource's type
        fact.key.resource_type.removesuffix(TAG_TYPE_SUFFIX) in twelve
        for fact in extract(record, CATALOG)
    )


def _sample_bodies(source: str, name: str, files: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        dict(record.body)
        for file in files
        for record in read_file(samples_dir() / file)
        if record.event_source == source and record.event_name == name and not record.failed
    ]


@pytest.mark.parametrize(("source", "name"), sorted(TEMPLATE_SAMPLES))
def test_template_keys_match_the_real_sample(
    records: list[dict[str, Any]], source: str, name: str
) -> None:
    ours = [
        r
        for r in records
        if r["eventSource"] == source
        and r["eventName"] == name
        and not r.get("errorCode")
        and _of_the_twelve(r)
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
