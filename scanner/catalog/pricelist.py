"""Price List queries and answers: which GetProducts call gives each figure, and its USD price."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scanner.catalog.yamlfile import read_yaml
from scanner.errors import CatalogError

#: How each rate and table of the price book is asked for (beside the bundled book).
PRICELIST_MAPPING = Path(__file__).with_name("pricelist.yaml")

#: The figure of a rate (one per region) has no class.
NO_CLASS = ""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contains(_Strict):
    contains: str = Field(min_length=1)


class EntryModel(_Strict):
    service: str = Field(min_length=1)
    filters: dict[str, str | Contains] = Field(default_factory=dict)
    unit: str = Field(min_length=1)


class TableEntryModel(EntryModel):
    class_: str = Field(alias="class", min_length=1)


class MappingModel(_Strict):
    version: Literal[1]
    rates: dict[str, EntryModel] = Field(default_factory=dict)
    tables: dict[str, TableEntryModel] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Query:
    """One GetProducts question: a rate's or a table's figures in one region."""

    kind: Literal["rates", "tables"]
    name: str
    region: str
    service: str
    #: (Type, Field, Value) as the API takes them
    filters: tuple[tuple[str, str, str], ...]
    unit: str
    #: the attribute holding a table's class, and the classes wanted ("" for a rate)
    class_field: str = ""
    classes: tuple[str, ...] = (NO_CLASS,)

    @property
    def label(self) -> str:
        """`NAME in REGION` (what a report line names)."""
        return f"{self.kind}.{self.name} in {self.region}"

    def request(self) -> dict[str, Any]:
        """The GetProducts parameters (without paging)."""
        return {
            "ServiceCode": self.service,
            "FormatVersion": "aws_v1",
            "Filters": [{"Type": t, "Field": f, "Value": v} for t, f, v in self.filters],
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What the products of one query say: a USD price per class, and what was wrong."""

    prices: Mapping[str, float]
    problems: tuple[str, ...] = ()


def load_mapping(path: Path = PRICELIST_MAPPING) -> MappingModel:
    """Read the mapping data; problems raise CatalogError naming the file."""
    data = read_yaml(path)
    try:
        return MappingModel.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(file)"
        raise CatalogError(f"{path}: {where}: {first['msg']}") from None


def _filters(entry: EntryModel, region: str) -> list[tuple[str, str, str]]:
    out = [("TERM_MATCH", "regionCode", region)]
    for name, value in entry.filters.items():
        if isinstance(value, Contains):
            out.append(("CONTAINS", name, value.contains))
        else:
            out.append(("TERM_MATCH", name, value))
    return out


def queries(mapping: MappingModel, book: Mapping[str, Any], regions: Iterable[str]) -> list[Query]:
    """Every query for the book's mapped rates and tables in `regions` (raw book data)."""
    out: list[Query] = []
    for region in regions:
        for name, entry in mapping.rates.items():
            if name in book.get("rates", {}):
                out.append(
                    Query(
                        "rates",
                        name,
                        region,
                        entry.service,
                        tuple(_filters(entry, region)),
                        entry.unit,
                    )
                )
        for name, table in mapping.tables.items():
            if name not in book.get("tables", {}):
                continue
            home = book["tables"][name]["prices"][book["home_region"]]
            classes = tuple(sorted(key for key in home if key != "default"))
            filters = [*_filters(table, region), ("ANY_OF", table.class_, ",".join(classes))]
            out.append(
                Query(
                    "tables",
                    name,
                    region,
                    table.service,
                    tuple(filters),
                    table.unit,
                    table.class_,
                    classes,
                )
            )
    return out


def unmapped(mapping: MappingModel, book: Mapping[str, Any]) -> list[str]:
    """The rates and tables of the book that the mapping does not cover."""
    rates = [f"rates.{n}" for n in book.get("rates", {}) if n not in mapping.rates]
    tables = [f"tables.{n}" for n in book.get("tables", {}) if n not in mapping.tables]
    return rates + tables


def _on_demand_usd(product: Mapping[str, Any], unit: str) -> float | str:
    """The first-tier OnDemand price in `unit`, or why there is none."""
    terms = product.get("terms")
    on_demand = terms.get("OnDemand") if isinstance(terms, dict) else None
    if not isinstance(on_demand, dict) or not on_demand:
        return "has no OnDemand term"
    found: set[float] = set()
    for term in on_demand.values():
        dimensions = term.get("priceDimensions") if isinstance(term, dict) else None
        for dimension in (dimensions or {}).values() if isinstance(dimensions, dict) else ():
            if not isinstance(dimension, dict) or dimension.get("unit") != unit:
                continue
            if str(dimension.get("beginRange", "0")) not in ("0", "0.0"):
                continue
            price = dimension.get("pricePerUnit", {})
            usd = price.get("USD") if isinstance(price, dict) else None
            try:
                value = float(usd) if isinstance(usd, str | int | float) else -1.0
            except ValueError:
                value = -1.0
            if value < 0:
                return f"has a {unit} price that is not a USD amount ({str(usd)[:40]!r})"
            found.add(value)
    if not found:
        return f"has no OnDemand price per {unit}"
    if len(found) > 1:
        return f"has {len(found)} different OnDemand prices per {unit}"
    return found.pop()


def read_answer(query: Query, entries: Iterable[object]) -> Answer:
    """The prices the PriceList entries (JSON strings) give, per class; every entry that cannot be
    used is one problem, saying what is wrong with it."""
    prices: dict[str, set[float]] = {}
    problems: list[str] = []
    for number, entry in enumerate(entries, 1):
        try:
            product = orjson.loads(entry) if isinstance(entry, str | bytes) else entry
        except orjson.JSONDecodeError as error:
            problems.append(f"a PriceList entry is not JSON ({error})")
            continue
        described = product.get("product") if isinstance(product, dict) else None
        attributes = described.get("attributes") if isinstance(described, dict) else None
        if not isinstance(product, dict) or not isinstance(attributes, dict):
            problems.append("a PriceList entry is not a product document")
            continue
        sku = str(described.get("sku", f"entry {number}"))[:40] if described else ""
        key = str(attributes.get(query.class_field, "")) if query.class_field else NO_CLASS
        if key not in query.classes:
            continue  # a product the filters let through that the book does not price
        usd = _on_demand_usd(product, query.unit)
        if isinstance(usd, str):
            problems.append(f"product {sku!r} {usd}")
            continue
        prices.setdefault(key, set()).add(usd)
    out: dict[str, float] = {}
    for key, values in prices.items():
        if len(values) > 1:
            shown = f"{key} " if key else ""
            problems.append(f"{shown}has {len(values)} products with different prices")
            continue
        out[key] = values.pop()
    return Answer(out, tuple(problems))
