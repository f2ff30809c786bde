"""The resource catalog: every idle-cost resource type, declared once as data, and its prices."""

from scanner.catalog.expressions import Expression, compile_expression, is_false
from scanner.catalog.load import DEFAULT_PATH, catalog_files, load_catalog, parse_catalog
from scanner.catalog.prices import (
    BUNDLED_PRICES,
    HOURS_PER_MONTH,
    PriceBook,
    load_preferred_prices,
    load_prices,
    parse_prices,
)
from scanner.catalog.runtime import (
    MODEL_ONLY,
    REAL_RECORD,
    Catalog,
    Price,
    ResourceType,
    Rule,
)

__all__ = [
    "BUNDLED_PRICES",
    "DEFAULT_PATH",
    "HOURS_PER_MONTH",
    "MODEL_ONLY",
    "REAL_RECORD",
    "Catalog",
    "Expression",
    "Price",
    "PriceBook",
    "ResourceType",
    "Rule",
    "catalog_files",
    "compile_expression",
    "is_false",
    "load_catalog",
    "load_preferred_prices",
    "load_prices",
    "parse_catalog",
    "parse_prices",
]
