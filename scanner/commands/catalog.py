"""`leftovers catalog`: list the resource types the scanner knows, their events and prices."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from scanner.catalog import Catalog, ResourceType, load_catalog


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `leftovers catalog`."""
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        help="output format (default: table on a terminal, json otherwise, as `scan`)",
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


def as_json(catalog: Catalog) -> dict[str, Any]:
    """The catalog as plain data (what `--format json` prints)."""
    return {
        "global_region": catalog.global_region,
        "types": [
            {
                "resource_type": resource_type.name,
                "title": resource_type.title,
                "service": resource_type.service,
                "event_source": resource_type.event_source,
                "is_global": resource_type.is_global,
                "default_state": resource_type.default_state,
                "display": list(resource_type.display),
                "events": [
                    {
                        "event_name": rule.event_name,
                        "change": rule.kind,
                        "state": rule.state,
                        "id": rule.id_text,
                        "items": rule.items_text,
                        "new_id": rule.new_id_text,
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
    table = Table(title="Resource types (prices: rough us-east-1 on-demand estimates)")
    table.add_column("resource type", style="bold")
    table.add_column("event source")
    table.add_column("events")
    table.add_column("price")
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
        )
    return table


def run(args: argparse.Namespace) -> int:
    """Print the catalog."""
    catalog = load_catalog(args.catalog).select(args.types)
    if (args.format or ("table" if sys.stdout.isatty() else "json")) == "json":
        sys.stdout.buffer.write(orjson.dumps(as_json(catalog), option=orjson.OPT_INDENT_2))
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
        return 0
    console = Console()
    (console if console.is_terminal else Console(width=160)).print(_table(catalog))
    return 0
