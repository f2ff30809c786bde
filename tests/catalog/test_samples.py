"""Details drawn from real records: names, attributes, actors, created_via; noise gives nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scanner.catalog import load_catalog
from scanner.lifecycle import tag_key
from scanner.pairing import extract
from tests.samples import sample_records

CATALOG = load_catalog()

SPOT = "aws-spotlight/backend/cloudtrail/test/services"
SPOT_ARCHIVE = "aws-spotlight/archive/backend/src/cloudtrail/test/datas"
PANTHER = "panther-analysis/cloudtrail_test_logs.jsonl"
NLB = (
    "arn:aws:elasticloadbalancing:ap-northeast-1:999999999999:loadbalancer/net/TESTflontback/"
    "813270f8ee6fa76a"
)


def test_details_drawn_from_real_records() -> None:
    instance, tag = extract(sample_records(f"{SPOT}/ec2/datas/EC2_RunInstances.json")[0], CATALOG)
    assert instance.name == "onecloud-sli-db"
    assert tag.key == tag_key(instance.key, "Name")  # its tags, each a lifecycle of its own
    assert dict(tag.attributes) == {"value": "onecloud-sli-db"}
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

    volume, _ = extract(sample_records(f"{SPOT}/ec2/datas/EC2_CreateVolume.json")[0], CATALOG)
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


def test_created_via_names_the_parent_stack_or_group() -> None:
    """An Auto Scaling group made by CloudFormation (a real record) names its stack; instances
    that Auto Scaling launches name their group."""
    (group,) = extract(
        sample_records(f"{SPOT}/autoscaling/datas/AUTOSCALING_CreateAutoScalingGroup.json")[0],
        CATALOG,
    )
    assert group.created_via == (
        "cloudformation.stack/arn:aws:cloudformation:ap-northeast-1:999999999999:stack/"
        "EC2ContainerService-ecs-on-ec2/4a3f1f30-5b89-11eb-bafa-0aece754dcdc"
    )
    plain, _ = extract(sample_records(f"{SPOT}/ec2/datas/EC2_RunInstances.json")[0], CATALOG)
    assert plain.created_via is None
    launched = sample_records(f"{SPOT}/ec2/datas/EC2_RunInstances.json")[0]
    body = dict(launched.body)
    tags = [
        {"key": "aws:autoscaling:groupName", "value": "web"},
        {"key": "aws:cloudformation:stack-id", "value": "arn:stack"},
    ]
    body["requestParameters"] = {
        **body["requestParameters"],
        "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": tags}]},
    }
    instance, *_tags = extract(replace(launched, body=body), CATALOG)
    assert instance.created_via == "autoscaling.group/web"


@pytest.mark.parametrize(
    "path",
    [
        "stratus-red-team/detonation-logs/aws.execution.ec2-launch-unusual-instances.json",
        "stratus-red-team/detonation-logs/aws.persistence.iam-create-admin-user.json",
        "stratus-red-team/detonation-logs/aws.persistence.iam-backdoor-role.json",
        "OTRF-Security-Datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.jsonl",
        f"{SPOT}/route53/datas/ROUTE53_CreateServiceLinkedPrivateHostedZone.json",
    ],
)
def test_noise_and_failed_calls_give_no_facts(path: str) -> None:
    records = sample_records(path)
    assert records
    assert [fact for record in records for fact in extract(record, CATALOG)] == []


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("aurora-postgresql", "rds.db_cluster"),
        ("docdb", "docdb.db_cluster"),
        ("neptune", "neptune.db_cluster"),
    ],
)
def test_one_event_several_services_told_apart_by_engine(engine: str, expected: str) -> None:
    """DocumentDB and Neptune clusters are rds.amazonaws.com CreateDBCluster calls too."""
    record = sample_records(f"{SPOT}/rds/datas/RDS_CreateDBCluster.json")[0]
    body = dict(record.body)
    body["requestParameters"] = {**body["requestParameters"], "engine": engine}
    body["responseElements"] = {**body["responseElements"], "engine": engine}
    facts = extract(replace(record, body=body), CATALOG)
    assert [(f.key.resource_type, f.key.resource_id) for f in facts] == [(expected, "database-4")]


def test_counts_drawn_for_prices() -> None:
    """Counts a price multiplies by: from a real record, or from the request when the response
    leaves them out."""
    (firewall,) = extract(sample_records(f"{SPOT}/nfw/datas/NFW_CreateFirewall.json")[0], CATALOG)
    assert dict(firewall.attributes)["endpoints"] == "1"
    record = sample_records(f"{SPOT}/elasticache/datas/ELASTICACHE_CreateCacheCluster.json")[0]
    group = {"replicationGroupId": "rg", "cacheNodeType": "cache.t3.micro", "numCacheClusters": 3}
    body = {**record.body, "eventName": "CreateReplicationGroup", "requestParameters": group}
    for response, nodes in ((None, "3"), ({"memberClusters": ["a", "b"]}, "2")):
        built = replace(record, event_name="CreateReplicationGroup", body=body)
        built = replace(built, body={**body, "responseElements": response})
        (fact,) = extract(built, CATALOG)
        assert (fact.key.resource_id, dict(fact.attributes)["nodes"]) == ("rg", nodes)
