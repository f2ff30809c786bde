"""A rule is right when it works on a real record: every rule with a real sample, checked on it."""

from __future__ import annotations

import pytest

from scanner.catalog import load_catalog
from scanner.lifecycle import Change
from scanner.pairing import extract
from scanner.records import read_paths
from tests.samples import sample_records, samples_dir

CATALOG = load_catalog()
C, D, S = Change.CREATE, Change.DELETE, Change.STATE

SPOT = "aws-spotlight/backend/cloudtrail/test/services"
SPOT_ARCHIVE = "aws-spotlight/archive/backend/src/cloudtrail/test/datas"
PANTHER = "panther-analysis/cloudtrail_test_logs.jsonl"
NLB = (
    "arn:aws:elasticloadbalancing:ap-northeast-1:999999999999:loadbalancer/net/TESTflontback/"
    "813270f8ee6fa76a"
)
ALB = (
    "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/my-load-balancer/"
    "ffcddace1759e1d0"
)

#: (sample file, event name) -> every (type, id, change) its successful records of that event give.
CASES: list[tuple[str, str, set[tuple[str, str, Change]]]] = [
    # EC2 instances: RunInstances items (one, and two in one call), terminate, stop/start.
    (
        f"{SPOT}/ec2/datas/EC2_RunInstances.json",
        "RunInstances",
        {("ec2.instance", "i-0fc5d99558e8357e8", C)},
    ),
    (
        "cloud-custodian/cwe/event-cloud-trail-run-instances.json",
        "RunInstances",
        {("ec2.instance", "i-784cdacd", C), ("ec2.instance", "i-7b4cdace", C)},
    ),
    ("plaso/aws_cloudtrail.jsonl", "RunInstances", {("ec2.instance", "i-01234567890123456", C)}),
    (
        f"{SPOT}/ec2/datas/EC2_TerminateInstances.json",
        "TerminateInstances",
        {("ec2.instance", "i-0fc5d99558e8357e8", D)},
    ),
    (
        "awsdocs/amazon-ec2-user-guide/monitor-with-cloudtrail.json",
        "TerminateInstances",
        {("ec2.instance", "i-1a2b3c4d", D)},
    ),
    (
        "plaso/aws_cloudtrail.jsonl",
        "TerminateInstances",
        {("ec2.instance", "i-01234567890123456", D)},
    ),
    ("plaso/aws_cloudtrail.jsonl", "StopInstances", {("ec2.instance", "i-01234567890123456", S)}),
    (
        "awsdocs/aws-cloudtrail-user-guide/cloudtrail-log-file-examples.json",
        "StartInstances",
        {("ec2.instance", "i-ebeaf9e2", S)},
    ),
    (
        "stratus-red-team/detonation-logs/aws.execution.ec2-user-data.json",
        "StopInstances",
        {("ec2.instance", "i-DDd6c7B0e18F0E35f", S)},
    ),
    # EBS volumes and snapshots.
    (
        f"{SPOT}/ec2/datas/EC2_CreateVolume.json",
        "CreateVolume",
        {("ec2.volume", "vol-084879c77b49adac0", C)},
    ),
    (
        "awsdocs/aws-kms-developer-guide/ct-ec2one.json",
        "CreateVolume",
        {("ec2.volume", "vol-13439757", C)},
    ),
    (
        f"{SPOT}/ec2/datas/EC2_DeleteVolume.json",
        "DeleteVolume",
        {("ec2.volume", "vol-084879c77b49adac0", D)},
    ),
    (
        f"{SPOT}/ec2/datas/EC2_CreateSnapshot.json",
        "CreateSnapshot",
        {("ec2.snapshot", "snap-04233f8a0017f5a77", C)},
    ),
    (
        f"{SPOT}/ec2/datas/EC2_CopySnapshot.json",
        "CopySnapshot",
        {("ec2.snapshot", "snap-031b3694bcd5fea93", C)},
    ),
    (
        f"{SPOT}/ec2/datas/EC2_CreateSnapshots.json",
        "CreateSnapshots",
        {("ec2.snapshot", "snap-0ea8b3632c0ff21d6", C)},
    ),
    (
        f"{SPOT}/ec2/datas/EC2_DeleteSnapshot.json",
        "DeleteSnapshot",
        {("ec2.snapshot", "snap-0ea8b3632c0ff21d6", D)},
    ),
    # Elastic IP and NAT gateway (wrapped EC2 payloads).
    (
        f"{SPOT}/ec2/datas/EC2_AllocateAddress.json",
        "AllocateAddress",
        {("ec2.elastic_ip", "eipalloc-044e12137f28d65f6", C)},
    ),
    (
        f"{SPOT}/ec2/datas/EC2_ReleaseAddress.json",
        "ReleaseAddress",
        {("ec2.elastic_ip", "eipalloc-044e12137f28d65f6", D)},
    ),
    (
        f"{SPOT}/ec2/datas/EC2_CreateNatGateway.json",
        "CreateNatGateway",
        {("ec2.nat_gateway", "nat-0cb758692bd70f8e6", C)},
    ),
    (
        f"{SPOT}/ec2/datas/EC2_DeleteNatGateway.json",
        "DeleteNatGateway",
        {("ec2.nat_gateway", "nat-0cb758692bd70f8e6", D)},
    ),
    # RDS instances (the spotlight CreateDBInstance was hand-edited: the response id wins, and
    # it is the one its DeleteDBInstance names).
    (
        f"{SPOT}/rds/datas/RDS_CreateDBInstance.json",
        "CreateDBInstance",
        {("rds.db_instance", "onecloud-mysql", C)},
    ),
    (
        "cloud-custodian/cwe/event-cloud-trail-create-db.json",
        "CreateDBInstance",
        {("rds.db_instance", "onenessdb", C)},
    ),
    (
        "awsdocs/amazon-rds-user-guide/logging-using-cloudtrail.json",
        "CreateDBInstance",
        {("rds.db_instance", "test-instance", C)},
    ),
    (PANTHER, "CreateDBInstanceReadReplica", {("rds.db_instance", "replica-instance", C)}),
    (
        f"{SPOT}/rds/datas/RDS_RestoreDBInstanceFromDBSnapshot.json",
        "RestoreDBInstanceFromDBSnapshot",
        {("rds.db_instance", "nestle-envtestdb2", C)},
    ),
    (
        f"{SPOT}/rds/datas/RDS_RestoreDBInstanceToPointInTime.json",
        "RestoreDBInstanceToPointInTime",
        {("rds.db_instance", "cis-rds-backup-test-recovery", C)},
    ),
    (
        f"{SPOT}/rds/datas/RDS_DeleteDBInstance.json",
        "DeleteDBInstance",
        {("rds.db_instance", "onecloud-mysql", D)},
    ),
    (
        PANTHER,
        "DeleteDBInstance",
        {("rds.db_instance", "production-mysql-db", D), ("rds.db_instance", "customer-data-db", D)},
    ),
    (PANTHER, "StartDBInstance", {("rds.db_instance", "dev-database", S)}),
    (
        f"{SPOT}/rds/datas/RDS_ModifyDBInstance.json",
        "ModifyDBInstance",
        {
            ("rds.db_instance", "onecloud-mysql-sjis", D),
            ("rds.db_instance", "onecloud-mysql-sjis-new", C),
        },
    ),
    (PANTHER, "ModifyDBInstance", set()),  # no newDBInstanceIdentifier: not a rename
    # RDS clusters.
    (
        f"{SPOT}/rds/datas/RDS_CreateDBCluster.json",
        "CreateDBCluster",
        {("rds.db_cluster", "database-4", C)},
    ),
    (
        f"{SPOT}/rds/datas/RDS_RestoreDBClusterFromSnapshot.json",
        "RestoreDBClusterFromSnapshot",
        {("rds.db_cluster", "aurora-db2-cluster", C)},
    ),
    (
        f"{SPOT}/rds/datas/RDS_RestoreDBClusterToPointInTime.json",
        "RestoreDBClusterToPointInTime",
        {("rds.db_cluster", "aurora-db-bk-cluster", C)},
    ),
    (
        f"{SPOT}/rds/datas/RDS_DeleteDBCluster.json",
        "DeleteDBCluster",
        {("rds.db_cluster", "database-4", D)},
    ),
    (PANTHER, "DeleteDBCluster", {("rds.db_cluster", "aurora-cluster-prod", D)}),
    # ELBv2 (and classic ELB, which shares the event name and must give nothing).
    (
        f"{SPOT_ARCHIVE}/create/elb/ELASTICLOADBALANCING_CreateLoadBalancer.json",
        "CreateLoadBalancer",
        {("elbv2.load_balancer", NLB, C)},
    ),
    (
        f"{SPOT_ARCHIVE}/delete/elb/ELASTICLOADBALANCING_DeleteLoadBalancer.json",
        "DeleteLoadBalancer",
        {("elbv2.load_balancer", NLB, D)},
    ),
    (
        "awsdocs/elb-application-load-balancers-user-guide/load-balancer-cloudtrail-logs.json",
        "CreateLoadBalancer",
        {("elbv2.load_balancer", ALB, C)},
    ),
    (
        "awsdocs/elb-application-load-balancers-user-guide/load-balancer-cloudtrail-logs.json",
        "DeleteLoadBalancer",
        {("elbv2.load_balancer", ALB, D)},
    ),
    (
        "awsdocs/elb-classic-load-balancers-user-guide/ELB-API-Logs.json",
        "CreateLoadBalancer",
        set(),
    ),
    # S3, EFS, EKS, Route 53.
    (
        f"{SPOT}/s3/datas/S3_CreateBucket.json",
        "CreateBucket",
        {("s3.bucket", "test-backt-testfile01", C)},
    ),
    (
        "cloud-custodian/cwe/event-cloud-trail-create-bucket.json",
        "CreateBucket",
        {("s3.bucket", "custodian-create-bucket-v4", C)},
    ),
    (
        f"{SPOT}/s3/datas/S3_DeleteBucket.json",
        "DeleteBucket",
        {("s3.bucket", "test-backt-testfile01", D)},
    ),
    (f"{SPOT}/s3/datas/S3EXPRESS_CreateBucket.json", "CreateBucket", set()),  # s3express
    (
        f"{SPOT}/efs/datas/ELASTICFILESYSTEM_CreateFileSystem.json",
        "CreateFileSystem",
        {("efs.file_system", "fs-d536f8f5", C)},
    ),
    (
        f"{SPOT}/efs/datas/ELASTICFILESYSTEM_DeleteFileSystem.json",
        "DeleteFileSystem",
        {("efs.file_system", "fs-d536f8f5", D)},
    ),
    (
        f"{SPOT}/eks/datas/EKS_CreateCluster.json",
        "CreateCluster",
        {("eks.cluster", "eks-cluster", C)},
    ),
    (
        f"{SPOT}/eks/datas/EKS_DeleteCluster.json",
        "DeleteCluster",
        {("eks.cluster", "eks-cluster", D)},
    ),
    (
        f"{SPOT}/route53/datas/ROUTE53_CreateHostedZone.json",
        "CreateHostedZone",
        {("route53.hosted_zone", "AAAAAAAAAAAAAAAA", C)},
    ),
    (
        f"{SPOT}/route53/datas/ROUTE53_DeleteHostedZone.json",
        "DeleteHostedZone",
        {("route53.hosted_zone", "AAAAAAAAAAAAAAAA", D)},
    ),
    (
        "awsdocs/amazon-route53-docs/logging-using-cloudtrail.json",
        "DeleteHostedZone",
        {("route53.hosted_zone", "Z1PA6795UKMFR9", D)},
    ),
]


def facts_of(path: str, event_name: str) -> set[tuple[str, str, Change]]:
    records = [r for r in sample_records(path) if r.event_name == event_name]
    assert records, f"{path} holds no {event_name} record"
    return {
        (fact.key.resource_type, fact.key.resource_id, fact.change)
        for record in records
        for fact in extract(record, CATALOG)
    }


@pytest.mark.parametrize(
    ("path", "event_name", "expected"), CASES, ids=[f"{e}@{p}" for p, e, _ in CASES]
)
def test_rule_gives_the_right_id_on_its_real_sample(
    path: str, event_name: str, expected: set[tuple[str, str, Change]]
) -> None:
    assert facts_of(path, event_name) == expected


def test_every_rule_is_confirmed_on_a_sample_or_listed_as_model_only() -> None:
    confirmed_events = {event for _, event, expected in CASES if expected}
    model_only = {
        "RestoreDBInstanceFromS3",
        "StopDBInstance",
        "RestoreDBClusterFromS3",
        "StopDBCluster",
        "StartDBCluster",
        "ModifyDBCluster",
    }
    assert confirmed_events | model_only == CATALOG.event_names
    assert not confirmed_events & model_only


def test_pairs_found_in_the_samples_match() -> None:
    """The same resource's create and delete, in different real files, meet on one key."""
    created = {(t, i) for _, _, facts in CASES for t, i, c in facts if c is C}
    deleted = {(t, i) for _, _, facts in CASES for t, i, c in facts if c is D}
    assert {
        ("ec2.instance", "i-0fc5d99558e8357e8"),
        ("ec2.volume", "vol-084879c77b49adac0"),
        ("ec2.snapshot", "snap-0ea8b3632c0ff21d6"),
        ("ec2.elastic_ip", "eipalloc-044e12137f28d65f6"),
        ("ec2.nat_gateway", "nat-0cb758692bd70f8e6"),
        ("rds.db_instance", "onecloud-mysql"),
        ("rds.db_cluster", "database-4"),
        ("elbv2.load_balancer", NLB),
        ("s3.bucket", "test-backt-testfile01"),
        ("efs.file_system", "fs-d536f8f5"),
        ("eks.cluster", "eks-cluster"),
        ("route53.hosted_zone", "AAAAAAAAAAAAAAAA"),
    } <= created & deleted


def test_details_drawn_from_real_records() -> None:
    (instance,) = extract(sample_records(f"{SPOT}/ec2/datas/EC2_RunInstances.json")[0], CATALOG)
    assert instance.name == "onecloud-sli-db"
    assert dict(instance.attributes) == {
        "instance_type": "t3.2xlarge",
        "image_id": "ami-00203503bf62d6c70",
    }
    assert instance.actor.user_name == "test001@test.com"

    (assumed,) = extract(
        sample_records("cloud-custodian/cwe/event-cloud-trail-run-instance-creator-assumed.json")[
            0
        ],
        CATALOG,
    )
    assert assumed.actor.arn == "arn:aws:sts::03412312600:assumed-role/GR_Dev_Developer/Radiant"
    assert assumed.actor.user_name == "Radiant"
    assert assumed.actor.source_ip == "204.63.44.142"
    assert assumed.actor.user_agent == "signin.amazonaws.com"

    (db,) = extract(sample_records(f"{SPOT}/rds/datas/RDS_CreateDBInstance.json")[0], CATALOG)
    assert db.arn == "arn:aws:rds:ap-northeast-1:999999999999:db:onecloud-mysql"
    assert dict(db.attributes)["db_class"] == "db.m6g.large"
    assert dict(db.attributes)["engine"] == "mysql"
    assert db.key.region == "ap-northeast-1"
    assert db.key.account_id == "999999999999"

    (lb,) = extract(
        sample_records(f"{SPOT_ARCHIVE}/create/elb/ELASTICLOADBALANCING_CreateLoadBalancer.json")[
            0
        ],
        CATALOG,
    )
    assert (lb.name, lb.arn) == ("TESTflontback", NLB)
    assert dict(lb.attributes) == {"lb_type": "network", "scheme": "internal"}

    (volume,) = extract(sample_records(f"{SPOT}/ec2/datas/EC2_CreateVolume.json")[0], CATALOG)
    assert volume.name == "onecloud-sli-mq-d"
    assert dict(volume.attributes) == {
        "size_gb": "170",
        "volume_type": "gp3",
        "zone": "ap-northeast-1a",
    }

    (zone,) = extract(
        sample_records(f"{SPOT}/route53/datas/ROUTE53_CreateHostedZone.json")[0], CATALOG
    )
    assert zone.name == "arms.xxxxxxxxxx.com."

    tagged = [
        fact
        for record in sample_records(PANTHER)
        if record.event_name == "RunInstances"
        for fact in extract(record, CATALOG)
        if fact.key.resource_id == "i-0690cd354a0c3850c"
    ]
    assert [fact.name for fact in tagged] == ["fake thing whatever"]


@pytest.mark.parametrize(
    "path",
    [
        "stratus-red-team/detonation-logs/aws.execution.ec2-launch-unusual-instances.json",
        "stratus-red-team/detonation-logs/aws.persistence.iam-create-admin-user.json",
        "stratus-red-team/detonation-logs/aws.persistence.iam-backdoor-role.json",
        "OTRF-Security-Datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl",
        "awsdocs/elb-classic-load-balancers-user-guide/ELB-API-Logs.json",
        f"{SPOT}/route53/datas/ROUTE53_CreateServiceLinkedPrivateHostedZone.json",
    ],
)
def test_noise_failed_calls_and_classic_elb_give_no_facts(path: str) -> None:
    records = sample_records(path)
    assert records
    assert [fact for record in records for fact in extract(record, CATALOG)] == []


def test_no_failed_or_dry_run_call_in_any_sample_gives_facts() -> None:
    failed = [record for record in read_paths([samples_dir()]) if record.failed]
    watched = [r for r in failed if CATALOG.watches(r.event_source, r.event_name)]
    assert {r.error_code for r in watched} >= {
        "Client.UnauthorizedOperation",
        "Client.DryRunOperation",
        "AccessDenied",
    }
    assert [fact for record in failed for fact in extract(record, CATALOG)] == []
