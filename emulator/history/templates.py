"""Write records of every catalog type, shaped on real CloudTrail samples (named per template).

Each function builds one record through a `Recorder`; the comment above it names the sample in
../shared/cloudtrail-samples whose requestParameters and responseElements it copies.
"""

from __future__ import annotations

from typing import Any

from emulator.history.envelope import Call, Network, Recorder

EC2 = "ec2.amazonaws.com"
RDS = "rds.amazonaws.com"
ELB = "elasticloadbalancing.amazonaws.com"
S3 = "s3.amazonaws.com"
EFS = "elasticfilesystem.amazonaws.com"
EKS = "eks.amazonaws.com"
ROUTE53 = "route53.amazonaws.com"
EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_S3_REQUEST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

Error = tuple[str, str]


def network(rec: Recorder) -> Network:
    """A VPC with subnets in three zones, a security group and a few AMIs."""
    zones = ("a", "b", "c")
    return Network(
        vpc=rec.hex_id("vpc-"),
        subnets=tuple((rec.hex_id("subnet-"), f"{rec.region}{zone}") for zone in zones),
        security_group=(rec.hex_id("sg-"), "default"),
        amis=tuple(rec.hex_id("ami-") for _ in range(3)),
    )


def _items(key: str, values: list[str]) -> dict[str, Any]:
    return {"items": [{key: value} for value in values]}


def _private_ip(rec: Recorder) -> str:
    bits = rec.rng.getrandbits(16)
    return f"10.0.{bits >> 8}.{(bits & 255) or 1}"


# ec2 --------------------------------------------------------------------------------------
# aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_RunInstances.json
def run_instances(
    call: Call,
    instance_ids: list[str],
    instance_type: str,
    name: str,
    *,
    error: Error | None = None,
    extra_tags: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """RunInstances for `len(instance_ids)` instances (minCount = maxCount); failed: no ids.

    `extra_tags` join the instances' tags (a group or stack tags the instances it launches).
    """
    rec, ts, actor, net = call.rec, call.ts, call.actor, call.net
    count = max(len(instance_ids), 1)
    subnet, zone = net.subnets[rec.rng.randrange(len(net.subnets))]
    ami = net.amis[rec.rng.randrange(len(net.amis))]
    tags = [{"key": "Name", "value": name}, *({"key": k, "value": v} for k, v in extra_tags)]
    request: dict[str, Any] = {
        "instancesSet": {"items": [{"imageId": ami, "minCount": count, "maxCount": count}]},
        "instanceType": instance_type,
        "blockDeviceMapping": {},
        "monitoring": {"enabled": False},
        "disableApiTermination": False,
        "disableApiStop": False,
        "clientToken": rec.uuid(),
        "subnetId": subnet,
        "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": tags}]},
    }
    if error is not None:
        return rec.record(call, EC2, "RunInstances", request, None, error=error)
    request_id = rec.uuid()
    group_id, group_name = net.security_group
    items = []
    for index, instance_id in enumerate(instance_ids):
        ip = _private_ip(rec)
        dns = f"ip-{ip.replace('.', '-')}.{rec.region}.compute.internal"
        items.append(
            {
                "instanceId": instance_id,
                "imageId": ami,
                "instanceState": {"code": 0, "name": "pending"},
                "privateDnsName": dns,
                "amiLaunchIndex": index,
                "productCodes": {},
                "instanceType": instance_type,
                "launchTime": ts * 1000,
                "placement": {"availabilityZone": zone, "tenancy": "default"},
                "monitoring": {"state": "disabled"},
                "subnetId": subnet,
                "vpcId": net.vpc,
                "privateIpAddress": ip,
                "stateReason": {"code": "pending", "message": "pending"},
                "architecture": "x86_64",
                "rootDeviceType": "ebs",
                "rootDeviceName": "/dev/xvda",
                "blockDeviceMapping": {},
                "virtualizationType": "hvm",
                "hypervisor": "xen",
                "tagSet": {"items": tags},
                "groupSet": {"items": [{"groupId": group_id, "groupName": group_name}]},
                "sourceDestCheck": True,
                "ebsOptimized": False,
                "enaSupport": True,
                "cpuOptions": {"coreCount": 1, "threadsPerCore": 2},
                "capacityReservationSpecification": {"capacityReservationPreference": "open"},
                "hibernationOptions": {"configured": False},
                "enclaveOptions": {"enabled": False},
                "metadataOptions": {
                    "state": "pending",
                    "httpTokens": "required",
                    "httpPutResponseHopLimit": 2,
                    "httpEndpoint": "enabled",
                },
            }
        )
    response: dict[str, Any] = {
        "requestId": request_id,
        "reservationId": rec.hex_id("r-"),
        "ownerId": rec.account,
        "groupSet": {},
        "instancesSet": {"items": items},
    }
    if actor.invoked_by == "autoscaling.amazonaws.com":
        response["requesterId"] = "226008221399"
    return rec.record(call, EC2, "RunInstances", request, response, request_id=request_id)


_STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "stopping": 64, "stopped": 80}


# awsdocs/aws-cloudtrail-user-guide/cloudtrail-log-file-examples.json (StopInstances,
# StartInstances); aws-spotlight .../ec2/datas/EC2_TerminateInstances.json
def instance_state_change(
    call: Call,
    name: str,
    changes: list[tuple[str, str, str]],
    *,
    error: Error | None = None,
) -> dict[str, Any]:
    """Stop/Start/TerminateInstances: `changes` holds (instance id, previous, current) states."""
    rec = call.rec
    request: dict[str, Any] = {"instancesSet": _items("instanceId", [c[0] for c in changes])}
    if name == "StopInstances":
        request["force"] = False
    if error is not None:
        return rec.record(call, EC2, name, request, None, error=error)
    request_id = rec.uuid()
    items = [
        {
            "instanceId": instance_id,
            "currentState": {"code": _STATE_CODES[current], "name": current},
            "previousState": {"code": _STATE_CODES[previous], "name": previous},
        }
        for instance_id, previous, current in changes
    ]
    response = {"requestId": request_id, "instancesSet": {"items": items}}
    return rec.record(call, EC2, name, request, response, request_id=request_id)


# aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_CreateVolume.json
def create_volume(call: Call, volume_id: str, size: int, name: str) -> dict[str, Any]:
    """CreateVolume (gp3)."""
    rec, ts, net = call.rec, call.ts, call.net
    zone = net.subnets[rec.rng.randrange(len(net.subnets))][1]
    tags = [{"key": "Name", "value": name}]
    request = {
        "size": str(size),
        "zone": zone,
        "volumeType": "gp3",
        "iops": "3000",
        "encrypted": True,
        "tagSpecificationSet": {"items": [{"resourceType": "volume", "tags": tags}]},
        "throughput": "125",
    }
    request_id = rec.uuid()
    response = {
        "requestId": request_id,
        "volumeId": volume_id,
        "size": str(size),
        "zone": zone,
        "status": "creating",
        "createTime": ts * 1000,
        "volumeType": "gp3",
        "iops": 3000,
        "encrypted": True,
        "tagSet": {"items": tags},
        "multiAttachEnabled": False,
        "throughput": 125,
    }
    return rec.record(call, EC2, "CreateVolume", request, response, request_id=request_id)


# aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_DeleteVolume.json
def delete_volume(call: Call, volume_id: str) -> dict[str, Any]:
    """DeleteVolume."""
    rec = call.rec
    return rec.record(call, EC2, "DeleteVolume", {"volumeId": volume_id}, {"_return": True})


# aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_CreateSnapshot.json
def create_snapshot(call: Call, snapshot_id: str, volume_id: str, size: int) -> dict[str, Any]:
    """CreateSnapshot of a volume."""
    rec, ts = call.rec, call.ts
    description = f"backup of {volume_id}"
    request_id = rec.uuid()
    response = {
        "requestId": request_id,
        "snapshotId": snapshot_id,
        "volumeId": volume_id,
        "status": "pending",
        "startTime": ts * 1000,
        "ownerId": rec.account,
        "volumeSize": str(size),
        "encrypted": True,
        "description": description,
        "tagSet": {},
    }
    request = {"volumeId": volume_id, "description": description}
    return rec.record(call, EC2, "CreateSnapshot", request, response, request_id=request_id)


# aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_DeleteSnapshot.json
def delete_snapshot(call: Call, snapshot_id: str) -> dict[str, Any]:
    """DeleteSnapshot."""
    rec = call.rec
    request_id = rec.uuid()
    request = {"snapshotId": snapshot_id, "force": False}
    response = {"requestId": request_id, "_return": True}
    return rec.record(call, EC2, "DeleteSnapshot", request, response, request_id=request_id)


# aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_AllocateAddress.json
def allocate_address(call: Call, allocation_id: str) -> dict[str, Any]:
    """AllocateAddress in the VPC domain."""
    rec = call.rec
    request_id = rec.uuid()
    bits = rec.rng.getrandbits(16)
    response = {
        "requestId": request_id,
        "publicIp": f"203.0.113.{bits & 255}" if bits & 256 else f"198.51.100.{bits & 255}",
        "domain": "vpc",
        "allocationId": allocation_id,
        "publicIpv4Pool": "amazon",
        "networkBorderGroup": rec.region,
    }
    request = {"domain": "vpc", "networkBorderGroup": rec.region}
    return rec.record(call, EC2, "AllocateAddress", request, response, request_id=request_id)


# aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_ReleaseAddress.json
def release_address(call: Call, allocation_id: str) -> dict[str, Any]:
    """ReleaseAddress by allocation id."""
    rec = call.rec
    request_id = rec.uuid()
    request = {"allocationId": allocation_id, "networkBorderGroup": rec.region}
    response = {"requestId": request_id, "_return": True}
    return rec.record(call, EC2, "ReleaseAddress", request, response, request_id=request_id)


# aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_CreateNatGateway.json
def create_nat_gateway(call: Call, nat_id: str, allocation_id: str) -> dict[str, Any]:
    """CreateNatGateway: request and response wrapped in `CreateNatGateway{Request,Response}`."""
    rec, ts, net = call.rec, call.ts, call.net
    subnet = net.subnets[0][0]
    request_id = rec.uuid()
    request = {"CreateNatGatewayRequest": {"AllocationId": allocation_id, "SubnetId": subnet}}
    created = rec.time_text(ts).replace("Z", ".000Z")
    response = {
        "CreateNatGatewayResponse": {
            "xmlns": EC2_XMLNS,
            "natGateway": {
                "connectivityType": "public",
                "subnetId": subnet,
                "natGatewayAddressSet": {"item": {"allocationId": allocation_id}},
                "createTime": created,
                "vpcId": net.vpc,
                "natGatewayId": nat_id,
                "state": "pending",
            },
            "requestId": request_id,
        }
    }
    return rec.record(call, EC2, "CreateNatGateway", request, response, request_id=request_id)


# aws-spotlight/backend/cloudtrail/test/services/ec2/datas/EC2_DeleteNatGateway.json
def delete_nat_gateway(call: Call, nat_id: str) -> dict[str, Any]:
    """DeleteNatGateway: wrapped in `DeleteNatGateway{Request,Response}`."""
    rec = call.rec
    request_id = rec.uuid()
    request = {"DeleteNatGatewayRequest": {"NatGatewayId": nat_id}}
    response = {
        "DeleteNatGatewayResponse": {
            "xmlns": EC2_XMLNS,
            "requestId": request_id,
            "natGatewayId": nat_id,
        }
    }
    return rec.record(call, EC2, "DeleteNatGateway", request, response, request_id=request_id)


# No EC2 CreateTags sample exists; the shape is that of the EC2 API (resourcesSet, tagSet).
def create_tags(call: Call, resource_id: str) -> dict[str, Any]:
    """CreateTags on one EC2 resource (a write that creates nothing)."""
    rec = call.rec
    request_id = rec.uuid()
    owner = rec.rng.choice(("team-a", "team-b", "platform", "data"))
    request = {
        "resourcesSet": _items("resourceId", [resource_id]),
        "tagSet": {"items": [{"key": "owner", "value": owner}]},
    }
    response = {"requestId": request_id, "_return": True}
    return rec.record(call, EC2, "CreateTags", request, response, request_id=request_id)


# stratus-red-team/detonation-logs/aws.exfiltration.ec2-security-group-open-port-22-ingress.json
def authorize_ingress(call: Call) -> dict[str, Any]:
    """AuthorizeSecurityGroupIngress of one port from one address (creates nothing we track)."""
    rec, net = call.rec, call.net
    port = rec.rng.choice((22, 443, 5432, 3306, 8080))
    cidr = f"198.51.100.{rec.rng.randint(1, 254)}/32"
    group_id = net.security_group[0]
    request = {
        "groupId": group_id,
        "ipPermissions": {},
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "cidrIp": cidr,
    }
    request_id = rec.uuid()
    rule = {
        "groupOwnerId": rec.account,
        "groupId": group_id,
        "securityGroupRuleId": rec.hex_id("sgr-"),
        "isEgress": False,
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "cidrIpv4": cidr,
    }
    response = {"requestId": request_id, "_return": True, "securityGroupRuleSet": {"items": [rule]}}
    return rec.record(
        call, EC2, "AuthorizeSecurityGroupIngress", request, response, request_id=request_id
    )
