"""Pairing scenarios, from records shaped like the real ones to the leftovers they leave."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from scanner.catalog import load_catalog, parse_catalog
from scanner.lifecycle import Actor, Change, Fact, Lifecycle, ResourceKey
from scanner.pairing import (
    current_state,
    extract,
    is_alive,
    leftovers,
    merge,
    pair,
    resolve,
)
from scanner.records import Record
from tests.pairing.builders import (
    ACCOUNT,
    at,
    create_db,
    db_state,
    delete_db,
    record,
    rename_db,
    run_instances,
    start,
    stop,
    terminate,
)
from tests.samples import sample_records

CATALOG = load_catalog()


def lifecycles_of(records: Iterable[Record]) -> dict[ResourceKey, Lifecycle]:
    return pair(fact for r in records for fact in extract(r, CATALOG))


def left(records: Iterable[Record]) -> list[str]:
    return [lc.key.resource_id for lc in leftovers(lifecycles_of(records))]


def key(resource_type: str, resource_id: str, region: str = "us-east-1") -> ResourceKey:
    return ResourceKey(ACCOUNT, region, resource_type, resource_id)


def test_create_then_delete_leaves_nothing() -> None:
    assert left([run_instances(1, "i-1"), terminate(2, "i-1")]) == []
    assert left([create_db(1, "db1"), delete_db(2, "db1")]) == []


def test_delete_listed_before_create_still_pairs() -> None:
    assert left([terminate(2, "i-1"), run_instances(1, "i-1")]) == []


def test_create_without_delete_is_left_over() -> None:
    (lifecycle,) = leftovers(lifecycles_of([run_instances(1, "i-1", user="carol")]))
    assert lifecycle.key == key("ec2.instance", "i-1")
    created = lifecycle.creation
    assert created is not None
    assert created.time == at(1)
    assert created.event_id == "RunInstances-1-carol-us-east-1"
    assert created.actor == Actor(
        arn=f"arn:aws:iam::{ACCOUNT}:user/carol",
        user_name="carol",
        source_ip="203.0.113.7",
        user_agent="aws-cli/2.15.0",
    )
    assert dict(created.attributes) == {"instance_type": "t2.micro", "image_id": "ami-1"}


def test_recreated_name_after_deletion_is_alive_with_the_latest_creator() -> None:
    records = [
        create_db(1, "db1", user="alice"),
        delete_db(2, "db1", user="alice"),
        create_db(3, "db1", user="bob", db_class="db.r5.large"),
    ]
    (lifecycle,) = leftovers(lifecycles_of(records))
    assert lifecycle.creation is not None
    assert lifecycle.creation.actor.user_name == "bob"
    assert lifecycle.creation.time == at(3)
    assert dict(lifecycle.creation.attributes)["db_class"] == "db.r5.large"
    # deleted again afterwards: gone
    assert left([*records, delete_db(4, "db1")]) == []


def test_multi_instance_run_then_terminate_one() -> None:
    records = [run_instances(1, "i-1", "i-2", "i-3"), terminate(5, "i-2")]
    assert left(records) == ["i-1", "i-3"]


def test_terminate_of_several_instances_at_once() -> None:
    records = [run_instances(1, "i-1", "i-2", "i-3"), terminate(5, "i-3", "i-1")]
    assert left(records) == ["i-2"]


def test_stop_start_state() -> None:
    lifecycles = lifecycles_of([run_instances(1, "i-1"), stop(2, "i-1")])
    assert current_state(lifecycles[key("ec2.instance", "i-1")], CATALOG) == "stopped"
    lifecycles = lifecycles_of([run_instances(1, "i-1"), stop(2, "i-1"), start(3, "i-1")])
    assert current_state(lifecycles[key("ec2.instance", "i-1")], CATALOG) == "running"
    lifecycles = lifecycles_of([create_db(1, "db"), db_state(2, "db", "StopDBInstance")])
    assert current_state(lifecycles[key("rds.db_instance", "db")], CATALOG) == "stopped"


def test_state_changes_before_the_latest_create_are_ignored() -> None:
    records = [
        create_db(1, "db"),
        db_state(2, "db", "StopDBInstance"),
        delete_db(3, "db"),
        create_db(4, "db"),
    ]
    lifecycle = lifecycles_of(records)[key("rds.db_instance", "db")]
    assert is_alive(lifecycle)
    assert current_state(lifecycle, CATALOG) == "available"


def test_state_change_without_create_is_not_a_leftover() -> None:
    lifecycles = lifecycles_of([stop(2, "i-9")])
    assert not is_alive(lifecycles[key("ec2.instance", "i-9")])
    assert current_state(lifecycles[key("ec2.instance", "i-9")], CATALOG) == "running"
    assert leftovers(lifecycles) == []


def test_rename_moves_the_resource_and_keeps_its_creation() -> None:
    records = [
        create_db(1, "old-db", user="alice", db_class="db.r5.large"),
        rename_db(5, "old-db", "new-db", user="bob"),
    ]
    lifecycles = lifecycles_of(records)
    assert not is_alive(lifecycles[key("rds.db_instance", "old-db")])
    (lifecycle,) = leftovers(lifecycles)
    assert lifecycle.key == key("rds.db_instance", "new-db")
    creation = lifecycle.creation
    assert creation is not None
    assert creation.key == lifecycle.key
    assert creation.time == at(1)
    assert creation.actor.user_name == "alice"
    assert creation.event_id == "CreateDBInstance-1-alice-us-east-1"
    assert dict(creation.attributes)["db_class"] == "db.r5.large"
    assert creation.renamed_from == key("rds.db_instance", "old-db")
    assert creation.arn is None  # the old ARN named the old identifier
    # the rename itself stays the latest create, so deletes keep pairing by order
    assert lifecycle.created is not None
    assert lifecycle.created.event_name == "ModifyDBInstance"
    assert left([*records, delete_db(9, "new-db")]) == []


def test_rename_chain_and_unknown_origin() -> None:
    records = [
        create_db(1, "a", user="alice"),
        rename_db(2, "a", "b", user="bob"),
        rename_db(3, "b", "c", user="carol"),
    ]
    (lifecycle,) = leftovers(lifecycles_of(records))
    assert lifecycle.key.resource_id == "c"
    assert lifecycle.creation is not None
    assert (lifecycle.creation.actor.user_name, lifecycle.creation.time) == ("alice", at(1))
    # the old name's create is outside the window: the rename is all we know
    (orphan,) = leftovers(lifecycles_of([rename_db(3, "x", "y", user="carol")]))
    assert orphan.creation is not None
    assert (orphan.creation.actor.user_name, orphan.creation.time) == ("carol", at(3))


def test_rename_does_not_inherit_a_create_made_after_it() -> None:
    records = [rename_db(2, "a", "b", user="bob"), create_db(5, "a", user="alice")]
    resolved = {lc.key.resource_id: lc for lc in leftovers(lifecycles_of(records))}
    assert set(resolved) == {"a", "b"}
    creation = resolved["b"].creation
    assert creation is not None
    assert creation.actor.user_name == "bob"


def test_renamed_name_deleted_before_the_rename_is_alive() -> None:
    """An older `new-db` deleted between the first create and the rename does not kill the
    renamed resource (pairing orders by the rename, not by the inherited creation time)."""
    records = [
        create_db(1, "old-db"),
        create_db(2, "new-db"),
        delete_db(3, "new-db"),
        rename_db(4, "old-db", "new-db"),
    ]
    assert left(records) == ["new-db"]


def test_failed_calls_and_dry_runs_give_no_facts() -> None:
    records = [run_instances(1, "i-1"), terminate(2, "i-1", error="Client.UnauthorizedOperation")]
    assert left(records) == ["i-1"]
    assert left([create_db(1, "db"), delete_db(2, "db", error="InvalidDBInstanceState")]) == ["db"]
    assert extract(run_instances(1, "i-2", error="Client.DryRunOperation"), CATALOG) == []
    dry = record(
        "rds", "DeleteDBInstance", 2, request={"dBInstanceIdentifier": "db", "dryRun": True}
    )
    assert extract(dry, CATALOG) == []
    not_dry = record(
        "rds", "DeleteDBInstance", 2, request={"dBInstanceIdentifier": "db", "dryRun": False}
    )
    assert len(extract(not_dry, CATALOG)) == 1


def test_unwatched_and_empty_events_give_no_facts() -> None:
    assert extract(record("iam", "CreateUser", 1, request={"userName": "x"}), CATALOG) == []
    assert extract(record("ec2", "RunInstances", 1, response=None), CATALOG) == []
    assert extract(record("ec2", "DeleteVolume", 1, request={"volumeId": ""}), CATALOG) == []
    # same name, other service
    assert extract(record("redshift", "CreateCluster", 1, request={"name": "x"}), CATALOG) == []


def test_case_and_arn_normalisation() -> None:
    records = [
        create_db(1, "MyDB"),
        delete_db(2, "mydb"),
        record(
            "rds",
            "CreateDBCluster",
            1,
            request={"dBClusterIdentifier": "Prod-Cluster"},
            response={"dBClusterIdentifier": "prod-cluster"},
        ),
        record(
            "rds",
            "DeleteDBCluster",
            3,
            request={
                "dBClusterIdentifier": f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:prod-cluster"
            },
        ),
        record(
            "eks", "CreateCluster", 1, request={"name": "k"}, response={"cluster": {"name": "k"}}
        ),
        record(
            "eks",
            "DeleteCluster",
            2,
            request={"name": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/k"},
        ),
        record(
            "route53",
            "CreateHostedZone",
            1,
            response={"hostedZone": {"id": "/hostedzone/Z123", "name": "example.com."}},
        ),
        record("route53", "DeleteHostedZone", 2, request={"id": "Z123"}),
    ]
    assert left(records) == []
    (zone,) = extract(records[6], CATALOG)
    assert zone.key.resource_id == "Z123"
    assert zone.name == "example.com."


def test_trailing_dot_and_case_normalisation_steps() -> None:
    catalog = parse_catalog(
        {
            "version": 1,
            "types": {
                "test.zone": {
                    "service": "route53resolver",
                    "event_source": "route53resolver.amazonaws.com",
                    "title": "zone",
                    "default_state": "available",
                    "normalise": ["strip_trailing_dot", "lower"],
                    "console_url": "https://example.com/{id}",
                    "rules": [
                        {"event": "Create", "change": "create", "id": "requestParameters.name"},
                        {"event": "Delete", "change": "delete", "id": "requestParameters.name"},
                    ],
                }
            },
        }
    )
    created = record("route53resolver", "Create", 1, request={"name": "Corp.Example."})
    deleted = record("route53resolver", "Delete", 2, request={"name": "corp.example"})
    facts = [f for r in (created, deleted) for f in extract(r, catalog)]
    assert {f.key.resource_id for f in facts} == {"corp.example"}
    assert leftovers(pair(facts)) == []


def test_elastic_ip_pairs_by_allocation_id_or_classic_public_ip() -> None:
    records = [
        record(
            "ec2",
            "AllocateAddress",
            1,
            response={"allocationId": "eipalloc-1", "publicIp": "1.2.3.4"},
        ),
        record("ec2", "ReleaseAddress", 2, request={"allocationId": "eipalloc-1"}),
        record("ec2", "AllocateAddress", 1, response={"publicIp": "5.6.7.8", "domain": "standard"}),
        record("ec2", "ReleaseAddress", 3, request={"publicIp": "5.6.7.8"}),
        record(
            "ec2",
            "AllocateAddress",
            4,
            response={"allocationId": "eipalloc-2", "publicIp": "9.9.9.9"},
        ),
    ]
    assert left(records) == ["eipalloc-2"]


def test_regions_and_accounts_are_part_of_the_key() -> None:
    records = [run_instances(1, "i-1", region="eu-west-1"), terminate(2, "i-1", region="us-east-1")]
    assert left(records) == ["i-1"]


def test_assumed_role_actor() -> None:
    (fact,) = extract(run_instances(1, "i-1", user="dev@example.com", assumed=True), CATALOG)
    assert fact.actor.user_name == "dev@example.com"
    assert fact.actor.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/dev@example.com"


def test_the_original_script_case() -> None:
    """3 EC2 instances launched, 1 terminated, 1 RDS instance launched, by one user."""
    records = [
        run_instances(1, "i-09cb3fb50d2910206", user="student"),
        run_instances(2, "i-0cbfba7d810383e2b", user="student"),
        run_instances(3, "i-0aaaaaaaaaaaaaaaa", user="student"),
        terminate(10, "i-0aaaaaaaaaaaaaaaa", user="student"),
        create_db(4, "database-1-instance-1", db_class="db.r5.large", user="student"),
    ]
    found = leftovers(lifecycles_of(reversed(records)))
    urls = {
        lc.key.resource_id: CATALOG.types[lc.key.resource_type].console_url(
            lc.key, lc.creation.arn if lc.creation else None, None
        )
        for lc in found
    }
    assert urls == {
        "i-09cb3fb50d2910206": "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1"
        "#InstanceDetails:instanceId=i-09cb3fb50d2910206",
        "i-0cbfba7d810383e2b": "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1"
        "#InstanceDetails:instanceId=i-0cbfba7d810383e2b",
        "database-1-instance-1": "https://us-east-1.console.aws.amazon.com/rds/home"
        "?region=us-east-1#database:id=database-1-instance-1;is-cluster=false",
    }
    assert [lc.key.resource_type for lc in found] == [
        "ec2.instance",
        "ec2.instance",
        "rds.db_instance",
    ]
    assert all(lc.creation and lc.creation.actor.user_name == "student" for lc in found)
    assert {current_state(lc, CATALOG) for lc in found} == {"running", "available"}


def test_real_plaso_history_run_stop_terminate() -> None:
    records = sample_records("plaso/aws_cloudtrail.jsonl")
    lifecycles = lifecycles_of(records)
    lifecycle = lifecycles[
        ResourceKey("012345678901", "ap-southeast-2", "ec2.instance", "i-01234567890123456")
    ]
    assert lifecycle.created
    assert lifecycle.deleted
    assert lifecycle.state_change
    assert not is_alive(lifecycle)
    assert leftovers(lifecycles) == []


def test_merge_rejects_a_fact_of_another_resource() -> None:
    fact = Fact(key("ec2.instance", "i-1"), Change.CREATE, at(1), "e1", "RunInstances")
    other = Fact(key("ec2.instance", "i-2"), Change.DELETE, at(2), "e2", "TerminateInstances")
    with pytest.raises(ValueError, match="i-2"):
        merge(merge(None, fact), other)


def test_resolve_leaves_plain_lifecycles_alone() -> None:
    lifecycles = lifecycles_of([run_instances(1, "i-1"), create_db(2, "db")])
    assert resolve(lifecycles) == lifecycles


def test_variants_of_real_payload_shapes() -> None:
    snapshots = record(
        "ec2",
        "CreateSnapshots",
        1,
        response={
            "CreateSnapshotsResponse": {
                "snapshotSet": {
                    "item": [
                        {"snapshotId": "snap-1", "volumeSize": 8, "volumeId": "vol-1"},
                        {"snapshotId": "snap-2", "volumeSize": 100, "volumeId": "vol-2"},
                    ]
                }
            }
        },
    )
    assert {
        (f.key.resource_id, dict(f.attributes)["size_gb"]) for f in extract(snapshots, CATALOG)
    } == {
        ("snap-1", "8"),
        ("snap-2", "100"),
    }
    # TerminateInstances naming its instances only in the response
    only_response = record(
        "ec2",
        "TerminateInstances",
        2,
        response={"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}},
    )
    assert {f.key.resource_id for f in extract(only_response, CATALOG)} == {"i-1", "i-2"}
    # wrapped EC2 request with a {tag, content} value
    nat = record(
        "ec2",
        "DeleteNatGateway",
        3,
        request={"DeleteNatGatewayRequest": {"NatGatewayId": {"tag": 1, "content": "nat-9"}}},
    )
    assert [f.key.resource_id for f in extract(nat, CATALOG)] == ["nat-9"]
    # DocumentDB and Neptune clusters are rds.amazonaws.com calls, told apart by engine
    docdb = record(
        "rds",
        "CreateDBCluster",
        1,
        request={"dBClusterIdentifier": "docs", "engine": "docdb"},
        response={"dBClusterIdentifier": "docs", "engine": "docdb"},
    )
    (fact,) = extract(docdb, CATALOG)
    assert (fact.key.resource_type, fact.key.resource_id) == ("docdb.db_cluster", "docs")
    # RunInstances whose Name tag is only in the request's tag specifications
    tagged = record(
        "ec2",
        "RunInstances",
        1,
        request={
            "tagSpecificationSet": {
                "items": [
                    {"resourceType": "volume", "tags": [{"key": "Name", "value": "disk"}]},
                    {"resourceType": "instance", "tags": [{"key": "Name", "value": "web"}]},
                ]
            }
        },
        response={"instancesSet": {"items": [{"instanceId": "i-7"}, {"instanceId": "i-8"}]}},
    )
    facts = extract(tagged, CATALOG)
    assert [f.name for f in facts if f.key.resource_type == "ec2.instance"] == ["web", "web"]
    tags = {(f.key.resource_id, dict(f.attributes)["value"]) for f in facts if f.name is None}
    assert tags == {
        ("i-7\x1fName", "web"),
        ("i-8\x1fName", "web"),
    }  # the instance's, not the disk's
