"""The pages in a real browser: Debian's chromium driven by Playwright, over the demo history.

The service scans the demo history (plus a bucket whose name and creator are markup) from the
emulator twice, then serves its pages; each test opens them as a person would, with JavaScript
on and off, with the token set and without, and saves screenshots at 1280x800 and 390x844 under
test-artifacts/screenshots/ (printed by `make test`).
"""

from __future__ import annotations

import copy
import csv
import io
import re
import shutil
import socket
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import orjson
import pytest
from anyio.from_thread import start_blocking_portal

from emulator import Emulator, generate
from scanner import demo
from scanner.catalog import load_catalog
from scanner.metrics import build_registry
from scanner.service import Service
from scanner.snapshot import Snapshot
from scanner.store import Store
from scanner.web import Context, create_app, serve_http

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SIZES = {"1280x800": (1280, 800), "390x844": (390, 844)}
MARKUP = "<script>alert(1)</script>[/]"
TOKEN = "browser-test-token"
NEW_VOLUMES = 6


@dataclass
class Served:
    """The running service: its base URL, its context (the token can be set) and snapshot."""

    base: str
    context: Context

    @property
    def snapshot(self) -> Snapshot:
        snapshot = self.context.current()
        assert snapshot is not None
        return snapshot


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _history() -> list[dict[str, Any]]:
    """The demo history, plus a bucket named (and made by someone named) with markup."""
    records = list(generate(demo.SPEC))
    bucket = copy.deepcopy(next(r for r in records if r["eventName"] == "CreateBucket"))
    when = datetime.fromisoformat(bucket["eventTime"]) + timedelta(minutes=1)
    bucket["eventTime"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    bucket["eventID"] = str(uuid.uuid4())
    bucket["requestParameters"]["bucketName"] = MARKUP
    bucket["resources"][0]["ARN"] = f"arn:aws:s3:::{MARKUP}"
    bucket["userIdentity"]["userName"] = MARKUP
    return [*records, bucket]


def _new_volumes(records: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """`count` volumes made a minute ago, like the history's first one (same account)."""
    model = next(r for r in records if r["eventName"] == "CreateVolume")
    when = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    made = []
    for n in range(count):
        record = copy.deepcopy(model)
        record["eventTime"] = when
        record["eventID"] = str(uuid.uuid4())
        record["responseElements"]["volumeId"] = f"vol-0newer{n:012d}"
        made.append(record)
    return made


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    history = _history()
    emulator = Emulator(records=history, rate=1_000_000.0, latency="off", seed=7)
    state = tmp_path_factory.mktemp("browser") / "state.db"
    port = _free_port()
    with (
        emulator.in_thread() as running,
        pytest.MonkeyPatch.context() as env,
        start_blocking_portal() as portal,
    ):
        for name, value in running.env("us-east-1").items():
            env.setenv(name, value)
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        settings = demo.demo_settings(running.endpoint_url, state, port)

        async def start() -> tuple[Store, Context, Any]:
            store = await Store.open(state)
            service = Service(settings, store, load_catalog().select(settings.resource_types))
            await service.scan_once()
            # Six more volumes before the second scan: the charts' second point goes up.
            body = orjson.dumps({"Records": _new_volumes(history, NEW_VOLUMES)})
            request = urllib.request.Request(
                f"{running.endpoint_url}/_emulator/records", data=body, method="POST"
            )
            await anyio.to_thread.run_sync(partial(urllib.request.urlopen, request, timeout=10))
            await anyio.sleep(1.1)  # the second scan ends in another second: a line, not a dot
            await service.scan_once()
            context = Context(
                current=service.snapshot,
                store=store,
                registry=build_registry(service.snapshot),
                interval_seconds=settings.service.interval_seconds,
            )
            return store, context, await serve_http(create_app(context), "127.0.0.1", port)

        store, context, runner = portal.call(start)
        try:
            yield Served(f"http://127.0.0.1:{port}", context)
        finally:

            async def stop() -> None:
                await runner.cleanup()
                await store.close()

            portal.call(stop)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (make tools installs Debian's chromium)")
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def served_open(served: Served) -> Iterator[Served]:
    """The service without a token (tests that set one put it back)."""
    served.context.token = None
    yield served
    served.context.token = None


class Tab:
    """One browser context and page, collecting console errors (CSP violations among them)."""

    def __init__(self, browser: Any, base: str, **options: Any) -> None:
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 800}, base_url=base, **options
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", lambda dialog: self.errors.append(f"dialog: {dialog.message}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def shoot(self, name: str) -> None:
        """Screenshots of the current page at both sizes (the viewport, and the whole page)."""
        for label, (width, height) in SIZES.items():
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.screenshot(path=str(SHOTS / f"{name}-{label}.png"))
            self.page.screenshot(path=str(SHOTS / f"{name}-{label}-full.png"), full_page=True)
        self.page.set_viewport_size({"width": 1280, "height": 800})

    def close(self, expected_errors: int = 0) -> None:
        errors = [e for e in self.errors if "401" not in e]  # a sign-in page's own status
        self.context.close()
        assert len(errors) == expected_errors, errors


@pytest.fixture
def tab(browser: Any, served_open: Served) -> Iterator[Tab]:
    opened = Tab(browser, served_open.base)
    yield opened
    opened.close()


def _cells(tab: Tab, label: str) -> list[str]:
    return list(tab.page.locator(f'#leftovers tbody [data-label="{label}"]').all_inner_texts())


def _details(tab: Tab) -> list[str]:
    """The detail links of the listed rows (ids repeat across accounts and regions)."""
    links = tab.page.locator("#leftovers a.detail")
    return list(links.evaluate_all("nodes => nodes.map(n => n.getAttribute('href'))"))


def _costs(tab: Tab) -> list[float]:
    return [float(t.replace(",", "")) for t in _cells(tab, "USD/hour") if t.strip() != "?"]


def test_overview_shows_the_demo_totals_health_and_charts(tab: Tab, served: Served) -> None:
    page = tab.page
    answer = page.goto("/")
    assert answer is not None
    assert answer.status == 200
    snapshot = served.snapshot
    count = page.locator("dl.totals div", has_text="Leftovers").locator("dd")
    assert count.inner_text() == f"{len(snapshot.entries):,}"
    accounts = {e.key.account_id for e in snapshot.entries}
    assert page.locator("#by-account tbody tr").count() == len(accounts)
    health = page.locator("#health-table tbody tr")
    assert health.count() == 6  # 3 accounts x 2 regions
    assert page.locator("#health-table .status.ok").count() == 6
    assert "not scheduled" not in page.locator("dl.totals").inner_text()
    # two scans kept: a line per account on each chart; the volumes added before the second
    # scan raise one account's line
    assert page.locator("figure.chart").count() == 2
    assert page.locator("figure.chart polyline").count() == 2 * len(accounts)
    first = page.locator("#chart-count-title + svg polyline").evaluate_all(
        "lines => lines.map(l => l.getAttribute('points'))"
    )
    heights = [[float(p.split(",")[1]) for p in points.split()] for points in first]
    assert [len(h) for h in heights] == [2] * len(accounts)
    assert sum(h[0] > h[1] for h in heights) == 1  # up on the chart: a smaller y
    assert sum(h[0] == h[1] for h in heights) == len(accounts) - 1
    tab.shoot("overview")
    page.locator("#by-type tbody a").first.click()
    assert "/leftovers?resource_type=" in page.url


def test_list_sorts_filters_and_pages_by_clicking(tab: Tab, served: Served) -> None:
    page = tab.page
    page.goto("/leftovers")
    costs = _costs(tab)
    assert costs == sorted(costs, reverse=True)  # the dearest first
    assert len(costs) >= 2
    tab.shoot("leftovers")

    page.locator('thead a[data-sort="age"]').click()
    assert "sort=-age" in page.url
    created = page.locator("#leftovers tbody time").evaluate_all(
        "nodes => nodes.map(n => n.getAttribute('datetime'))"
    )
    assert created == sorted(created)  # the oldest first
    page.locator('thead a[data-sort="type"]').click()
    types = _cells(tab, "Type")
    assert types == sorted(types)
    assert page.locator('th[aria-sort="ascending"]').inner_text().startswith("Type")

    account = sorted({e.key.account_id for e in served.snapshot.entries})[1]
    page.fill("#f-account_id", account)
    page.press("#f-account_id", "Enter")
    page.wait_for_url(re.compile(r"account_id="))
    assert "sort=type" in page.url  # the sort survives filtering
    assert set(_cells(tab, "Account")) == {account}
    expected = sum(e.key.account_id == account for e in served.snapshot.entries)
    assert f"{expected} leftovers match the filters" in page.locator("#count").inner_text()

    page.get_by_role("link", name="Clear filters").click()
    page.get_by_role("link", name="25", exact=True).click()
    assert len(_cells(tab, "Type")) == 25
    first_page = _details(tab)
    page.locator("#next-page").click()
    assert "page=2" in page.url
    second_page = _details(tab)
    assert len(second_page) == 25
    assert not set(first_page) & set(second_page)
    assert "26–50" in page.locator("#count").inner_text()  # noqa: RUF001 (the page's dash)
    page.locator("#prev-page").click()
    assert _details(tab) == first_page
    # a filter by clicking a value in the list
    owner = page.locator('#leftovers tbody [data-label="Owner"] a').first
    name = owner.inner_text()
    owner.click()
    assert set(page.locator('#leftovers tbody [data-label="Owner"] a').all_inner_texts()) == {name}


def test_console_link_leads_to_the_resource_in_the_console(tab: Tab, served: Served) -> None:
    page = tab.page
    page.goto("/leftovers?resource_type=ec2.volume")
    link = page.locator("#leftovers a.console").first
    href = link.get_attribute("href")
    row_id = page.locator("#leftovers a.detail").first.inner_text()
    entry = next(e for e in served.snapshot.entries if e.key.resource_id == row_id)
    assert href == entry.leftover.console_url
    assert href.startswith(f"https://{entry.key.region}.console.aws.amazon.com/ec2/")
    assert link.get_attribute("rel") == "noreferrer noopener"
    # follow it (the console answers from a stand-in here: no network)
    visited: list[str] = []

    def console(route: Any) -> None:
        visited.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>console</title>")

    tab.context.route(re.compile(r"^https://[^/]*console\.aws\.amazon\.com/"), console)
    with tab.context.expect_page() as opened:
        link.click()
    opened.value.wait_for_load_state()
    assert visited == [href.split("#")[0]]  # a fragment stays in the browser
    assert opened.value.url == href


def test_markup_in_aws_values_shows_as_text(tab: Tab) -> None:
    page = tab.page
    page.goto("/leftovers?resource_type=s3.bucket&sort=-age")
    detail = page.locator("#leftovers a.detail", has_text=MARKUP)
    assert detail.count() == 1
    assert detail.inner_text() == MARKUP
    owner = page.locator('#leftovers [data-label="Owner"] a', has_text=MARKUP)
    assert owner.inner_text() == MARKUP
    detail.click()
    assert page.locator("h1").inner_text() == MARKUP
    assert page.locator("script:not([src])").count() == 0
    tab.shoot("markup")
    owner_filter = page.goto(f"/leftovers?created_by={MARKUP}")
    assert owner_filter is not None
    assert owner_filter.status == 200
    assert page.locator("#leftovers a.detail").all_inner_texts() == [MARKUP]


def test_resource_page_shows_the_lifecycle(tab: Tab, served: Served) -> None:
    page = tab.page
    snapshot = served.snapshot
    changed = next(
        e
        for e in snapshot.entries
        if (lc := snapshot.lifecycles[e.key]).state_change is not None and lc.origin is None
    )
    page.goto(f"/leftovers?resource_type={changed.key.resource_type}&sort=id&per_page=500")
    page.locator("#leftovers a.detail", has_text=changed.key.resource_id).first.click()
    assert page.locator("h1").inner_text() == changed.key.resource_id
    steps = page.locator("ol.timeline > li")
    assert steps.count() >= 2
    assert page.locator("ol.timeline > li.create").count() >= 1
    assert page.locator("ol.timeline > li.state").count() >= 1
    first = steps.first
    assert changed.leftover.created_by.source_ip in first.inner_text()
    raw = first.locator("details pre")
    assert not raw.is_visible()
    first.locator("summary").click()
    assert raw.is_visible()
    assert changed.leftover.create_event_id in raw.inner_text()
    tab.shoot("resource")


def test_copy_as_json_and_csv_download_are_the_view(
    browser: Any, served_open: Served, tmp_path: Path
) -> None:
    tab = Tab(browser, served_open.base, accept_downloads=True)
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = tab.page
    page.goto("/leftovers?service=ec2&sort=-age")
    total = int(re.findall(r"[\d,]+", page.locator("#count").inner_text())[0].replace(",", ""))
    page.locator("#copy-json").click()
    page.wait_for_selector("#copy-json[data-copied]")
    copied = orjson.loads(page.evaluate("navigator.clipboard.readText()"))
    assert copied["count"] == total
    assert {i["service"] for i in copied["leftovers"]} == {"ec2"}
    ages = [i["age_seconds"] for i in copied["leftovers"]]
    assert ages == sorted(ages, reverse=True)
    assert "Copied" in page.locator("#copy-status").inner_text()
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    saved = tmp_path / "view.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [r["resource_id"] for r in rows] == [i["resource_id"] for i in copied["leftovers"]]
    tab.close()


def test_pages_work_with_javascript_off(browser: Any, served_open: Served) -> None:
    tab = Tab(browser, served_open.base, java_script_enabled=False)
    page = tab.page
    page.goto("/leftovers")
    page.locator('thead a[data-sort="cost"]').click()  # cost: now ascending
    costs = _costs(tab)
    assert costs == sorted(costs)
    page.fill("#f-resource_type", "ec2.volume")
    page.locator("form.filters button[type=submit]").click()
    assert set(_cells(tab, "Type")) == {"ec2.volume"}
    page.locator("#copy-json").click()  # without a script the link opens the JSON
    assert page.url.startswith(f"{served_open.base}/leftovers.json?resource_type=ec2.volume")
    assert '"count"' in page.content()
    page.goto("/leftovers?per_page=25")
    page.locator("#next-page").click()
    assert "page=2" in page.url
    tab.shoot("leftovers-nojs")
    tab.close()


def test_token_pages_take_the_form_or_basic_and_the_api_keeps_bearer(
    browser: Any, served_open: Served
) -> None:
    served_open.context.token = TOKEN
    tab = Tab(browser, served_open.base)
    page = tab.page
    # A page asks for Basic (the browser's prompt) and carries the form for when it is
    # cancelled (Playwright cannot cancel a prompt: the form is opened as that would show it).
    asked = tab.context.request.get("/leftovers?resource_type=ec2.volume")
    assert asked.status == 401
    assert asked.headers["www-authenticate"].startswith("Basic ")
    assert 'name="next" value="/leftovers?resource_type=ec2.volume"' in asked.text()
    page.goto("/login?next=/leftovers%3Fresource_type%3Dec2.volume")
    assert page.locator("h1").inner_text() == "Sign in"
    tab.shoot("login")
    page.fill("#token", "wrong")
    page.press("#token", "Enter")
    assert "not the service's token" in page.locator(".error").inner_text()
    page.fill("#token", TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/leftovers\?resource_type=ec2.volume$"))
    assert set(_cells(tab, "Type")) == {"ec2.volume"}
    cookie = next(c for c in tab.context.cookies() if c["name"] == "leftovers_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    api = page.goto("/results")
    assert api is not None
    assert api.status == 401  # the JSON API keeps its bearer token
    page.goto("/")
    page.get_by_role("button", name="Sign out").click()
    assert page.locator("h1").inner_text() == "Sign in"
    tab.close(expected_errors=1)  # the wrong token's 403

    basic = Tab(browser, served_open.base, http_credentials={"username": "me", "password": TOKEN})
    answer = basic.page.goto("/")
    assert answer is not None
    assert answer.status == 200
    assert basic.page.locator("h1").inner_text() == "Overview"
    basic.close()


def test_keyboard_reaches_the_list_and_the_sort_links(tab: Tab) -> None:
    page = tab.page
    page.goto("/leftovers")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    focused: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.getAttribute('data-sort') || ''"))
    assert "cost" in focused
    assert "age" in focused
