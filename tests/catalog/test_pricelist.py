"""The Price List mapping (data beside the price book) and how a product document is read."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from emulator.api.pricing import product_document
from scanner.catalog import BUNDLED_PRICES
from scanner.catalog.pricelist import (
    PRICELIST_MAPPING,
    Query,
    load_mapping,
    queries,
    read_answer,
    unmapped,
)
from scanner.errors import CatalogError

BOOK: dict[str, Any] = yaml.safe_load(BUNDLED_PRICES.read_text())
MAPPING = load_mapping()
EC2 = next(q for q in queries(MAPPING, BOOK, ["eu-west-1"]) if q.name == "ec2_instance")


def _product(kind: str, usd: str, **changes: Any) -> str:
    attributes = {"instanceType": kind, "regionCode": "eu-west-1"}
    document = product_document(
        "AmazonEC2", f"SKU-{kind}-{usd}", "Compute Instance", attributes, usd
    )
    document.update(changes)
    return orjson.dumps(document).decode()


def test_the_mapping_names_only_rates_and_tables_of_the_book() -> None:
    assert set(MAPPING.rates) <= set(BOOK["rates"])
    assert set(MAPPING.tables) <= set(BOOK["tables"])
    not_mapped = unmapped(MAPPING, BOOK)
    assert len(not_mapped) == len(BOOK["rates"]) + len(BOOK["tables"]) - len(MAPPING.rates) - len(
        MAPPING.tables
    )


def test_a_table_is_one_query_per_region_for_every_class_of_the_book() -> None:
    request = EC2.request()
    assert request["ServiceCode"] == "AmazonEC2"
    assert request["FormatVersion"] == "aws_v1"
    filters = {(f["Type"], f["Field"]): f["Value"] for f in request["Filters"]}
    assert filters[("TERM_MATCH", "regionCode")] == "eu-west-1"
    assert filters[("TERM_MATCH", "operatingSystem")] == "Linux"
    classes = filters[("ANY_OF", "instanceType")].split(",")
    assert set(classes) == set(BOOK["tables"]["ec2_instance"]["prices"]["us-east-1"])
    volumes = next(q for q in queries(MAPPING, BOOK, ["eu-west-1"]) if q.name == "ebs_volume")
    assert "default" not in volumes.classes
    nat = next(q for q in queries(MAPPING, BOOK, ["eu-west-1"]) if q.name == "ec2.nat_gateway")
    assert ("CONTAINS", "usagetype", "NatGateway-Hours") in nat.filters


def test_the_first_tier_on_demand_usd_price_per_unit_is_read() -> None:
    tiered = orjson.loads(_product("t3.micro", "0.0114"))
    (term,) = tiered["terms"]["OnDemand"].values()
    term["priceDimensions"]["second-tier"] = {
        "unit": "Hrs",
        "beginRange": "1000",
        "pricePerUnit": {"USD": "0.001"},
    }
    answer = read_answer(
        EC2,
        [
            orjson.dumps(tiered).decode(),
            _product("not.in.the.book", "9"),
            _product("m5.large", "0.107"),
        ],
    )
    assert answer.prices == {"t3.micro": 0.0114, "m5.large": 0.107}
    assert answer.problems == ()


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        (["{"], "a PriceList entry is not JSON"),
        (["[1, 2]"], "a PriceList entry is not a product document"),
        (
            [_product("t3.micro", "1", terms={"Reserved": {}})],
            "'SKU-t3.micro-1' has no OnDemand term",
        ),
        ([_product("t3.micro", "x")], "has a Hrs price that is not a USD amount ('x')"),
        (
            [_product("t3.micro", "0.1"), _product("t3.micro", "0.2")],
            "t3.micro has 2 products with different prices",
        ),
    ],
)
def test_an_unusable_entry_is_one_problem_and_gives_no_price(
    entries: list[str], problem: str
) -> None:
    answer = read_answer(EC2, entries)
    assert answer.prices == {}
    assert len(answer.problems) == 1
    assert problem in answer.problems[0]


def test_a_price_in_another_unit_is_not_taken() -> None:
    gb_month = Query(
        "tables",
        "ec2_instance",
        "eu-west-1",
        "AmazonEC2",
        (),
        "GB-Mo",
        "instanceType",
        ("t3.micro",),
    )
    answer = read_answer(gb_month, [_product("t3.micro", "0.0114")])
    assert answer.prices == {}
    assert answer.problems == ("product 'SKU-t3.micro-0.0114' has no OnDemand price per GB-Mo",)


def test_a_bad_mapping_file_is_one_line_naming_it(tmp_path: Path) -> None:
    data = yaml.safe_load(PRICELIST_MAPPING.read_text())
    broken = copy.deepcopy(data)
    del broken["tables"]["ec2_instance"]["class"]
    path = tmp_path / "pricelist.yaml"
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(
        CatalogError, match=r"pricelist\.yaml: tables\.ec2_instance\.class: Field required"
    ):
        load_mapping(path)
