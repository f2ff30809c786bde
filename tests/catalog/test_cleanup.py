"""Every catalog type's `cleanup:` against botocore's model, and the order it declares."""

from __future__ import annotations

import pytest
from botocore.model import StringShape

from scanner.catalog import load_catalog
from scanner.catalog.cleanup import Cleanup
from scanner.cleanup_plan import cli_option, cli_words, operation_model, order_types

CATALOG = load_catalog()
CLEANUPS = sorted(
    (name, t.api, t.cleanup) for name, t in CATALOG.types.items() if t.cleanup is not None
)


def test_most_types_declare_a_cleanup() -> None:
    assert len(CLEANUPS) >= 75


@pytest.mark.parametrize(("name", "api", "cleanup"), CLEANUPS, ids=[c[0] for c in CLEANUPS])
def test_cleanup_matches_botocore(name: str, api: str, cleanup: Cleanup) -> None:
    operation = operation_model(api, cleanup)  # raises when the operation does not exist
    shape = operation.input_shape
    assert shape is not None, f"{name}: {cleanup.operation} takes no input"
    members = shape.members
    given = [cleanup.id_param, *(p for p, _ in cleanup.params), *(c.param for c in cleanup.choices)]
    for param in given:
        assert param in members, f"{name}: {cleanup.operation} has no parameter {param}"
    assert cleanup.id_param in shape.required_members or len(shape.required_members) == 0
    missing = set(shape.required_members) - set(given)
    assert not missing, f"{name}: {cleanup.operation} also requires {sorted(missing)}"
    id_shape = members[cleanup.id_param]
    assert isinstance(id_shape, StringShape) or id_shape.type_name == "list"
    for param, value in cleanup.params:
        kind = members[param].type_name
        expected = {"boolean": bool, "integer": int, "string": str}[kind]
        assert isinstance(value, expected), f"{name}: {param} is a {kind}"


def test_cli_names_are_the_aws_clis() -> None:
    """botocore's names turned into the CLI's the way the aws CLI does it."""
    cleanup = Cleanup("DeleteDBInstance", "DBInstanceIdentifier")
    assert cli_words("rds", cleanup) == ["rds", "delete-db-instance"]
    assert cli_option("DBInstanceIdentifier") == "--db-instance-identifier"
    assert cli_option("FinalDBSnapshotIdentifier") == "--final-db-snapshot-identifier"
    assert cli_words("s3", Cleanup("DeleteBucket", "Bucket")) == ["s3api", "delete-bucket"]


def test_dependency_order() -> None:
    names = ["ec2.volume", "ec2.elastic_ip", "ec2.instance", "ec2.nat_gateway", "autoscaling.group"]
    order = order_types(names, CATALOG)
    for first, then in [
        ("ec2.nat_gateway", "ec2.elastic_ip"),
        ("ec2.instance", "ec2.volume"),
        ("autoscaling.group", "ec2.instance"),
    ]:
        assert order.index(first) < order.index(then)
    rds = order_types(["rds.db_cluster", "rds.db_instance"], CATALOG)
    assert rds == ["rds.db_instance", "rds.db_cluster"]
