"""Every type's `verify:` call, checked against botocore's model of its service."""

from __future__ import annotations

import pytest
from botocore.model import ListShape, OperationModel

from scanner.catalog import ResourceType, load_catalog
from scanner.catalog.verification import Verification
from tests.verify.shapes import ANY, OutputWalker, element, error_codes, service_model

CATALOG = load_catalog()
VERIFIED = sorted(name for name, t in CATALOG.types.items() if t.verify is not None)
#: Types with no single read-only call by id (say why); every other type must declare one.
NOT_VERIFIABLE = {
    "cloudhsm.cluster": "DescribeClusters filters by a map of lists, not by id",
    "cloudhsm.hsm": "HSMs are listed inside their cluster's DescribeClusters answer",
    "cloudwatch.insight_rule": "DescribeInsightRules has no name filter",
    "dms.replication_instance": "DescribeReplicationInstances filters by structures only",
    "ec2.fast_snapshot_restore": "DescribeFastSnapshotRestores filters by structures only",
    "ecs.service": "DescribeServices needs the cluster, which the id does not carry",
    "lambda.provisioned_concurrency": "function names may be ARNs holding the `:` of the id",
    "opensearchserverless.collection": "only BatchGetCollection takes ids",
    "rekognition.custom_labels_model": "DescribeProjectVersions needs the project ARN",
    "s3express.directory_bucket": "only HeadBucket, no Describe/Get/List, takes the name",
    "sagemaker.studio_app": "DescribeApp needs four parts; the id's name part may hold `/`",
    "shield.subscription": "one per account: DescribeSubscription takes no id",
    "wafv2.web_acl": "GetWebACL needs the name and scope besides the id",
}


def _check(name: str) -> tuple[ResourceType, Verification, OperationModel]:
    resource_type = CATALOG.types[name]
    check = resource_type.verify
    assert check is not None
    model = service_model(check.api)
    assert check.call in model.operation_names, f"{check.api} has no operation {check.call}"
    return resource_type, check, model.operation_model(check.call)


def test_every_type_declares_a_verification_or_says_why_not() -> None:
    missing = {name for name, t in CATALOG.types.items() if t.verify is None}
    assert missing == set(NOT_VERIFIABLE)


@pytest.mark.parametrize("name", VERIFIED)
def test_the_call_exists_and_only_reads(name: str) -> None:
    _, check, operation = _check(name)
    assert check.call.startswith(("Describe", "Get", "List"))
    assert check.call == operation.name


@pytest.mark.parametrize("name", VERIFIED)
def test_the_parameters_are_in_the_input_shape(name: str) -> None:
    _, check, operation = _check(name)
    members = operation.input_shape.members if operation.input_shape else {}
    given = {param for param, _ in check.params} | ({check.ids} if check.ids else set())
    assert given <= set(members), f"not in {operation.name}'s input: {given - set(members)}"
    if check.ids:
        assert isinstance(members[check.ids], ListShape), f"{check.ids} is not a list"
    for param, template in check.params:
        assert isinstance(members[param], ListShape) == isinstance(template, tuple), param
    required = set(operation.input_shape.required_members) if operation.input_shape else set()
    assert required <= given, f"required but not given: {required - given}"


@pytest.mark.parametrize("name", VERIFIED)
def test_the_paths_walk_the_output_shape(name: str) -> None:
    _, check, operation = _check(name)
    walker = OutputWalker(operation)
    items, *on_item = check.texts
    item = walker.walk(items, operation.output_shape) if items else None
    one = element(item) if item is not None else operation.output_shape
    for text in on_item:
        if text is not None:
            walker.walk(text, one)
    assert walker.problems == []
    assert one != ANY


@pytest.mark.parametrize("name", VERIFIED)
def test_gone_codes_are_errors_the_operation_returns(name: str) -> None:
    _, check, _ = _check(name)
    modelled = error_codes(service_model(check.api))
    if modelled:
        assert check.gone <= modelled, f"not modelled: {sorted(check.gone - modelled)}"
    elif service_model(check.api).protocol == "ec2":
        # EC2 models no errors; its codes name the resource and end in .NotFound.
        assert all(code.endswith((".NotFound", ".Unavailable", "NotFound")) for code in check.gone)
