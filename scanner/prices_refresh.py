"""Refresh the price book from the AWS Price List Query API into a dated price file.

Each rate and table the mapping (catalog/pricelist.yaml) covers is asked for per region with
pricing:GetProducts, through aioboto3 with the scan's credentials, endpoint and retry settings.
The file written is the bundled book with every figure the API returned replaced or added; a
figure it did not return keeps the bundled value and is reported, one line per rate or table and
reason, with counts.
"""

from __future__ import annotations

import copy
import os
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aioboto3
import anyio
import yaml

from scanner.catalog.pricelist import (
    PRICELIST_MAPPING,
    Answer,
    Query,
    load_mapping,
    queries,
    read_answer,
    unmapped,
)
from scanner.catalog.prices import BUNDLED_PRICES, parse_prices
from scanner.errors import InputError
from scanner.logs import get_logger
from scanner.settings import Settings
from scanner.sources import SourceError
from scanner.sources.aws import AwsClients, client_config, enabled_regions
from scanner.sources.lookup import classify
from scanner.throttle import backoff

log = get_logger("prices")

#: Where the Price List Query API is served (its endpoints live in these regions only).
PRICING_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1")
#: GetProducts calls out at once.
CONCURRENCY = 4
#: How many examples a collapsed line names.
EXAMPLES = 4


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What a refresh did: the file written (None: nothing could be read), figures and lines."""

    path: Path | None
    regions: tuple[str, ...]
    refreshed: int
    kept: int
    lines: tuple[str, ...]


async def _pages(client: Any, query: Query, settings: Settings, rng: random.Random) -> list[object]:
    """Every PriceList entry of one query, page by page, retrying throttled and transient calls."""
    retry = settings.retry
    entries: list[object] = []
    token: str | None = None
    while True:
        request = query.request() | {"MaxResults": 100} | ({"NextToken": token} if token else {})
        attempt = 0
        while True:
            attempt += 1
            try:
                with anyio.fail_after(retry.call_timeout_seconds):
                    answer = await client.get_products(**request)
                break
            except Exception as error:
                failure = (
                    SourceError("transient", f"no answer within {retry.call_timeout_seconds:g} s")
                    if isinstance(error, TimeoutError)
                    else classify(error)
                )
                if failure.kind not in ("throttled", "transient") or attempt >= retry.attempts:
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    raise SourceError(failure.kind, failure.reason + tries) from None
                log.debug("price_call_retried", query=query.label, reason=failure.reason)
                delay = backoff(
                    attempt, retry.base_delay_seconds, retry.max_delay_seconds, rng.random()
                )
                await anyio.sleep(delay)
        entries.extend(answer.get("PriceList") or [])
        token = answer.get("NextToken")
        if not token:
            return entries


async def ask(
    settings: Settings, wanted: Sequence[Query], pricing_region: str
) -> dict[Query, Answer | str]:
    """Each query's answer, or the one-line reason its calls failed."""
    session = aioboto3.Session()
    results: dict[Query, Answer | str] = {}
    limiter = anyio.CapacityLimiter(CONCURRENCY)
    rng = random.Random(0)
    async with session.client(
        "pricing",
        region_name=pricing_region,
        endpoint_url=settings.endpoint_url,
        config=client_config(CONCURRENCY),
    ) as client:

        async def one(query: Query) -> None:
            async with limiter:
                try:
                    results[query] = read_answer(query, await _pages(client, query, settings, rng))
                except SourceError as error:
                    results[query] = error.reason

        async with anyio.create_task_group() as group:
            for query in wanted:
                group.start_soon(one, query)
    return results


def _examples(items: Sequence[str]) -> str:
    shown = ", ".join(items[:EXAMPLES])
    return shown + (f", ... ({len(items) - EXAMPLES} more)" if len(items) > EXAMPLES else "")


def _count(number: int, one: str, many: str = "") -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def report(results: Mapping[Query, Answer | str], not_mapped: Sequence[str]) -> list[str]:
    """The problem lines, each once with the queries it concerns: bad answers, failed calls, then
    the figures left at their bundled value per rate or table, and the rates with no mapping."""
    problems: dict[str, list[str]] = defaultdict(list)
    missing: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for query, answer in results.items():
        if isinstance(answer, str):
            problems[f"GetProducts failed: {answer}"].append(query.label)
            found: Mapping[str, float] = {}
        else:
            for problem in dict.fromkeys(answer.problems):
                problems[problem].append(query.label)
            found = answer.prices
        for key in query.classes:
            if key not in found:
                missing[f"{query.kind}.{query.name}"][query.region].append(key)
    lines = [
        f"{problem} ({_count(len(labels), 'query', 'queries')}: {_examples(labels)})"
        for problem, labels in problems.items()
    ]
    for name, by_region in missing.items():
        figures = sum(len(keys) for keys in by_region.values())
        classes = sorted({key for keys in by_region.values() for key in keys if key})
        what = f" ({_examples(classes)})" if classes else ""
        lines.append(
            f"{name}: no price for {_count(figures, 'figure')}{what} in "
            f"{_count(len(by_region), 'region')} "
            f"({_examples(sorted(by_region))}): the bundled figure is kept"
        )
    if not_mapped:
        lines.append(
            f"{_count(len(not_mapped), 'rate or table', 'rates and tables')} without a Price "
            "List mapping "
            f"({_examples(list(not_mapped))}): their bundled figures are kept"
        )
    return lines


def merge(
    book: Mapping[str, Any],
    results: Mapping[Query, Answer | str],
    today: date,
    regions: Sequence[str],
    where: str,
) -> tuple[dict[str, Any], int]:
    """The bundled book's data with every returned figure in place, dated and sourced."""
    data = copy.deepcopy(dict(book))
    refreshed = 0
    for query, answer in results.items():
        if isinstance(answer, str):
            continue
        prices = data[query.kind][query.name]["prices"]
        for key, usd in answer.prices.items():
            refreshed += 1
            if query.kind == "rates":
                prices[query.region] = usd
            else:
                prices.setdefault(query.region, {})[key] = usd
    data["date"] = today
    data["source"] = (
        f"AWS Price List Query API (pricing:GetProducts at {where}), OnDemand list prices of "
        f"{today.isoformat()} for {', '.join(regions)}; figures it did not return are the "
        f"bundled book's of {book['date']}"
    )
    return data, refreshed


def write_price_file(path: Path, data: Mapping[str, Any]) -> None:
    """Write the file whole (a temporary file renamed over it), after checking it loads."""
    parse_prices(data, str(path))  # never write a file the scanner would refuse
    header = (
        "# A price file written by `leftovers prices refresh`: the scanner prefers it over the\n"
        "# bundled price book. Same form as scanner/catalog/prices.yaml.\n"
    )
    text = header + yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:
        raise InputError(
            f"{path}: cannot write the price file ({error.strerror or error})"
        ) from None


async def refresh(
    settings: Settings,
    path: Path,
    pricing_region: str = "us-east-1",
    mapping_path: Path = PRICELIST_MAPPING,
) -> Refreshed:
    """Ask for every mapped figure in the settings' regions; write the dated file to `path`."""
    book = yaml.safe_load(BUNDLED_PRICES.read_text(encoding="utf-8"))
    mapping = load_mapping(mapping_path)
    if settings.regions is not None:
        regions = list(settings.regions)
    else:
        async with AwsClients() as clients:
            regions = await enabled_regions(clients, clients.base, settings.endpoint_url)
    wanted = queries(mapping, book, regions)
    log.info("prices_refresh_started", queries=len(wanted), regions=len(regions))
    results = await ask(settings, wanted, pricing_region)
    lines = report(results, unmapped(mapping, book))
    where = settings.endpoint_url or f"{pricing_region}"
    today = datetime.now(UTC).date()
    data, refreshed = merge(book, results, today, regions, where)
    wanted_figures = sum(len(q.classes) for q in wanted)
    if refreshed == 0:
        return Refreshed(None, tuple(regions), 0, wanted_figures, tuple(lines))
    write_price_file(path, data)
    return Refreshed(path, tuple(regions), refreshed, wanted_figures - refreshed, tuple(lines))
