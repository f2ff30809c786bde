"""The price book: dated, per region with the home region as fallback, overridable by a newer
price file, and every kind of price (fixed, by class, per unit, times a count, per GB-month)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.catalog import BUNDLED_PRICES, HOURS_PER_MONTH, load_catalog, load_prices
from scanner.errors import CatalogError
from scanner.lifecycle import Change, Fact, Lifecycle, ResourceKey
from scanner.report import leftover_of

BUNDLED: dict[str, Any] = yaml.safe_load(BUNDLED_PRICES.read_text())
CATALOG = load_catalog()


def book_file(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load(BUNDLED_PRICES.read_text())
    change(data)
    path = tmp_path / "prices-2026-11-20.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_bundled_book_states_its_date_region_and_exclusions() -> None:
    book = load_prices()
    assert book.date == date(2025, 6, 1)
    assert book.home_region == "us-east-1"
    assert book.regions == {"us-east-1"}
    assert any("Savings Plans" in part for part in book.not_included)
    assert CATALOG.prices == book


def test_every_rate_and_table_is_used_by_some_type() -> None:
    used = set()
    for path in sorted(Path(__file__).parents[2].glob("scanner/catalog/types/*.yaml")):
        for entry in yaml.safe_load(path.read_text())["types"].values():
            price = entry["price"]
            names = ("hourly", "table", "per_gb_month", "per_gb_month_table")
            used |= {price.get(name) for name in names}
            used |= set(price.get("per_unit", {}).values())
    assert set(BUNDLED["rates"]) | set(BUNDLED["tables"]) <= used


def test_a_newer_price_file_is_used_and_regions_fall_back_to_the_home_region(
    tmp_path: Path,
) -> None:
    def change(data: dict[str, Any]) -> None:
        data["date"] = "2026-11-20"
        data["rates"]["ec2.nat_gateway"]["prices"]["eu-west-1"] = 0.048
        data["tables"]["ec2_instance"]["prices"]["eu-west-1"] = {"t3.micro": 0.0114}

    catalog = load_catalog(prices=load_prices(book_file(tmp_path, change)))
    nat = catalog.types["ec2.nat_gateway"]
    assert nat.hourly_cost({}, "eu-west-1") == pytest.approx(0.048)
    assert nat.hourly_cost({}, "ap-south-1") == pytest.approx(0.045)  # home region's figure
    assert nat.hourly_cost({}, None) == pytest.approx(0.045)
    instance = catalog.types["ec2.instance"]
    assert instance.hourly_cost({"instance_type": "t3.micro"}, "eu-west-1") == pytest.approx(0.0114)
    # a class the region's table lacks is priced from the home region's table
    assert instance.hourly_cost({"instance_type": "m5.large"}, "eu-west-1") == pytest.approx(0.096)
    assert catalog.prices is not None
    assert catalog.prices.regions == {"us-east-1", "eu-west-1"}


def test_a_leftover_is_priced_in_its_own_region(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["rates"]["ec2.nat_gateway"]["prices"]["eu-west-1"] = 0.048

    catalog = load_catalog(prices=load_prices(book_file(tmp_path, change)))
    at = datetime(2026, 11, 1, tzinfo=UTC)
    costs = {}
    for region in ("eu-west-1", "us-west-2"):
        key = ResourceKey("111111111111", region, "ec2.nat_gateway", f"nat-{region}")
        created = Fact(key=key, change=Change.CREATE, time=at, event_id="e", event_name="x")
        item = leftover_of(Lifecycle(key=key, created=created), catalog)
        assert item is not None
        costs[region] = item.to_json(at)["estimated_hourly_cost"]
    assert costs == {"eu-west-1": 0.048, "us-west-2": 0.045}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("date"), r"prices-2026-11-20\.yaml: date: Field required"),
        (lambda d: d.update(version=2), r"version"),
        (
            lambda d: d["rates"]["kms.key"].update(unit="week"),
            r"rates\.kms\.key\.unit",
        ),
        (
            lambda d: d["rates"]["kms.key"].update(prices={"eu-west-1": 1.1}),
            r"rates\.kms\.key: no price for the home region us-east-1",
        ),
        (
            lambda d: (
                d["tables"]["elbv2"]["prices"].update({"eu-west-1": {"x": 1}})
                or (d["tables"]["elbv2"]["prices"].pop("us-east-1"))
            ),
            r"tables\.elbv2: no prices for the home region us-east-1",
        ),
        (
            lambda d: d["rates"]["kms.key"]["prices"].update({"us-east-1": -1}),
            r"rates\.kms\.key\.prices\.us-east-1: Input should be greater than or equal to 0",
        ),
    ],
)
def test_a_bad_price_file_is_named_in_one_line(tmp_path: Path, change: Any, expected: str) -> None:
    with pytest.raises(CatalogError, match=expected) as raised:
        load_prices(book_file(tmp_path, change))
    assert "\n" not in str(raised.value)


def test_a_price_file_without_a_rate_the_catalog_needs_is_refused(tmp_path: Path) -> None:
    path = book_file(tmp_path, lambda d: d["rates"].pop("kms.key"))
    with pytest.raises(CatalogError, match=r"types\.kms\.key\.price\.hourly: no rate 'kms\.key'"):
        load_catalog(prices=load_prices(path))
    path = book_file(tmp_path, lambda d: d["rates"]["kms.key"].update(unit="gb_month"))
    with pytest.raises(CatalogError, match=r"rate 'kms\.key' is per gb_month, not per hour"):
        load_catalog(prices=load_prices(path))


@pytest.mark.parametrize(
    ("type_name", "attributes", "expected"),
    [
        # per unit, a missing attribute counting 0
        (
            "dynamodb.table",
            {"read_capacity": "10", "write_capacity": "5"},
            10 * 0.00013 + 5 * 0.00065,
        ),
        ("dynamodb.table", {"billing_mode": "PAY_PER_REQUEST"}, 0.0),
        ("kinesis.stream", {"shards": "4"}, 4 * 0.015),
        # by class times a count
        ("elasticache.cache_cluster", {"node_type": "cache.t3.micro", "nodes": "2"}, 2 * 0.017),
        ("redshift.cluster", {"node_type": "dc2.large", "nodes": "3"}, 3 * 0.25),
        (
            "opensearch.domain",
            {"instance_type": "t3.small.search", "instances": "2", "volume_gb": "10"},
            2 * 0.036 + 10 * 0.135 / HOURS_PER_MONTH,
        ),
        ("kafka.cluster", {"broker_type": "kafka.m5.large", "brokers": "3"}, 3 * 0.21),
        ("kafka.cluster", {"broker_type": "serverless", "brokers": "1"}, 0.75),
        ("mq.broker", {"instance_type": "mq.m5.large"}, 0.288),
        ("memorydb.cluster", {"node_type": "db.r6g.large", "shards": "1"}, 0.309),
        ("docdb.db_instance", {"db_class": "db.r5.large"}, 0.277),
        ("neptune.db_instance", {"db_class": "db.r5.large"}, 0.348),
        (
            "sagemaker.notebook_instance",
            {"instance_type": "ml.t3.medium", "volume_gb": "5"},
            0.05 + 5 * 0.14 / HOURS_PER_MONTH,
        ),
        # a fixed fee times a count
        ("network_firewall.firewall", {"endpoints": "2"}, 2 * 0.395),
        ("transfer.server", {"protocols": "2"}, 0.60),
        # monthly fees, and parents whose children are priced on their own
        ("kms.key", {}, 1.0 / HOURS_PER_MONTH),
        ("autoscaling.group", {}, 0.0),
        ("ds.directory", {"edition": "MicrosoftAD Enterprise"}, 0.40),
        # unknown: a class the table lacks, a size CloudTrail does not give
        ("redshift.cluster", {"node_type": "x9.huge"}, None),
        ("s3.bucket", {}, None),
        ("sagemaker.endpoint", {}, None),
    ],
)
def test_hourly_cost_of_each_kind_of_price(
    type_name: str, attributes: dict[str, str], expected: float | None
) -> None:
    cost = CATALOG.types[type_name].hourly_cost(attributes, "us-east-1")
    assert cost == (None if expected is None else pytest.approx(expected))
