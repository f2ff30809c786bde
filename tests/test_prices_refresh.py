"""A refresh's report (collapsed, with counts) and the dated file it merges from the answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.catalog import BUNDLED_PRICES, load_catalog, load_prices
from scanner.catalog.pricelist import Answer, Query
from scanner.errors import CatalogError
from scanner.prices_refresh import merge, report, write_price_file

BOOK: dict[str, Any] = yaml.safe_load(BUNDLED_PRICES.read_text())


def _table(region: str, classes: tuple[str, ...]) -> Query:
    return Query("tables", "ec2_instance", region, "AmazonEC2", (), "Hrs", "instanceType", classes)


def _rate(region: str) -> Query:
    return Query("rates", "ec2.nat_gateway", region, "AmazonEC2", (), "Hrs")


RESULTS: dict[Query, Answer | str] = {
    _table("us-east-1", ("t3.micro", "m5.large", "c5.large")): Answer(
        {"t3.micro": 0.011}, ("a PriceList entry is not JSON (x)",)
    ),
    _table("eu-west-1", ("t3.micro", "m5.large", "c5.large")): Answer(
        {"t3.micro": 0.012, "m5.large": 0.1}, ("a PriceList entry is not JSON (x)",)
    ),
    _rate("us-east-1"): "ThrottlingException: Rate exceeded (after 6 attempts)",
    _rate("eu-west-1"): Answer({"": 0.048}),
}


def test_one_line_per_problem_and_per_rate_or_table_left_at_its_bundled_figure() -> None:
    lines = report(RESULTS, ["rates.kms.key"])
    assert lines == [
        "a PriceList entry is not JSON (x) (2 queries: tables.ec2_instance in us-east-1, "
        "tables.ec2_instance in eu-west-1)",
        "GetProducts failed: ThrottlingException: Rate exceeded (after 6 attempts) "
        "(1 query: rates.ec2.nat_gateway in us-east-1)",
        "tables.ec2_instance: no price for 3 figures (c5.large, m5.large) in 2 regions "
        "(eu-west-1, us-east-1): the bundled figure is kept",
        "rates.ec2.nat_gateway: no price for 1 figure in 1 region (us-east-1): "
        "the bundled figure is kept",
        "1 rate or table without a Price List mapping (rates.kms.key): "
        "their bundled figures are kept",
    ]


def test_the_merged_file_keeps_bundled_figures_dates_itself_and_loads(tmp_path: Path) -> None:
    data, refreshed = merge(BOOK, RESULTS, date(2026, 11, 29), ["us-east-1", "eu-west-1"], "x")
    assert refreshed == 4
    path = tmp_path / "prices.yaml"
    write_price_file(path, data)
    book = load_prices(path)
    assert book.date == date(2026, 11, 29)
    assert "us-east-1, eu-west-1" in book.source
    assert "bundled book's of 2025-06-01" in book.source
    catalog = load_catalog(prices=book)
    instance = catalog.types["ec2.instance"]
    assert instance.hourly_cost({"instance_type": "t3.micro"}, "us-east-1") == pytest.approx(0.011)
    assert instance.hourly_cost({"instance_type": "m5.large"}, "us-east-1") == pytest.approx(0.096)
    assert instance.hourly_cost({"instance_type": "m5.large"}, "eu-west-1") == pytest.approx(0.1)
    nat = catalog.types["ec2.nat_gateway"]
    assert nat.hourly_cost({}, "us-east-1") == pytest.approx(0.045)
    assert nat.hourly_cost({}, "eu-west-1") == pytest.approx(0.048)
    assert BOOK["date"] == date(2025, 6, 1)  # the bundled data is left as it was


def test_a_file_the_scanner_would_refuse_is_not_written(tmp_path: Path) -> None:
    data, _ = merge(BOOK, RESULTS, date(2026, 11, 29), ["us-east-1"], "x")
    del data["rates"]["ec2.nat_gateway"]["prices"]["us-east-1"]
    path = tmp_path / "prices.yaml"
    with pytest.raises(CatalogError, match="no price for the home region"):
        write_price_file(path, data)
    assert not path.exists()
