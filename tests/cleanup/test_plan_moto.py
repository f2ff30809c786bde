"""The cleanup plan end to end: resources made in moto, their history served by the emulator,
`leftovers plan`, then the script run by the pinned aws CLI against moto."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator import Running
from scanner.cli import main
from tests.conftest import MakeRecord
from tests.moto_server import ACCOUNT, REGION, moto_server

AWS_CLI = os.environ.get("AWS_CLI", "")
pytestmark = pytest.mark.skipif(not AWS_CLI, reason="AWS_CLI (make unit builds it) not set")

Client = Any


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def client(endpoint: str, service: str) -> Client:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    make: Any = session.client  # typed per literal service name; this one is a variable
    return make(service, endpoint_url=endpoint)


def _missing(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError:
        return True
    return False


class World:
    """Resources made in moto: what the history creates, and what it must leave alone."""

    def __init__(self, endpoint: str, make_record: MakeRecord) -> None:
        self.endpoint = endpoint
        self.make = make_record
        self.records: list[dict[str, Any]] = []
        self.planned: dict[str, str] = {}  # type -> id
        self.checks: dict[str, Callable[[], bool]] = {}  # type -> still there?
        self.kept: dict[str, Callable[[], bool]] = {}  # untouched resources -> still there?

    def c(self, service: str) -> Client:
        return client(self.endpoint, service)

    def created(  # noqa: PLR0917 - the calls read as one line each: type, id, event, source, check
        self, type_name: str, resource_id: str, name: str, source: str, alive: Callable[[], bool],
        request: dict[str, Any] | None = None, response: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.records.append(
            self.make(
                account=ACCOUNT,
                name=name,
                source=f"{source}.amazonaws.com",
                requestParameters=request or {},
                responseElements=response,
            )
        )
        self.planned[type_name] = resource_id
        self.checks[type_name] = alive


def build(world: World) -> None:
    ec2, w = world.c("ec2"), world
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in ((1, "a"), (2, "b"))
    ]
    w.kept["vpc"] = lambda: bool(ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"])
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnets[0])
    instance_id = instance["Instances"][0]["InstanceId"]

    def running() -> bool:
        found = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
        return bool(found[0]["State"]["Name"] != "terminated")

    w.created(
        "ec2.instance", instance_id, "RunInstances", "ec2", running,
        response={"instancesSet": {"items": [{"instanceId": instance_id}]}},
    )  # fmt: skip

    def volume(tags: list[dict[str, str]] | None = None) -> tuple[str, Callable[[], bool]]:
        made = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
        return made, lambda: not _missing(lambda: ec2.describe_volumes(VolumeIds=[made]))

    volume_id, volume_alive = volume()
    w.created(
        "ec2.volume", volume_id, "CreateVolume", "ec2", volume_alive,
        response={"volumeId": volume_id, "size": 8, "volumeType": "gp3"},
    )  # fmt: skip
    kept_volume, kept_alive = volume()
    w.kept["ignored volume"] = kept_alive
    w.records.append(
        w.make(
            account=ACCOUNT,
            name="CreateVolume",
            requestParameters={
                "tagSpecificationSet": {
                    "items": [{"resourceType": "volume", "tags": [{"key": "keep", "value": "yes"}]}]
                }
            },
            responseElements={"volumeId": kept_volume, "size": 8},
        )
    )
    untracked, untracked_alive = volume()
    w.kept["volume without history"] = untracked_alive
    snapshot = ec2.create_snapshot(VolumeId=untracked)["SnapshotId"]
    w.created(
        "ec2.snapshot", snapshot, "CreateSnapshot", "ec2",
        lambda: not _missing(lambda: ec2.describe_snapshots(SnapshotIds=[snapshot])),
        response={"snapshotId": snapshot, "volumeId": untracked},
    )  # fmt: skip
    nat_eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=nat_eip)["NatGateway"]
    nat_id = nat["NatGatewayId"]

    def nat_alive() -> bool:
        found = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"]
        return bool(found and found[0]["State"] not in ("deleted", "deleting"))

    w.created(
        "ec2.nat_gateway", nat_id, "CreateNatGateway", "ec2", nat_alive,
        response={"CreateNatGatewayResponse": {"natGateway": {"natGatewayId": nat_id}}},
    )  # fmt: skip
    w.created(
        "ec2.elastic_ip", nat_eip, "AllocateAddress", "ec2",
        lambda: not _missing(lambda: ec2.describe_addresses(AllocationIds=[nat_eip])),
        response={"allocationId": nat_eip, "publicIp": "198.51.100.9"},
    )  # fmt: skip

    s3 = w.c("s3")
    s3.create_bucket(Bucket="left-over-bucket")
    s3.create_bucket(Bucket="untracked-bucket")
    w.kept["bucket without history"] = lambda: (
        not _missing(lambda: s3.head_bucket(Bucket="untracked-bucket"))
    )
    w.created(
        "s3.bucket", "left-over-bucket", "CreateBucket", "s3",
        lambda: not _missing(lambda: s3.head_bucket(Bucket="left-over-bucket")),
        request={"bucketName": "left-over-bucket"},
    )  # fmt: skip

    dynamodb = w.c("dynamodb")
    dynamodb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    w.created(
        "dynamodb.table", "orders", "CreateTable", "dynamodb",
        lambda: not _missing(lambda: dynamodb.describe_table(TableName="orders")),
        request={"tableName": "orders"},
    )  # fmt: skip

    logs = w.c("logs")
    odd = "/app/it's $(odd) name"  # quotes, $(...) and spaces reach the CLI as one argument
    logs.create_log_group(logGroupName=odd)
    w.created(
        "logs.log_group", odd, "CreateLogGroup", "logs",
        lambda: bool(logs.describe_log_groups(logGroupNamePrefix=odd)["logGroups"]),
        request={"logGroupName": odd},
    )  # fmt: skip

    secrets = w.c("secretsmanager")
    secrets.create_secret(Name="db-password", SecretString="x")

    def secret_alive() -> bool:
        return "DeletedDate" not in secrets.describe_secret(SecretId="db-password")

    w.created(
        "secretsmanager.secret", "db-password", "CreateSecret", "secretsmanager", secret_alive,
        response={"name": "db-password"},
    )  # fmt: skip

    kms = w.c("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    w.created(
        "kms.key", key_id, "CreateKey", "kms",
        lambda: kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] != "PendingDeletion",
        response={"keyMetadata": {"keyId": key_id}},
    )  # fmt: skip

    kinesis = w.c("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    w.created(
        "kinesis.stream", "clicks", "CreateStream", "kinesis",
        lambda: not _missing(lambda: kinesis.describe_stream(StreamName="clicks")),
        request={"streamName": "clicks", "shardCount": 1},
    )  # fmt: skip

    # Not CloudWatch: the pinned aws CLI speaks its JSON protocol, which moto does not serve.

    ecr = w.c("ecr")
    ecr.create_repository(repositoryName="web")
    w.created(
        "ecr.repository", "web", "CreateRepository", "ecr",
        lambda: not _missing(lambda: ecr.describe_repositories(repositoryNames=["web"])),
        request={"repositoryName": "web"},
    )  # fmt: skip

    efs = w.c("efs")
    file_system = efs.create_file_system(CreationToken="shared")["FileSystemId"]
    w.created(
        "efs.file_system", file_system, "CreateFileSystem", "elasticfilesystem",
        lambda: not _missing(lambda: efs.describe_file_systems(FileSystemId=file_system)),
        response={"fileSystemId": file_system},
    )  # fmt: skip

    ssm = w.c("ssm")
    ssm.put_parameter(Name="/big/config", Value="x" * 10, Type="String", Tier="Advanced")
    w.created(
        "ssm.advanced_parameter", "/big/config", "PutParameter", "ssm",
        lambda: not _missing(lambda: ssm.get_parameter(Name="/big/config")),
        request={"name": "/big/config", "tier": "Advanced"},
    )  # fmt: skip

    elbv2 = w.c("elbv2")
    balancer = elbv2.create_load_balancer(Name="front", Subnets=subnets)["LoadBalancers"][0]
    arn = balancer["LoadBalancerArn"]
    w.created(
        "elbv2.load_balancer", arn, "CreateLoadBalancer", "elasticloadbalancing",
        lambda: not _missing(lambda: elbv2.describe_load_balancers(LoadBalancerArns=[arn])),
        response={"loadBalancers": [{"loadBalancerArn": arn, "loadBalancerName": "front"}]},
    )  # fmt: skip


@pytest.fixture
def world(moto: str, make_record: MakeRecord) -> World:
    made = World(moto, make_record)
    build(made)
    return made


@pytest.fixture
def emulator_history(world: World) -> list[dict[str, Any]]:
    return world.records


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"account": ACCOUNT}


def test_the_reviewed_plan_deletes_exactly_the_planned_leftovers(
    world: World, emulator_env: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "leftovers.yaml"
    config.write_text("ignore:\n  - {reason: kept on purpose, tags: {keep: 'yes'}}\n")
    script = tmp_path / "plan.sh"
    status = main(
        ["plan", "--config", str(config), "--region", REGION, "--source", "aws", "-o", str(script)]
    )
    assert status == 0, capsys.readouterr().err
    text = script.read_text()
    assert all(check() for check in world.checks.values())

    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "LEFTOVERS"))
    }
    env.update(
        PATH=f"{Path(AWS_CLI).parent}:{env['PATH']}",
        AWS_ENDPOINT_URL=world.endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_PAGER="",
    )
    env[f"PROFILE_{ACCOUNT}"] = ""
    refused = subprocess.run(
        ["bash", str(script)], check=False, env=env, capture_output=True, text=True
    )
    assert refused.returncode == 3
    assert all(check() for check in world.checks.values())

    env["LEFTOVERS_REVIEWED"] = "yes"
    ran = subprocess.run(
        ["bash", str(script)], check=False, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr + text
    still = sorted(name for name, check in world.checks.items() if check())
    assert still == []
    assert sorted(name for name, check in world.kept.items() if not check()) == []
    commands = [line for line in text.splitlines() if line.startswith("run ")]
    assert len(commands) == len(world.planned)  # the ignored volume is not among them

    def first(words: str) -> int:
        return next(n for n, line in enumerate(commands) if words in line)

    assert first("delete-nat-gateway") < first("release-address")
    assert first("terminate-instances") < first("delete-volume")
    print(json.dumps({"types_deleted_in_moto": len(world.planned)}))
