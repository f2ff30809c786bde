"""Write records of RDS DB instances and clusters, shaped on real samples (named per template).

RDS keeps identifiers in lower case: the request shows them as typed, the response lowered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.history.envelope import Call, Network, Recorder, java_time
from emulator.history.templates import RDS, Error


@dataclass(slots=True)
class DbInstance:
    """What RDS echoes about one DB instance."""

    identifier: str  # as RDS stores it: lower case
    instance_class: str
    engine: str
    engine_version: str
    resource_id: str  # dbiResourceId
    zone: str
    created: int


def _db_body(rec: Recorder, net: Network, db: DbInstance, status: str) -> dict[str, Any]:
    group_id = net.security_group[0]
    return {
        "dBInstanceIdentifier": db.identifier,
        "dBInstanceClass": db.instance_class,
        "engine": db.engine,
        "dBInstanceStatus": status,
        "masterUsername": "admin",
        "allocatedStorage": 20,
        "preferredBackupWindow": "03:00-03:30",
        "backupRetentionPeriod": 7,
        "dBSecurityGroups": [],
        "vpcSecurityGroups": [{"vpcSecurityGroupId": group_id, "status": "active"}],
        "dBParameterGroups": [
            {"dBParameterGroupName": f"default.{db.engine}8.0", "parameterApplyStatus": "in-sync"}
        ],
        "availabilityZone": db.zone,
        "dBSubnetGroup": {
            "dBSubnetGroupName": f"default-{net.vpc}",
            "dBSubnetGroupDescription": "Created from the RDS Management Console",
            "vpcId": net.vpc,
            "subnetGroupStatus": "Complete",
            "subnets": [
                {
                    "subnetIdentifier": subnet,
                    "subnetAvailabilityZone": {"name": zone},
                    "subnetOutpost": {},
                    "subnetStatus": "Active",
                }
                for subnet, zone in net.subnets
            ],
        },
        "preferredMaintenanceWindow": "sun:05:00-sun:05:30",
        "pendingModifiedValues": {},
        "multiAZ": False,
        "engineVersion": db.engine_version,
        "autoMinorVersionUpgrade": True,
        "readReplicaDBInstanceIdentifiers": [],
        "licenseModel": "general-public-license",
        "optionGroupMemberships": [{"optionGroupName": "default:mysql-8-0", "status": "in-sync"}],
        "publiclyAccessible": False,
        "storageType": "gp3",
        "dbInstancePort": 0,
        "storageEncrypted": True,
        "dbiResourceId": db.resource_id,
        "cACertificateIdentifier": "rds-ca-rsa2048-g1",
        "domainMemberships": [],
        "copyTagsToSnapshot": True,
        "monitoringInterval": 0,
        "dBInstanceArn": f"arn:aws:rds:{rec.region}:{rec.account}:db:{db.identifier}",
        "iAMDatabaseAuthenticationEnabled": False,
        "performanceInsightsEnabled": False,
        "deletionProtection": False,
        "associatedRoles": [],
        "tagList": [],
        "customerOwnedIpEnabled": False,
        "networkType": "IPV4",
    }


# aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_CreateDBInstance.json
def create_db_instance(
    call: Call,
    requested_id: str,
    db: DbInstance,
    *,
    error: Error | None = None,
) -> dict[str, Any]:
    """CreateDBInstance: the id as typed (any case) in the request, lower case in the response."""
    rec, net = call.rec, call.net
    request = {
        "dBInstanceIdentifier": requested_id,
        "allocatedStorage": 20,
        "dBInstanceClass": db.instance_class,
        "engine": db.engine,
        "masterUsername": "admin",
        "masterUserPassword": "****",
        "vpcSecurityGroupIds": [net.security_group[0]],
        "dBSubnetGroupName": f"default-{net.vpc}",
        "backupRetentionPeriod": 7,
        "multiAZ": False,
        "engineVersion": db.engine_version,
        "autoMinorVersionUpgrade": True,
        "publiclyAccessible": False,
        "storageType": "gp3",
        "storageEncrypted": True,
        "copyTagsToSnapshot": True,
        "deletionProtection": False,
    }
    if error is not None:
        return rec.record(call, RDS, "CreateDBInstance", request, None, error=error)
    body = _db_body(rec, net, db, "creating")
    body["pendingModifiedValues"] = {"masterUserPassword": "****"}
    return rec.record(call, RDS, "CreateDBInstance", request, body)


# aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_DeleteDBInstance.json
def delete_db_instance(
    call: Call,
    requested_id: str,
    db: DbInstance,
    *,
    error: Error | None = None,
) -> dict[str, Any]:
    """DeleteDBInstance, skipping the final snapshot."""
    rec, net = call.rec, call.net
    request = {
        "dBInstanceIdentifier": requested_id,
        "skipFinalSnapshot": True,
        "deleteAutomatedBackups": True,
    }
    if error is not None:
        return rec.record(call, RDS, "DeleteDBInstance", request, None, error=error)
    body = _db_body(rec, net, db, "deleting")
    body["instanceCreateTime"] = java_time(db.created)
    return rec.record(call, RDS, "DeleteDBInstance", request, body)


# No StopDBInstance sample; StartDBInstance: panther-analysis/cloudtrail_test_logs.jsonl. The
# response is the DBInstance structure, as for the other DB instance calls.
def db_instance_state(call: Call, name: str, requested_id: str, db: DbInstance) -> dict[str, Any]:
    """StopDBInstance or StartDBInstance."""
    rec, net = call.rec, call.net
    status = "stopping" if name == "StopDBInstance" else "starting"
    body = _db_body(rec, net, db, status)
    return rec.record(call, RDS, name, {"dBInstanceIdentifier": requested_id}, body)


# aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_ModifyDBInstance.json
def rename_db_instance(
    call: Call,
    requested_id: str,
    new_id: str,
    db: DbInstance,
) -> dict[str, Any]:
    """ModifyDBInstance renaming now: the response still shows the old id, the new one pending."""
    rec, net = call.rec, call.net
    request = {
        "dBInstanceIdentifier": requested_id,
        "applyImmediately": True,
        "allowMajorVersionUpgrade": False,
        "newDBInstanceIdentifier": new_id,
    }
    body = _db_body(rec, net, db, "available")
    body["pendingModifiedValues"] = {"dBInstanceIdentifier": new_id.lower()}
    body["instanceCreateTime"] = java_time(db.created)
    return rec.record(call, RDS, "ModifyDBInstance", request, body)


@dataclass(slots=True)
class DbCluster:
    """What RDS echoes about one Aurora cluster."""

    identifier: str  # lower case
    resource_id: str
    created: int
    zones: tuple[str, ...]


def _cluster_body(rec: Recorder, net: Network, db: DbCluster, status: str) -> dict[str, Any]:
    endpoint_id = rec.account[-6:]
    return {
        "allocatedStorage": 1,
        "availabilityZones": list(db.zones),
        "backupRetentionPeriod": 7,
        "databaseName": "",
        "dBClusterIdentifier": db.identifier,
        "dBClusterParameterGroup": "default.aurora-postgresql15",
        "dBSubnetGroup": "default",
        "status": status,
        "endpoint": f"{db.identifier}.cluster-c{endpoint_id}.{rec.region}.rds.amazonaws.com",
        "readerEndpoint": (
            f"{db.identifier}.cluster-ro-c{endpoint_id}.{rec.region}.rds.amazonaws.com"
        ),
        "multiAZ": False,
        "engine": "aurora-postgresql",
        "engineVersion": "15.4",
        "port": 5432,
        "masterUsername": "postgres",
        "preferredBackupWindow": "04:00-04:30",
        "preferredMaintenanceWindow": "sat:06:00-sat:06:30",
        "readReplicaIdentifiers": [],
        "dBClusterMembers": [],
        "vpcSecurityGroups": [{"vpcSecurityGroupId": net.security_group[0], "status": "active"}],
        "hostedZoneId": "Z2R2ITUGPM61AM",
        "storageEncrypted": True,
        "dbClusterResourceId": db.resource_id,
        "dBClusterArn": f"arn:aws:rds:{rec.region}:{rec.account}:cluster:{db.identifier}",
        "associatedRoles": [],
        "iAMDatabaseAuthenticationEnabled": False,
        "clusterCreateTime": java_time(db.created),
        "engineMode": "provisioned",
        "deletionProtection": False,
        "httpEndpointEnabled": False,
        "copyTagsToSnapshot": True,
        "crossAccountClone": False,
        "domainMemberships": [],
        "tagList": [],
    }


# aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_CreateDBCluster.json
def create_db_cluster(call: Call, requested_id: str, db: DbCluster) -> dict[str, Any]:
    """CreateDBCluster (Aurora PostgreSQL); the id as typed in the request, lower in the reply."""
    rec, net = call.rec, call.net
    request = {
        "backupRetentionPeriod": 7,
        "dBClusterIdentifier": requested_id,
        "vpcSecurityGroupIds": [net.security_group[0]],
        "dBSubnetGroupName": "default",
        "engine": "aurora-postgresql",
        "engineVersion": "15.4",
        "port": 5432,
        "masterUsername": "postgres",
        "masterUserPassword": "****",
        "storageEncrypted": True,
        "engineMode": "provisioned",
        "deletionProtection": False,
        "copyTagsToSnapshot": True,
    }
    body = _cluster_body(rec, net, db, "creating")
    return rec.record(call, RDS, "CreateDBCluster", request, body)


# aws-spotlight/backend/cloudtrail/test/services/rds/datas/RDS_DeleteDBCluster.json
def delete_db_cluster(call: Call, requested_id: str, db: DbCluster) -> dict[str, Any]:
    """DeleteDBCluster; `requested_id` may be the cluster's name or its ARN."""
    rec, net = call.rec, call.net
    request = {"dBClusterIdentifier": requested_id, "skipFinalSnapshot": True}
    body = _cluster_body(rec, net, db, "deleting")
    return rec.record(call, RDS, "DeleteDBCluster", request, body)


# No StopDBCluster/StartDBCluster sample; the response is the DBCluster structure.
def rename_db_cluster(call: Call, requested_id: str, new_id: str, db: DbCluster) -> dict[str, Any]:
    """ModifyDBCluster renaming now (newDBClusterIdentifier), with the cluster as RDS echoes it."""
    rec, net = call.rec, call.net
    request = {
        "dBClusterIdentifier": requested_id,
        "newDBClusterIdentifier": new_id,
        "applyImmediately": True,
    }
    return rec.record(
        call, RDS, "ModifyDBCluster", request, _cluster_body(rec, net, db, "available")
    )


def db_cluster_state(call: Call, name: str, requested_id: str, db: DbCluster) -> dict[str, Any]:
    """StopDBCluster or StartDBCluster."""
    rec, net = call.rec, call.net
    status = "stopping" if name == "StopDBCluster" else "starting"
    body = _cluster_body(rec, net, db, status)
    return rec.record(call, RDS, name, {"dBClusterIdentifier": requested_id}, body)
