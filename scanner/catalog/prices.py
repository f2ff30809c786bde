"""The price book: dated list prices per region, as data (bundled, or a newer dated file)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, ValidationError

from scanner.catalog.yamlfile import read_yaml
from scanner.errors import CatalogError

#: The price book shipped with the package.
BUNDLED_PRICES = Path(__file__).with_name("prices.yaml")

#: Hours in a month, to turn monthly prices into hourly ones (730 = 8760 / 12).
HOURS_PER_MONTH = 730.0

Unit = Literal["hour", "month", "gb_month"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateModel(_Strict):
    """One price per region: USD per hour, per month, or per GB-month."""

    unit: Unit
    prices: dict[str, NonNegativeFloat] = Field(min_length=1)


class TableModel(_Strict):
    """Prices by class (instance type, node type, volume type) per region."""

    unit: Unit
    prices: dict[str, dict[str, NonNegativeFloat]] = Field(min_length=1)


class PriceFileModel(_Strict):
    """A price file: the bundled one, or one written by a refresh."""

    version: Literal[1]
    date: date
    currency: Literal["USD"] = "USD"
    home_region: str = Field(min_length=1)
    source: str = Field(min_length=1)
    not_included: list[str] = Field(default_factory=list)
    rates: dict[str, RateModel] = Field(default_factory=dict)
    tables: dict[str, TableModel] = Field(default_factory=dict)


def _hourly(unit: Unit, value: float) -> float:
    """A rate in USD per hour (per GB-hour for `gb_month`)."""
    return value if unit == "hour" else value / HOURS_PER_MONTH


@dataclass(frozen=True, slots=True)
class RegionalRate:
    """One price per region, kept per hour (per GB-hour for GB-month rates)."""

    name: str
    unit: Unit
    hourly_by_region: Mapping[str, float]
    home_region: str

    def hourly(self, region: str | None) -> float | None:
        """The region's hourly rate, else the home region's."""
        by_region = self.hourly_by_region
        if region is not None and region in by_region:
            return by_region[region]
        return by_region.get(self.home_region)


@dataclass(frozen=True, slots=True)
class RegionalTable:
    """Prices by class per region, kept per hour (per GB-hour for GB-month tables)."""

    name: str
    unit: Unit
    hourly_by_region: Mapping[str, Mapping[str, float]]
    home_region: str

    def hourly(self, region: str | None, key: str) -> float | None:
        """The class's hourly rate in the region, else in the home region; None when unknown.

        A table may hold a `default` class, used when the key is not listed.
        """
        for where in (region, self.home_region):
            table = self.hourly_by_region.get(where) if where is not None else None
            if table is not None and (key in table or "default" in table):
                return table.get(key, table.get("default"))
        return None

    def classes(self) -> Mapping[str, float]:
        """The home region's prices per hour (for describing a type)."""
        return self.hourly_by_region.get(self.home_region, {})


@dataclass(frozen=True, slots=True)
class PriceBook:
    """Every rate and table of one price file, with its date, home region and exclusions."""

    date: date
    home_region: str
    source: str
    regions: frozenset[str]
    not_included: tuple[str, ...] = ()
    rates: Mapping[str, RegionalRate] = field(default_factory=dict)
    tables: Mapping[str, RegionalTable] = field(default_factory=dict)
    path: str = ""


def parse_prices(data: object, source: str = "prices") -> PriceBook:
    """Build a price book from parsed YAML/JSON data; problems raise CatalogError."""
    try:
        model = PriceFileModel.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(file)"
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise CatalogError(f"{source}: {where}: {first['msg']}{more}") from None
    home = model.home_region
    regions: set[str] = set()
    rates: dict[str, RegionalRate] = {}
    for name, rate in model.rates.items():
        if home not in rate.prices:
            raise CatalogError(f"{source}: rates.{name}: no price for the home region {home}")
        regions.update(rate.prices)
        hourly = {region: _hourly(rate.unit, value) for region, value in rate.prices.items()}
        rates[name] = RegionalRate(name, rate.unit, MappingProxyType(hourly), home)
    tables: dict[str, RegionalTable] = {}
    for name, table in model.tables.items():
        if home not in table.prices:
            raise CatalogError(f"{source}: tables.{name}: no prices for the home region {home}")
        regions.update(table.prices)
        hourly_tables = {
            region: MappingProxyType(
                {key: _hourly(table.unit, value) for key, value in classes.items()}
            )
            for region, classes in table.prices.items()
        }
        tables[name] = RegionalTable(name, table.unit, MappingProxyType(hourly_tables), home)
    return PriceBook(
        date=model.date,
        home_region=home,
        source=model.source,
        regions=frozenset(regions),
        not_included=tuple(model.not_included),
        rates=MappingProxyType(rates),
        tables=MappingProxyType(tables),
        path=source,
    )


def load_prices(path: Path | None = None) -> PriceBook:
    """Load a price file (default: the bundled one); a refreshed, dated file has the same form."""
    path = BUNDLED_PRICES if path is None else path
    return parse_prices(read_yaml(path), str(path))


def load_preferred_prices(path: Path) -> PriceBook:
    """The dated price file at `path` (written by `leftovers prices refresh`) when there is one,
    else the bundled book; a file that is there but invalid raises CatalogError naming it."""
    return load_prices(path) if path.exists() else load_prices()
