"""The `/leftovers` page at 100k leftovers: time to first byte and full load, server and browser.

The state is written straight through the store: 100k create facts with no delete, spread over
3 accounts x 8 regions and five priced types, from a few dozen people. It is served by the same
child as the HTTP benchmark; another process loads the default view (dearest first, 100 rows), a
deep page of another sort, and a filtered view, one request at a time, then the default view
16 at a time; Chromium (when installed) opens the page and
reports its navigation timing (time to first byte, and the load event: HTML, CSS and script).
"""

from __future__ import annotations

import random
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import anyio

from bench.harness import REGIONS_8, Figure, Outcome
from bench.http import load, start_server
from scanner.lifecycle import Actor, Change, Fact, ResourceKey
from scanner.pages import Page
from scanner.plan import Slice, StreamId
from scanner.store import Store

CHROMIUM = Path("/usr/bin/chromium")
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
#: (type, event name, attributes for its price)
KINDS = (
    ("ec2.instance", "RunInstances", (("instance_type", "t3.medium"),)),
    ("ec2.volume", "CreateVolume", (("size_gb", "100"), ("volume_type", "gp3"))),
    ("ec2.nat_gateway", "CreateNatGateway", ()),
    ("ec2.elastic_ip", "AllocateAddress", ()),
    ("s3.bucket", "CreateBucket", ()),
)
VIEWS = {
    "default": "/leftovers",
    "deep_page": "/leftovers?sort=-age&page=500",
    "filtered": "/leftovers?resource_type=ec2.volume&region=eu-west-1&sort=owner",
}


@dataclass(frozen=True, slots=True)
class PageConfig:
    """How many leftovers, requests per view, connections of the busy run, browser loads.

    Each view is loaded one request at a time: its p99 is the server's time for a page (plus
    the loopback), the figure the target is about. The busy run (the default view, `busy`
    connections at once) adds the queueing of a loaded server: its latencies are throughput.
    """

    leftovers: int
    requests: int
    busy: int
    browser_loads: int


FULL = PageConfig(100_000, 500, 16, 20)
SMOKE = PageConfig(600, 40, 2, 0)


def _facts(count: int, now: datetime) -> list[Fact]:
    rng = random.Random(13)
    people = [f"user{n:02d}" for n in range(40)]
    facts = []
    for n in range(count):
        resource_type, event, attributes = KINDS[n % len(KINDS)]
        account = ACCOUNTS[n % len(ACCOUNTS)]
        region = REGIONS_8[(n // len(ACCOUNTS)) % len(REGIONS_8)]
        person = rng.choice(people)
        actor = Actor(
            f"arn:aws:iam::{account}:user/{person}", person, f"198.51.100.{n % 250}", "aws-cli/2"
        )
        key = ResourceKey(account, region, resource_type, f"{resource_type.split('.')[1]}-{n:07d}")
        when = now - timedelta(seconds=rng.randrange(3600, 80 * 86400))
        facts.append(
            Fact(
                key,
                Change.CREATE,
                when,
                f"event-{n:07d}",
                event,
                actor,
                None,
                None,
                None,
                attributes,
            )
        )
    return facts


async def _write(path: Path, count: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store = await Store.open(path)
    try:
        facts = _facts(count, now)
        window = Slice(now - timedelta(days=90), now)
        for start in range(0, len(facts), 5000):
            batch = tuple(facts[start : start + 5000])
            stream = StreamId(ACCOUNTS[0], REGIONS_8[0], "read_only=false")
            await store.apply(Page(stream, window, batch, len(batch), None))
    finally:
        await store.close()


def _once(url: str) -> float:
    """One request's full time in ms (the first, cold one: a sort computed on first use)."""
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as answer:
        answer.read()
    return round((time.perf_counter() - began) * 1000, 2)


def _browser(url: str, loads: int) -> dict[str, Any] | None:
    """Chromium's navigation timing of the page: time to first byte and the load event (ms)."""
    if loads == 0 or not CHROMIUM.exists():
        return None
    from playwright.sync_api import sync_playwright

    ttfb: list[float] = []
    loaded: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for _ in range(loads):
            page.goto(url, wait_until="load")
            timing = page.evaluate(
                "(() => { const n = performance.getEntriesByType('navigation')[0];"
                " return [n.responseStart - n.requestStart, n.loadEventEnd - n.startTime]; })()"
            )
            ttfb.append(float(timing[0]))
            loaded.append(float(timing[1]))
        browser.close()
    return {
        "loads": loads,
        "ttfb_median_ms": round(median(ttfb), 2),
        "ttfb_max_ms": round(max(ttfb), 2),
        "load_median_ms": round(median(loaded), 2),
        "load_max_ms": round(max(loaded), 2),
    }


def bench_page(config: PageConfig, workdir: Path) -> Outcome:
    """Build the state, serve it, load the views from another process and from Chromium."""
    state = workdir / f"page-{config.leftovers}.db"
    started = time.perf_counter()
    if not state.exists():
        anyio.run(_write, state, config.leftovers)
    built = round(time.perf_counter() - started, 1)
    process, url, leftovers = start_server(state, workdir / "page-server.log")
    try:
        cold = {name: _once(url + path) for name, path in VIEWS.items()}
        views = {name: load(url + path, config.requests, 1) for name, path in VIEWS.items()}
        busy = load(url + VIEWS["default"], config.requests, config.busy)
        browser = _browser(url + VIEWS["default"], config.browser_loads)
    finally:
        process.terminate()
        process.wait(timeout=30)
    outcome = Outcome()
    default = views["default"]
    outcome.figures.append(Figure("page_ttfb_p99_ms", default["ttfb_p99_ms"], 200, "low"))
    outcome.figures.append(Figure("page_full_p99_ms", default["p99_ms"], 200, "low"))
    if browser is not None:
        outcome.figures.append(Figure("page_browser_load_ms", browser["load_median_ms"]))
    outcome.details["page"] = {
        "leftovers": leftovers,
        "state_seconds": built,
        "first_request_ms": cold,
        "views": {name: {"path": VIEWS[name], **views[name]} for name in VIEWS},
        "busy": {"path": VIEWS["default"], **busy},
        "browser": browser,
    }
    return outcome
