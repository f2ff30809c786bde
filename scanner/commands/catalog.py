"""`leftovers catalog`: list the resource types the scanner knows, their events and prices."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from scanner.catalog import REAL_RECORD, Catalog, ResourceType, load_catalog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `leftovers catalog`."""
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="output format (default: table)",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        default=None,
        metavar="FILE",
        help="a catalog file to check and list instead of the packaged one",
    )
    parser.add_argument(
        "--type",
        dest="types",
        action="append",
        default=None,
        metavar="TYPE",
        help="list only this resource type (repeatable)",
    )


def _events(resource_type: ResourceType) -> dict[str, list[str]]:
    events: dict[str, list[str]] = {}
    for rule in resource_type.rules:
        label = rule.kind if rule.state is None else f"{rule.kind} -> {rule.state}"
        events.setdefault(label, []).append(rule.event_name)
    return events


def proof_counts(catalog: Catalog) -> tuple[int, int]:
    """(rules proven on a real record, rules checked against botocore's model only)."""
    rules = [rule for resource_type in catalog.types.values() for rule in resource_type.rules]
    proven = sum(rule.proof == REAL_RECORD for rule in rules)
    return proven, len(rules) - proven


def summary(catalog: Catalog) -> str:
    """One paragraph: how many types and rules, how they are proven, where prices come from."""
    proven, model_only = proof_counts(catalog)
    text = (
        f"{len(catalog.types)} resource types, {proven + model_only} rules: {proven} proven on "
        f"a real CloudTrail record, {model_only} checked against botocore's model only."
    )
    book = catalog.prices
    if book is not None:
        text += (
            f" Prices: list prices of {book.date.isoformat()} for {book.home_region} (other "
            f"regions priced as {book.home_region} where the price file has no figure); not "
            f"included: {'; '.join(book.not_included)}."
        )
    return text


def as_json(catalog: Catalog) -> dict[str, Any]:
    """The catalog as plain data (what `--format json` prints)."""
    proven, model_only = proof_counts(catalog)
    book = catalog.prices
    return {
        "global_region": catalog.global_region,
        "rules_proven_on_real_records": proven,
        "rules_checked_on_model_only": model_only,
        "prices": None
        if book is None
        else {
            "date": book.date.isoformat(),
            "home_region": book.home_region,
            "regions": sorted(book.regions),
            "source": book.source,
            "not_included": list(book.not_included),
        },
        "types": [
            {
                "resource_type": resource_type.name,
                "title": resource_type.title,
                "service": resource_type.service,
                "event_source": resource_type.event_source,
                "is_global": resource_type.is_global,
                "default_state": resource_type.default_state,
                "api": resource_type.api,
                "proof": resource_type.proof,
                "display": list(resource_type.display),
                "events": [
                    {
                        "event_name": rule.event_name,
                        "change": rule.kind,
                        "state": rule.state,
                        "id": rule.id_text,
                        "items": rule.items_text,
                        "new_id": rule.new_id_text,
                        "when": rule.when_text,
                        "proof": rule.proof,
                    }
                    for rule in resource_type.rules
                ],
                "price": None if resource_type.price is None else resource_type.price.describe(),
                "console_url": resource_type.console_url_template,
            }
            for resource_type in catalog.types.values()
        ],
    }


def _table(catalog: Catalog) -> Table:
    table = Table(title="Resource types", caption=summary(catalog), caption_justify="left")
    table.add_column("resource type", style="bold", overflow="fold")
    table.add_column("event source", overflow="fold")
    table.add_column("events", overflow="fold")
    table.add_column("price (idle)", overflow="fold")
    table.add_column("proof", overflow="fold")
    for resource_type in catalog.types.values():
        events = "\n".join(
            f"{label}: {', '.join(names)}" for label, names in _events(resource_type).items()
        )
        scope = " (global)" if resource_type.is_global else ""
        price = "unknown" if resource_type.price is None else resource_type.price.describe()
        table.add_row(
            f"{resource_type.name}\n{resource_type.title}{scope}",
            resource_type.event_source,
            events,
            price,
            resource_type.proof,
        )
    return table


def run(args: argparse.Namespace) -> int:
    """Print the catalog."""
    catalog = load_catalog(args.catalog).select(args.types)
    if args.format == "json":
        sys.stdout.buffer.write(orjson.dumps(as_json(catalog), option=orjson.OPT_INDENT_2))
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
        return 0
    Console(width=160 if not sys.stdout.isatty() else None).print(_table(catalog))
    return 0
