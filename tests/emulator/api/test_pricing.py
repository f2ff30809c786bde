"""Price List GetProducts through a real boto3 client: filters, JSON-string entries, paging."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from emulator import Running
from emulator.api.pricing import DEFAULT_PRODUCTS, product_document
from scanner.catalog import BUNDLED_PRICES
from scanner.catalog.pricelist import load_mapping, queries
from tests.emulator.api.emulator_clients import client

EXTRA = tuple(
    product_document(
        "AmazonRDS",
        f"RDSSKU{n:011d}",
        "Database Instance",
        {
            "regionCode": "us-east-1",
            "instanceType": kind,
            "databaseEngine": "MySQL",
            "deploymentOption": "Single-AZ",
        },
        usd,
    )
    for n, (kind, usd) in enumerate([("db.t3.micro", "0.017"), ("db.t3.small", "0.034")])
)


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"products": [*DEFAULT_PRODUCTS, *EXTRA]}


def _products(running: Running, **request: Any) -> list[dict[str, Any]]:
    pricing = client("pricing", running.endpoint_url)
    paginator = pricing.get_paginator("get_products")
    pages = list(paginator.paginate(**request))
    for page in pages:
        assert page["FormatVersion"] == "aws_v1"
        assert all(isinstance(entry, str) for entry in page["PriceList"])
    return [json.loads(entry) for page in pages for entry in page["PriceList"]]


def _usd(product: dict[str, Any]) -> str:
    (term,) = product["terms"]["OnDemand"].values()
    (dimension,) = term["priceDimensions"].values()
    usd: str = dimension["pricePerUnit"]["USD"]
    return usd


def test_term_match_filters_and_entries_are_product_documents_as_json_strings(
    emulator_thread: Running,
) -> None:
    found = _products(
        emulator_thread,
        ServiceCode="AmazonEC2",
        FormatVersion="aws_v1",
        Filters=[
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
            {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "t3.micro"},
            {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Compute Instance"},
        ],
    )
    assert [p["product"]["attributes"]["instanceType"] for p in found] == ["t3.micro"]
    assert found[0]["serviceCode"] == "AmazonEC2"
    assert _usd(found[0]) == "0.0104000000"


def test_contains_any_of_and_none_of(emulator_thread: Running) -> None:
    nat = _products(
        emulator_thread,
        ServiceCode="AmazonEC2",
        Filters=[{"Type": "CONTAINS", "Field": "usagetype", "Value": "NatGateway-Hours"}],
    )
    assert [p["product"]["productFamily"] for p in nat] == ["NAT Gateway"]
    some = _products(
        emulator_thread,
        ServiceCode="AmazonEC2",
        Filters=[
            {"Type": "ANY_OF", "Field": "instanceType", "Value": "t3.micro,m5.large"},
            {"Type": "NONE_OF", "Field": "regionCode", "Value": "eu-west-1"},
        ],
    )
    assert sorted(p["product"]["attributes"]["instanceType"] for p in some) == [
        "m5.large",
        "t3.micro",
    ]


def test_pages_of_one_product_with_next_tokens_bound_to_the_request(
    emulator_thread: Running,
) -> None:
    pricing = client("pricing", emulator_thread.endpoint_url)
    first = pricing.get_products(ServiceCode="AmazonEC2", MaxResults=1)
    assert len(first["PriceList"]) == 1
    assert "NextToken" in first
    everything = _products(
        emulator_thread, ServiceCode="AmazonEC2", PaginationConfig={"PageSize": 2}
    )
    assert len(everything) == 5
    assert len({p["product"]["sku"] for p in everything}) == 5
    with pytest.raises(ClientError) as raised:
        pricing.get_products(ServiceCode="AmazonRDS", NextToken=first["NextToken"])
    assert raised.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_bad_requests_are_refused_as_the_service_does(emulator_thread: Running) -> None:
    pricing = client("pricing", emulator_thread.endpoint_url)
    with pytest.raises(ClientError) as raised:
        pricing.get_products(ServiceCode="AmazonEC2", FormatVersion="aws_v2")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        pricing.get_products(
            ServiceCode="AmazonEC2", Filters=[{"Type": "LIKE", "Field": "x", "Value": "y"}]
        )
    assert "LIKE" in raised.value.response["Error"]["Message"]


def test_throttling_and_access_denied_are_errors_botocore_reads(emulator_thread: Running) -> None:
    pricing = client("pricing", emulator_thread.endpoint_url)
    for spec, code in (("throttle", "ThrottlingException"), ("denied", "AccessDeniedException")):
        emulator_thread.emulator.set_faults(spec)
        with pytest.raises(ClientError) as raised:
            pricing.get_products(ServiceCode="AmazonEC2")
        assert raised.value.response["Error"]["Code"] == code
    assert "pricing:GetProducts" in raised.value.response["Error"]["Message"]


def test_every_refresh_query_is_a_request_botocore_sends_and_the_emulator_takes(
    emulator_thread: Running,
) -> None:
    """The mapping's queries pass botocore's validation and serialisation as they are."""
    book = yaml.safe_load(BUNDLED_PRICES.read_text())
    pricing = client("pricing", emulator_thread.endpoint_url)
    answered = {}
    for query in queries(load_mapping(), book, ["us-east-1"]):
        page = pricing.get_products(**query.request(), MaxResults=100)
        answered[query.name] = [json.loads(entry) for entry in page["PriceList"]]
    assert {p["product"]["attributes"]["instanceType"] for p in answered["ec2_instance"]} == {
        "t3.micro",
        "m5.large",
    }
    assert [_usd(p) for p in answered["rds_instance"]] == ["0.017", "0.034"]
    assert [p["product"]["productFamily"] for p in answered["ec2.nat_gateway"]] == ["NAT Gateway"]
    assert answered["eks.cluster"] == []
