"""Real resources in moto, one maker per catalog type: create one, delete one without an event.

Each maker creates the resource with the calls a user would make (boto3 against moto's server)
and returns the id the catalog's create rule reads from the CloudTrail record; `delete` removes
it from moto only, so CloudTrail never hears of it.

Left to the Stubber tests although moto implements the call: glacier.vault (moto answers a
missing vault with `VaultNotFound`, AWS and botocore's model with `ResourceNotFoundException`)
cloudtrail.trail (CloudTrail itself comes from the emulator, so its GetTrail cannot go to
moto) and elasticache.cache_cluster (moto keeps a deleted cluster, `deleting`, as AWS does for
a while: not gone yet).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.verify.moto import Moto

AMI = "ami-12c6146b"  # one of moto's bundled images


@dataclass(frozen=True)
class Made:
    """A resource moto holds: the id the catalog keys it by, and its ARN where it has one."""

    id: str
    arn: str | None = None


@dataclass(frozen=True)
class Maker:
    """How to create and delete one resource of a type in moto."""

    create: Callable[[Moto, int], Made]
    delete: Callable[[Moto, Made], None]
    #: More requestParameters the create rule needs (its `when`).
    request: Mapping[str, Any] = field(default_factory=dict)


def _subnets(moto: Moto) -> tuple[str, list[str]]:
    ec2 = moto.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    return vpc["VpcId"], [s["SubnetId"] for s in subnets["Subnets"]][:2]


def _instance(moto: Moto, n: int) -> Made:
    answer = moto.client("ec2").run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="t3.micro"
    )
    return Made(answer["Instances"][0]["InstanceId"])


def _volume(moto: Moto, n: int) -> Made:
    return Made(moto.client("ec2").create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"])


def _snapshot(moto: Moto, n: int) -> Made:
    volume = _volume(moto, n).id
    return Made(moto.client("ec2").create_snapshot(VolumeId=volume)["SnapshotId"])


def _image(moto: Moto, n: int) -> Made:
    instance = _instance(moto, n).id
    return Made(moto.client("ec2").create_image(InstanceId=instance, Name=f"image-{n}")["ImageId"])


def _address(moto: Moto, n: int) -> Made:
    return Made(moto.client("ec2").allocate_address(Domain="vpc")["AllocationId"])


def _nat_gateway(moto: Moto, n: int) -> Made:
    _, subnets = _subnets(moto)
    allocation = _address(moto, n).id
    answer = moto.client("ec2").create_nat_gateway(SubnetId=subnets[0], AllocationId=allocation)
    return Made(answer["NatGateway"]["NatGatewayId"])


def _vpc_endpoint(moto: Moto, n: int) -> Made:
    vpc, _ = _subnets(moto)
    answer = moto.client("ec2").create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway"
    )
    return Made(answer["VpcEndpoint"]["VpcEndpointId"])


def _transit_gateway(moto: Moto, n: int) -> Made:
    answer = moto.client("ec2").create_transit_gateway(Description=f"tgw-{n}")
    return Made(answer["TransitGateway"]["TransitGatewayId"])


def _db_instance(moto: Moto, n: int) -> Made:
    answer = moto.client("rds").create_db_instance(
        DBInstanceIdentifier=f"db-{n}",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="password1234",
        AllocatedStorage=20,
    )
    return Made(answer["DBInstance"]["DBInstanceIdentifier"], answer["DBInstance"]["DBInstanceArn"])


def _db_cluster(moto: Moto, n: int) -> Made:
    answer = moto.client("rds").create_db_cluster(
        DBClusterIdentifier=f"cluster-{n}",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="password1234",
    )
    return Made(answer["DBCluster"]["DBClusterIdentifier"], answer["DBCluster"]["DBClusterArn"])


def _db_snapshot(moto: Moto, n: int) -> Made:
    db = _db_instance(moto, 100 + n).id
    answer = moto.client("rds").create_db_snapshot(
        DBSnapshotIdentifier=f"snap-{n}", DBInstanceIdentifier=db
    )
    return Made(answer["DBSnapshot"]["DBSnapshotIdentifier"])


def _load_balancer(moto: Moto, n: int) -> Made:
    _, subnets = _subnets(moto)
    answer = moto.client("elbv2").create_load_balancer(Name=f"lb-{n}", Subnets=subnets)
    arn = answer["LoadBalancers"][0]["LoadBalancerArn"]
    return Made(arn, arn)


def _classic_load_balancer(moto: Moto, n: int) -> Made:
    moto.client("elb").create_load_balancer(
        LoadBalancerName=f"classic-{n}",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=["us-east-1a"],
    )
    return Made(f"classic-{n}")


def _bucket(moto: Moto, n: int) -> Made:
    moto.client("s3").create_bucket(Bucket=f"leftovers-bucket-{n}")
    return Made(f"leftovers-bucket-{n}")


def _file_system(moto: Moto, n: int) -> Made:
    answer = moto.client("efs").create_file_system(CreationToken=f"fs-{n}")
    return Made(answer["FileSystemId"])


def _hosted_zone(moto: Moto, n: int) -> Made:
    answer = moto.client("route53").create_hosted_zone(
        Name=f"zone{n}.example.com", CallerReference=f"zone-{n}"
    )
    return Made(answer["HostedZone"]["Id"].rsplit("/", 1)[-1])


def _table(moto: Moto, n: int) -> Made:
    moto.client("dynamodb").create_table(
        TableName=f"table-{n}",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return Made(f"table-{n}")


def _stream(moto: Moto, n: int) -> Made:
    moto.client("kinesis").create_stream(StreamName=f"stream-{n}", ShardCount=1)
    return Made(f"stream-{n}")


def _log_group(moto: Moto, n: int) -> Made:
    # A name that prefixes the others': the check must match the whole name.
    name = "/app/logs" + "-x" * n
    moto.client("logs").create_log_group(logGroupName=name)
    return Made(name)


def _alarm(moto: Moto, n: int) -> Made:
    moto.client("cloudwatch").put_metric_alarm(
        AlarmName=f"alarm-{n}",
        MetricName="CPUUtilization",
        Namespace="AWS/EC2",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=90.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    return Made(f"alarm-{n}")


def _repository(moto: Moto, n: int) -> Made:
    moto.client("ecr").create_repository(repositoryName=f"repo-{n}")
    return Made(f"repo-{n}")


def _secret(moto: Moto, n: int) -> Made:
    answer = moto.client("secretsmanager").create_secret(Name=f"secret-{n}", SecretString="x")
    return Made(answer["Name"], answer["ARN"])


def _parameter(moto: Moto, n: int) -> Made:
    moto.client("ssm").put_parameter(Name=f"/param/{n}", Value="v", Type="String", Tier="Advanced")
    return Made(f"/param/{n}")


def _eks_cluster(moto: Moto, n: int) -> Made:
    _, subnets = _subnets(moto)
    moto.client("eks").create_cluster(
        name=f"eks-{n}",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": subnets},
    )
    return Made(f"eks-{n}")


def _redshift(moto: Moto, n: int) -> Made:
    moto.client("redshift").create_cluster(
        ClusterIdentifier=f"warehouse-{n}",
        NodeType="ra3.xlplus",
        MasterUsername="admin",
        MasterUserPassword="Password1234",
    )
    return Made(f"warehouse-{n}")


def _backup_vault(moto: Moto, n: int) -> Made:
    moto.client("backup").create_backup_vault(BackupVaultName=f"backup-{n}")
    return Made(f"backup-{n}")


def _health_check(moto: Moto, n: int) -> Made:
    answer = moto.client("route53").create_health_check(
        CallerReference=f"check-{n}",
        HealthCheckConfig={"Type": "HTTP", "FullyQualifiedDomainName": "example.com", "Port": 80},
    )
    return Made(answer["HealthCheck"]["Id"])


def _dashboard(moto: Moto, n: int) -> Made:
    moto.client("cloudwatch").put_dashboard(DashboardName=f"board-{n}", DashboardBody="{}")
    return Made(f"board-{n}")


def _emr_cluster(moto: Moto, n: int) -> Made:
    answer = moto.client("emr").run_job_flow(
        Name=f"emr-{n}",
        ReleaseLabel="emr-7.0.0",
        Instances={
            "MasterInstanceType": "m5.xlarge",
            "InstanceCount": 1,
            "KeepJobFlowAliveWhenNoSteps": True,
        },
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
    )
    return Made(answer["JobFlowId"])


def _domain(moto: Moto, n: int) -> Made:
    moto.client("opensearch").create_domain(DomainName=f"search-{n}")
    return Made(f"search-{n}")


def _cluster_snapshot(moto: Moto, n: int) -> Made:
    cluster = _db_cluster(moto, 100 + n).id
    answer = moto.client("rds").create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier=f"csnap-{n}", DBClusterIdentifier=cluster
    )
    return Made(answer["DBClusterSnapshot"]["DBClusterSnapshotIdentifier"])


def _ec2(call: str, param: str) -> Callable[[Moto, Made], None]:
    def delete(moto: Moto, made: Made) -> None:
        getattr(moto.client("ec2"), call)(**{param: made.id})

    return delete


def _by(api: str, call: str, param: str, **more: Any) -> Callable[[Moto, Made], None]:
    def delete(moto: Moto, made: Made) -> None:
        getattr(moto.client(api), call)(**{param: made.id}, **more)

    return delete


def _terminate(moto: Moto, made: Made) -> None:
    moto.client("ec2").terminate_instances(InstanceIds=[made.id])


MAKERS: dict[str, Maker] = {
    "route53.health_check": Maker(
        _health_check, _by("route53", "delete_health_check", "HealthCheckId")
    ),
    "cloudwatch.dashboard": Maker(
        _dashboard,
        lambda moto, made: moto.client("cloudwatch").delete_dashboards(DashboardNames=[made.id]),
    ),
    "emr.cluster": Maker(
        _emr_cluster,
        lambda moto, made: moto.client("emr").terminate_job_flows(JobFlowIds=[made.id]),
    ),
    "opensearch.domain": Maker(_domain, _by("opensearch", "delete_domain", "DomainName")),
    "rds.db_cluster_snapshot": Maker(
        _cluster_snapshot,
        _by("rds", "delete_db_cluster_snapshot", "DBClusterSnapshotIdentifier"),
    ),
    "ec2.instance": Maker(_instance, _terminate),
    "ec2.volume": Maker(_volume, _ec2("delete_volume", "VolumeId")),
    "ec2.snapshot": Maker(_snapshot, _ec2("delete_snapshot", "SnapshotId")),
    "ec2.image": Maker(_image, _ec2("deregister_image", "ImageId")),
    "ec2.elastic_ip": Maker(_address, _ec2("release_address", "AllocationId")),
    "ec2.nat_gateway": Maker(_nat_gateway, _ec2("delete_nat_gateway", "NatGatewayId")),
    "ec2.vpc_endpoint": Maker(
        _vpc_endpoint,
        lambda moto, made: moto.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[made.id]),
    ),
    "ec2.transit_gateway": Maker(
        _transit_gateway, _ec2("delete_transit_gateway", "TransitGatewayId")
    ),
    "rds.db_instance": Maker(
        _db_instance,
        _by("rds", "delete_db_instance", "DBInstanceIdentifier", SkipFinalSnapshot=True),
    ),
    "rds.db_cluster": Maker(
        _db_cluster, _by("rds", "delete_db_cluster", "DBClusterIdentifier", SkipFinalSnapshot=True)
    ),
    "rds.db_snapshot": Maker(
        _db_snapshot, _by("rds", "delete_db_snapshot", "DBSnapshotIdentifier")
    ),
    "elbv2.load_balancer": Maker(
        _load_balancer, _by("elbv2", "delete_load_balancer", "LoadBalancerArn")
    ),
    "elb.classic_load_balancer": Maker(
        _classic_load_balancer, _by("elb", "delete_load_balancer", "LoadBalancerName")
    ),
    "s3.bucket": Maker(_bucket, _by("s3", "delete_bucket", "Bucket")),
    "efs.file_system": Maker(_file_system, _by("efs", "delete_file_system", "FileSystemId")),
    "route53.hosted_zone": Maker(_hosted_zone, _by("route53", "delete_hosted_zone", "Id")),
    "dynamodb.table": Maker(_table, _by("dynamodb", "delete_table", "TableName")),
    "kinesis.stream": Maker(_stream, _by("kinesis", "delete_stream", "StreamName")),
    "logs.log_group": Maker(_log_group, _by("logs", "delete_log_group", "logGroupName")),
    "cloudwatch.alarm": Maker(
        _alarm,
        lambda moto, made: moto.client("cloudwatch").delete_alarms(AlarmNames=[made.id]),
    ),
    "ecr.repository": Maker(_repository, _by("ecr", "delete_repository", "repositoryName")),
    "secretsmanager.secret": Maker(
        _secret,
        _by("secretsmanager", "delete_secret", "SecretId", ForceDeleteWithoutRecovery=True),
    ),
    "ssm.advanced_parameter": Maker(
        _parameter, _by("ssm", "delete_parameter", "Name"), {"tier": "Advanced"}
    ),
    "eks.cluster": Maker(_eks_cluster, _by("eks", "delete_cluster", "name")),
    "redshift.cluster": Maker(
        _redshift,
        _by("redshift", "delete_cluster", "ClusterIdentifier", SkipFinalClusterSnapshot=True),
    ),
    "backup.vault": Maker(_backup_vault, _by("backup", "delete_backup_vault", "BackupVaultName")),
}
