"""The resource catalog: every idle-cost resource type, declared once as data."""

from scanner.catalog.expressions import Expression, compile_expression
from scanner.catalog.load import DEFAULT_PATH, load_catalog, parse_catalog
from scanner.catalog.runtime import HOURS_PER_MONTH, Catalog, Price, ResourceType, Rule

__all__ = [
    "DEFAULT_PATH",
    "HOURS_PER_MONTH",
    "Catalog",
    "Expression",
    "Price",
    "ResourceType",
    "Rule",
    "compile_expression",
    "load_catalog",
    "parse_catalog",
]
