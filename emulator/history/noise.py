"""Read-only calls, which outnumber writes many times in real accounts, made lazily and fast."""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from emulator.history.actors import Actor, Cast
from emulator.history.envelope import EVENT_VERSION, Call, Network, Recorder

# (eventSource, eventName, weight, global: recorded in us-east-1 only). The request shapes
# follow the read records in the samples (stratus-red-team DescribeInstances, panther
# DescribeSecurityGroups/GetBucketAcl/GetBucketPolicy/GetCallerIdentity, awsdocs ListBuckets
# and ListHostedZones); CloudTrail leaves `responseElements` null for reads.
_READS: tuple[tuple[str, str, int, bool], ...] = (
    ("ec2.amazonaws.com", "DescribeInstances", 20, False),
    ("ec2.amazonaws.com", "DescribeInstanceStatus", 5, False),
    ("ec2.amazonaws.com", "DescribeVolumes", 6, False),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", 5, False),
    ("ec2.amazonaws.com", "DescribeSnapshots", 3, False),
    ("ec2.amazonaws.com", "DescribeAddresses", 2, False),
    ("ec2.amazonaws.com", "DescribeRegions", 2, False),
    ("s3.amazonaws.com", "ListBuckets", 6, False),
    ("s3.amazonaws.com", "GetBucketAcl", 3, False),
    ("s3.amazonaws.com", "GetBucketPolicy", 2, False),
    ("s3.amazonaws.com", "GetBucketLocation", 3, False),
    ("rds.amazonaws.com", "DescribeDBInstances", 5, False),
    ("rds.amazonaws.com", "DescribeDBClusters", 2, False),
    ("elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers", 3, False),
    ("elasticloadbalancing.amazonaws.com", "DescribeTargetGroups", 2, False),
    ("elasticfilesystem.amazonaws.com", "DescribeFileSystems", 1, False),
    ("eks.amazonaws.com", "ListClusters", 1, False),
    ("sts.amazonaws.com", "GetCallerIdentity", 6, False),
    ("logs.amazonaws.com", "DescribeLogGroups", 3, False),
    ("cloudtrail.amazonaws.com", "LookupEvents", 2, False),
    ("iam.amazonaws.com", "ListUsers", 2, True),
    ("iam.amazonaws.com", "ListRoles", 2, True),
    ("iam.amazonaws.com", "GetUser", 1, True),
    ("route53.amazonaws.com", "ListHostedZones", 1, True),
)


def _requests(name: str, net: Network, bucket: str, host: str) -> Any:
    """The requestParameters of one read (shared between records: never mutated)."""
    shapes: dict[str, Any] = {
        "DescribeInstances": {"instancesSet": {}, "filterSet": {}},
        "DescribeInstanceStatus": {
            "instancesSet": {},
            "filterSet": {},
            "includeAllInstances": True,
        },
        "DescribeVolumes": {"volumeSet": {}, "filterSet": {}},
        "DescribeSecurityGroups": {
            "securityGroupSet": {},
            "securityGroupIdSet": {},
            "filterSet": {
                "items": [{"name": "vpc-id", "valueSet": {"items": [{"value": net.vpc}]}}]
            },
        },
        "DescribeSnapshots": {
            "snapshotSet": {},
            "ownersSet": {"items": [{"owner": "self"}]},
            "sharedUsersSet": {},
            "filterSet": {},
        },
        "DescribeAddresses": {"publicIpsSet": {}, "allocationIdsSet": {}, "filterSet": {}},
        "DescribeRegions": {"regionSet": {}},
        "ListBuckets": {"host": [host]},
        "GetBucketAcl": {"host": [host], "bucketName": bucket, "acl": [""]},
        "GetBucketPolicy": {"host": [host], "bucketName": bucket, "policy": [""]},
        "GetBucketLocation": {"host": [host], "bucketName": bucket, "location": [""]},
        "DescribeDBInstances": {"maxRecords": 100},
        "DescribeDBClusters": {"includeShared": False},
        "DescribeLoadBalancers": {"pageSize": 400},
        "DescribeTargetGroups": {"pageSize": 400},
        "DescribeFileSystems": None,
        "ListClusters": {"maxResults": 100},
        "GetCallerIdentity": None,
        "DescribeLogGroups": {"limit": 50},
        "LookupEvents": {"maxResults": 50},
        "ListUsers": None,
        "ListRoles": None,
        "GetUser": None,
        "ListHostedZones": None,
    }
    return shapes[name]


class Noise:
    """Makes the read records of one (account, region) at given times, from its own seed."""

    def __init__(
        self, rng: random.Random, rec: Recorder, cast: Cast, net: Network, global_ok: bool
    ):
        self.rng = rng
        self.rec = rec
        self.net = net
        bucket = f"cf-templates-{rec.account}-{rec.region}"  # a bucket older than the history
        host = "s3.amazonaws.com" if rec.region == "us-east-1" else f"s3.{rec.region}.amazonaws.com"
        self.kinds: list[tuple[str, str, Any, str | None]] = []
        weights: list[int] = []
        for source, name, weight, is_global in _READS:
            if is_global and not global_ok:
                continue
            region = "us-east-1" if is_global else None
            self.kinds.append((source, name, _requests(name, net, bucket, host), region))
            weights.append(weight)
        total = float(sum(weights))
        acc = 0.0
        self.cumulative = []
        for weight in weights:
            acc += weight / total
            self.cumulative.append(acc)
        self.cumulative[-1] = 1.0  # so that bisect never runs past the last kind
        readers, humans = cast.readers, cast.humans
        # Monitoring and scripts read most; people read too (the console polls).
        self.actors: list[Actor] = [*readers, *readers, *readers, *humans]
        self.s3_extra = {
            "additionalEventData": {
                "SignatureVersion": "SigV4",
                "CipherSuite": "TLS_AES_128_GCM_SHA256",
                "bytesTransferredIn": 0,
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": "",
                "bytesTransferredOut": 0,
            }
        }

    def times(self, count: int) -> list[int]:
        """`count` sorted times in the window, busier in working hours."""
        start, end = self.rec.start, self.rec.end
        span = end - start
        rand = self.rng.random
        out = []
        for _ in range(count):
            ts = start + int(rand() * span)
            if rand() < 0.5:  # pull half of them into 07:00-20:00 UTC of the same day
                candidate = ts - ts % 86400 + 25200 + int(rand() * 46800)
                if start <= candidate <= end:
                    ts = candidate
            out.append(ts)
        out.sort()
        return out

    def records(self, times: list[int]) -> Iterator[tuple[int, dict[str, Any]]]:
        """A read record at each time (built inline: reads are most of a history)."""
        rand = self.rng.random
        kinds, cumulative, actors = self.kinds, self.cumulative, self.actors
        rec, net = self.rec, self.net
        uuid, time_text, account = rec.uuid, rec.time_text, rec.account
        actor_count = len(actors)
        for ts in times:
            source, name, request, region = kinds[bisect_left(cumulative, rand())]
            actor = actors[int(rand() * actor_count)]
            if rand() < 0.01:
                message = f"User: {actor.arn} is not authorized to perform this action"
                yield (
                    ts,
                    rec.record(
                        Call(rec, ts, actor, net),
                        source,
                        name,
                        request,
                        None,
                        read_only=True,
                        error=("AccessDenied", message),
                        region=region,
                    ),
                )
                continue
            where = region or rec.region
            agent, tls = actor.client_fields(source, name, where)
            body: dict[str, Any] = {
                "eventVersion": EVENT_VERSION,
                "userIdentity": actor.identity(ts // 86400),
                "eventTime": time_text(ts),
                "eventSource": source,
                "eventName": name,
                "awsRegion": where,
                "sourceIPAddress": actor.source_ip,
                "userAgent": agent,
                "requestParameters": request,
                "responseElements": None,
                "requestID": uuid(),
                "eventID": uuid(),
                "readOnly": True,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": account,
                "eventCategory": "Management",
                "tlsDetails": tls,
            }
            if source == "s3.amazonaws.com":
                body.update(self.s3_extra)
            if actor.client == "console":
                body["sessionCredentialFromConsole"] = "true"
            yield ts, body
