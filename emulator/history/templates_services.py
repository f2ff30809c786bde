"""Write records of ELBv2, S3, EFS, EKS, Route 53 and helpers, shaped on real samples.

As in `templates`, the comment above each function names the sample it copies.
"""

from __future__ import annotations

import base64
from typing import Any

from emulator.history.envelope import Call, Network, Recorder, java_time
from emulator.history.templates import EFS, EKS, ELB, ROUTE53, S3, Error

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_S3_ID = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"


# elbv2 -------------------------------------------------------------------------------------
_ELB_EXTRA = {"apiVersion": "2015-12-01"}


# awsdocs/elb-application-load-balancers-user-guide/load-balancer-cloudtrail-logs.json
def create_load_balancer(call: Call, name: str, arn: str) -> dict[str, Any]:
    """CreateLoadBalancer (application); the ARN is in `loadBalancers[0].loadBalancerArn`."""
    rec, ts, net = call.rec, call.ts, call.net
    subnets = [subnet for subnet, _ in net.subnets[:2]]
    request = {
        "subnets": subnets,
        "securityGroups": [net.security_group[0]],
        "name": name,
        "scheme": "internet-facing",
        "type": "application",
    }
    suffix = arn.rsplit("/", 1)[-1]
    balancer = {
        "type": "application",
        "loadBalancerName": name,
        "vpcId": net.vpc,
        "securityGroups": [net.security_group[0]],
        "state": {"code": "provisioning"},
        "availabilityZones": [
            {"subnetId": subnet, "zoneName": zone, "loadBalancerAddresses": []}
            for subnet, zone in net.subnets[:2]
        ],
        "dNSName": f"{name}-{int(suffix[:8], 16)}.{rec.region}.elb.amazonaws.com",
        "canonicalHostedZoneId": "Z35SXDOTRQ7X7K",
        "createdTime": java_time(ts),
        "loadBalancerArn": arn,
        "scheme": "internet-facing",
        "ipAddressType": "ipv4",
    }
    response = {"loadBalancers": [balancer]}
    return rec.record(call, ELB, "CreateLoadBalancer", request, response, extra=_ELB_EXTRA)


# aws-spotlight/archive/.../delete/elb/ELASTICLOADBALANCING_DeleteLoadBalancer.json
def delete_load_balancer(call: Call, arn: str) -> dict[str, Any]:
    """DeleteLoadBalancer by ARN."""
    rec = call.rec
    request = {"loadBalancerArn": arn}
    return rec.record(call, ELB, "DeleteLoadBalancer", request, None, extra=_ELB_EXTRA)


# s3 ----------------------------------------------------------------------------------------
def _s3_extra(rec: Recorder) -> dict[str, Any]:
    token = base64.b64encode(rec.rng.getrandbits(384).to_bytes(48, "big")).decode()
    return {
        "additionalEventData": {
            "SignatureVersion": "SigV4",
            "CipherSuite": "TLS_AES_128_GCM_SHA256",
            "bytesTransferredIn": 0,
            "AuthenticationMethod": "AuthHeader",
            "x-amz-id-2": token,
            "bytesTransferredOut": 0,
        }
    }


def _s3_resources(rec: Recorder, bucket: str) -> list[dict[str, str]]:
    return [{"accountId": rec.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]


def _s3_host(rec: Recorder) -> str:
    return "s3.amazonaws.com" if rec.region == "us-east-1" else f"s3.{rec.region}.amazonaws.com"


def _s3_request_id(rec: Recorder) -> str:
    return "".join(rec.rng.choices(_S3_ID, k=16))


# aws-spotlight/backend/cloudtrail/test/services/s3/datas/S3_CreateBucket.json
def create_bucket(call: Call, bucket: str) -> dict[str, Any]:
    """CreateBucket; outside us-east-1 the request names the LocationConstraint."""
    rec = call.rec
    request: dict[str, Any] = {"bucketName": bucket, "Host": _s3_host(rec)}
    if rec.region != "us-east-1":
        request["CreateBucketConfiguration"] = {
            "LocationConstraint": rec.region,
            "xmlns": _S3_XMLNS,
        }
    return rec.record(
        call,
        S3,
        "CreateBucket",
        request,
        None,
        extra=_s3_extra(rec),
        resources=_s3_resources(rec, bucket),
        request_id=_s3_request_id(rec),
    )


# aws-spotlight/backend/cloudtrail/test/services/s3/datas/S3_DeleteBucket.json
def delete_bucket(call: Call, bucket: str, *, error: Error | None = None) -> dict[str, Any]:
    """DeleteBucket (fails with BucketNotEmpty when `error` says so)."""
    rec = call.rec
    return rec.record(
        call,
        S3,
        "DeleteBucket",
        {"bucketName": bucket, "Host": _s3_host(rec)},
        None,
        error=error,
        extra=_s3_extra(rec),
        resources=_s3_resources(rec, bucket),
        request_id=_s3_request_id(rec),
    )


# panther-analysis/cloudtrail_test_logs.jsonl (PutBucketPolicy)
def put_bucket_policy(call: Call, bucket: str) -> dict[str, Any]:
    """PutBucketPolicy: a write that creates nothing."""
    rec = call.rec
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountRead",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{call.rec.account}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    request = {
        "bucketName": bucket,
        "bucketPolicy": policy,
        "host": [_s3_host(rec)],
        "policy": [""],
    }
    return rec.record(
        call,
        S3,
        "PutBucketPolicy",
        request,
        None,
        extra=_s3_extra(rec),
        resources=_s3_resources(rec, bucket),
        request_id=_s3_request_id(rec),
    )


# efs ---------------------------------------------------------------------------------------
_EFS_EXTRA = {"apiVersion": "2015-02-01"}


# aws-spotlight/backend/cloudtrail/test/services/efs/datas/ELASTICFILESYSTEM_CreateFileSystem.json
def create_file_system(call: Call, file_system_id: str, name: str) -> dict[str, Any]:
    """CreateFileSystem; the id is server-made, in `fileSystemId`."""
    rec, ts = call.rec, call.ts
    token = rec.uuid()
    tags = [{"key": "Name", "value": name}]
    request = {"creationToken": token, "encrypted": True, "tags": tags}
    response = {
        "ownerId": rec.account,
        "creationToken": token,
        "fileSystemId": file_system_id,
        "fileSystemArn": (
            f"arn:aws:elasticfilesystem:{rec.region}:{rec.account}:file-system/{file_system_id}"
        ),
        "creationTime": java_time(ts),
        "lifeCycleState": "creating",
        "name": name,
        "numberOfMountTargets": 0,
        "sizeInBytes": {"value": 0, "valueInIA": 0, "valueInStandard": 0},
        "performanceMode": "generalPurpose",
        "encrypted": True,
        "kmsKeyId": f"arn:aws:kms:{rec.region}:{rec.account}:key/{token}",
        "throughputMode": "bursting",
        "tags": tags,
    }
    return rec.record(call, EFS, "CreateFileSystem", request, response, extra=_EFS_EXTRA)


# aws-spotlight/backend/cloudtrail/test/services/efs/datas/ELASTICFILESYSTEM_DeleteFileSystem.json
def delete_file_system(call: Call, file_system_id: str) -> dict[str, Any]:
    """DeleteFileSystem (responseElements null, as recorded)."""
    rec = call.rec
    request = {"fileSystemId": file_system_id}
    return rec.record(call, EFS, "DeleteFileSystem", request, None, extra=_EFS_EXTRA)


# eks ---------------------------------------------------------------------------------------
def _eks_cluster(rec: Recorder, net: Network, name: str, created: int, status: str) -> Any:
    return {
        "name": name,
        "arn": f"arn:aws:eks:{rec.region}:{rec.account}:cluster/{name}",
        "createdAt": float(created),
        "version": "1.29",
        "roleArn": f"arn:aws:iam::{rec.account}:role/eks-cluster-role",
        "resourcesVpcConfig": {
            "subnetIds": [subnet for subnet, _ in net.subnets[:2]],
            "securityGroupIds": [net.security_group[0]],
            "vpcId": net.vpc,
            "endpointPublicAccess": True,
            "endpointPrivateAccess": False,
            "publicAccessCidrs": ["0.0.0.0/0"],
        },
        "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16"},
        "logging": {"clusterLogging": [{"types": ["api", "audit"], "enabled": False}]},
        "status": status,
        "certificateAuthority": {},
        "platformVersion": "eks.7",
        "tags": {},
    }


# aws-spotlight/backend/cloudtrail/test/services/eks/datas/EKS_CreateCluster.json
def create_eks_cluster(call: Call, name: str) -> dict[str, Any]:
    """CreateCluster (EKS); the name is client-chosen."""
    rec, ts, net = call.rec, call.ts, call.net
    request = {
        "resourcesVpcConfig": {
            "subnetIds": [subnet for subnet, _ in net.subnets[:2]],
            "securityGroupIds": [net.security_group[0]],
            "endpointPublicAccess": True,
            "endpointPrivateAccess": False,
        },
        "roleArn": f"arn:aws:iam::{rec.account}:role/eks-cluster-role",
        "name": name,
        "logging": {"clusterLogging": [{"enabled": False, "types": ["api", "audit"]}]},
        "version": "1.29",
        "tags": {},
    }
    response = {"cluster": _eks_cluster(rec, net, name, ts, "CREATING")}
    return rec.record(call, EKS, "CreateCluster", request, response)


# aws-spotlight/backend/cloudtrail/test/services/eks/datas/EKS_DeleteCluster.json
def delete_eks_cluster(call: Call, name: str, created: int) -> dict[str, Any]:
    """DeleteCluster (EKS) by name."""
    rec, net = call.rec, call.net
    response = {"cluster": _eks_cluster(rec, net, name, created, "DELETING")}
    return rec.record(call, EKS, "DeleteCluster", {"name": name}, response)


# route 53 (global: recorded in us-east-1) --------------------------------------------------
_R53_EXTRA = {"apiVersion": "2013-04-01"}


def _change_info(rec: Recorder, ts: int) -> dict[str, str]:
    change = rec.upper_id("/change/C", 20, _UPPER)
    return {"id": change, "status": "PENDING", "submittedAt": java_time(ts)}


# aws-spotlight/backend/cloudtrail/test/services/route53/datas/ROUTE53_CreateHostedZone.json
def create_hosted_zone(call: Call, zone_id: str, domain: str) -> dict[str, Any]:
    """CreateHostedZone; the response's id reads `/hostedzone/Z...`, the name ends with a dot."""
    rec, ts = call.rec, call.ts
    reference = rec.uuid()
    config = {"comment": "", "privateZone": False}
    response = {
        "hostedZone": {
            "id": f"/hostedzone/{zone_id}",
            "name": f"{domain}.",
            "callerReference": reference,
            "config": config,
            "resourceRecordSetCount": 2,
        },
        "changeInfo": _change_info(rec, ts),
        "delegationSet": {
            "nameServers": [
                f"ns-{rec.rng.randint(1, 2047)}.awsdns-{rec.rng.randint(0, 63):02d}.{tld}"
                for tld in ("org", "co.uk", "com", "net")
            ]
        },
        "location": f"https://route53.amazonaws.com/2013-04-01/hostedzone/{zone_id}",
    }
    request = {"name": domain, "callerReference": reference, "hostedZoneConfig": config}
    return rec.record(
        call,
        ROUTE53,
        "CreateHostedZone",
        request,
        response,
        extra=_R53_EXTRA,
        region="us-east-1",
    )


# aws-spotlight/backend/cloudtrail/test/services/route53/datas/ROUTE53_DeleteHostedZone.json
def delete_hosted_zone(call: Call, zone_id: str) -> dict[str, Any]:
    """DeleteHostedZone by bare zone id."""
    rec, ts = call.rec, call.ts
    response = {"changeInfo": _change_info(rec, ts)}
    return rec.record(
        call,
        ROUTE53,
        "DeleteHostedZone",
        {"id": zone_id},
        response,
        extra=_R53_EXTRA,
        region="us-east-1",
    )


# helpers that create nothing tracked --------------------------------------------------------
# aws-spotlight/archive/backend/src/cloudtrail/test/datas/create/LOGS_CreateLogGroup.json
def create_log_group(call: Call, name: str) -> dict[str, Any]:
    """CreateLogGroup (CloudWatch Logs)."""
    rec = call.rec
    return rec.record(
        call,
        "logs.amazonaws.com",
        "CreateLogGroup",
        {"logGroupName": name},
        None,
        extra={"apiVersion": "20140328"},
    )


# aws-spotlight/.../services/cloudformation/datas/CLOUDFORMATION_CreateStack.json
def create_stack(call: Call, stack: str, stack_id: str) -> dict[str, Any]:
    """CreateStack by a user; the stack's role then makes the resource calls."""
    rec = call.rec
    request = {
        "stackName": stack,
        "capabilities": ["CAPABILITY_IAM"],
        "onFailure": "ROLLBACK",
        "parameters": [],
        "tags": [],
    }
    source = "cloudformation.amazonaws.com"
    return rec.record(call, source, "CreateStack", request, {"stackId": stack_id})


# aws-spotlight/.../services/cloudformation/datas/CLOUDFORMATION_DeleteStack.json
def delete_stack(call: Call, stack_id: str) -> dict[str, Any]:
    """DeleteStack by stack ARN."""
    rec = call.rec
    source = "cloudformation.amazonaws.com"
    return rec.record(call, source, "DeleteStack", {"stackName": stack_id}, None)


# aws-spotlight/.../services/autoscaling/datas/AUTOSCALING_CreateAutoScalingGroup.json
def create_asg(call: Call, name: str, size: int) -> dict[str, Any]:
    """CreateAutoScalingGroup; instances are then launched by the Auto Scaling role."""
    rec, net = call.rec, call.net
    request = {
        "autoScalingGroupName": name,
        "launchConfigurationName": f"{name}-lc",
        "minSize": 0,
        "maxSize": size + 2,
        "desiredCapacity": size,
        "vPCZoneIdentifier": ",".join(subnet for subnet, _ in net.subnets),
        "tags": [],
    }
    source = "autoscaling.amazonaws.com"
    return rec.record(call, source, "CreateAutoScalingGroup", request, None)


# aws-spotlight/.../services/autoscaling/datas/AUTOSCALING_DeleteAutoScalingGroup.json
def delete_asg(call: Call, name: str) -> dict[str, Any]:
    """DeleteAutoScalingGroup with forceDelete (the role then terminates its instances)."""
    rec = call.rec
    request = {"forceDelete": True, "autoScalingGroupName": name}
    source = "autoscaling.amazonaws.com"
    return rec.record(call, source, "DeleteAutoScalingGroup", request, None)
