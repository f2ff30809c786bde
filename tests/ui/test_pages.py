"""The pages over a hand-built snapshot, through aiohttp: content, sort, filters, paging,
downloads, escaping, data-driven columns, security headers and the pages' own sign-in."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from scanner.bookkeeping import scan_totals
from scanner.catalog import load_catalog
from scanner.cleanup_plan import delete_command
from scanner.lifecycle import Actor, Change, Fact, Lifecycle, ResourceKey
from scanner.pages import Page
from scanner.plan import Slice, StreamId
from scanner.snapshot import Snapshot
from scanner.store import Store
from scanner.ui.auth import COOKIE, local_path, session_value, valid_session
from tests.snapshots import ALICE, BOB, NOW, build, created, entry

Client = TestClient[Any, Any]
Factory = Callable[..., Any]
MARKUP = "<script>alert(1)</script>[/]"


def many(count: int, **changes: Any) -> Snapshot:
    """The hand-built snapshot with `count` volumes instead, of costs 0, 0.001, ... ."""
    base = build()
    entries = []
    for n in range(count):
        key = ResourceKey("111111111111", "eu-west-1", "ec2.volume", f"vol-{n:04d}")
        fact = created(key, hours_ago=n + 1, actor=ALICE if n % 2 else BOB, event_id=f"m{n}")
        entries.append(entry(fact, "available", n / 1000))
    entries.sort(key=lambda e: e.sort_key)
    lifecycles = {e.key: Lifecycle(e.key) for e in entries}
    return replace(base, entries=tuple(entries), lifecycles=lifecycles, **changes)


async def html(client: Client, path: str, status: int = 200) -> str:
    response = await client.get(path)
    text = await response.text()
    assert response.status == status, text
    return text


def resource_ids(page: str) -> list[str]:
    return re.findall(r'<a class="detail" href="[^"]+">([^<]+)</a>', page)


async def test_overview_shows_totals_breakdowns_health_and_next_scan(
    client_for: Factory, store: Store
) -> None:
    snapshot = build()
    await store.record_totals(snapshot.scan_id, scan_totals(snapshot))
    page = await html(await client_for(snapshot), "/")
    totals = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(?:<a[^>]*>)?([^<]+)", page))
    assert totals["Leftovers"] == "4"
    assert totals["Estimated USD/hour"] == "0.075"  # 0.01 + 0.02 + 0.045, the db has no price
    assert totals["Without a known price"] == "1"
    assert totals["Next scan"] == "2025-03-01 12:59 UTC (in 59 min)"  # began 1.5 s before NOW
    assert 'href="/leftovers?account_id=111111111111"' in page
    assert 'href="/leftovers?created_by=alice"' in page
    # the failing region is listed first with its reason; the two others are ok
    health = page[page.index('id="health-table"') :]
    assert health.index("222222222222") < health.index("111111111111")
    assert '<span class="status failing">failing</span> access_denied' in health
    assert health.count('class="status ok"') == 2
    assert page.count("<polyline") == 4  # two accounts, two charts


async def test_overview_lists_incomplete_regions_when_the_snapshot_has_them(
    client_for: Factory,
) -> None:
    base = build()
    unread = {("111111111111", "us-east-1"): "gap"}
    page = await html(await client_for(replace(base, unread=unread)), "/")
    assert "Not read in full" in page
    assert '<span class="status incomplete">incomplete</span> gap' in page
    assert "Not read in full" not in await html(await client_for(base), "/")


async def test_list_sorts_by_cost_first_and_by_any_column(client_for: Factory) -> None:
    client = await client_for(build())
    assert resource_ids(await html(client, "/leftovers")) == ["nat-1", "vol-2", "vol-1", "db/a"]
    assert resource_ids(await html(client, "/leftovers?sort=cost")) == [
        "vol-1",
        "vol-2",
        "nat-1",
        "db/a",  # no price: last either way
    ]
    assert resource_ids(await html(client, "/leftovers?sort=-age")) == [
        "nat-1",
        "vol-1",
        "db/a",
        "vol-2",
    ]
    page = await html(client, "/leftovers?sort=owner")
    assert resource_ids(page)[:2] == ["vol-2", "vol-1"]  # alice, in cost order
    # the sorted column says so, and its heading links to the other direction
    assert re.search(r'aria-sort="ascending">\s*<a href="/leftovers\?sort=-owner"', page)


async def test_list_filters_like_results_and_keeps_them_in_links(client_for: Factory) -> None:
    client = await client_for(build())
    page = await html(client, "/leftovers?resource_type=ec2.volume&created_by=alice&sort=age")
    assert resource_ids(page) == ["vol-2", "vol-1"]
    assert "2 leftovers match the filters" in page
    assert 'value="ec2.volume"' in page
    # sort links keep the filters; empty form fields are ignored
    assert "/leftovers?resource_type=ec2.volume&amp;created_by=alice&amp;sort=-age" in page
    assert resource_ids(await html(client, "/leftovers?region=&state=stopped")) == ["db/a"]
    bad = await html(client, "/leftovers?min_age=soon", status=400)
    assert "min_age: &#39;soon&#39; is not a duration" in bad
    assert "sort: must be one of" in await html(client, "/leftovers?sort=colour", status=400)
    assert "per_page" in await html(client, "/leftovers?per_page=7", status=400)


async def test_list_pages_server_side(client_for: Factory) -> None:
    client = await client_for(many(130))
    first = await html(client, "/leftovers")
    assert len(resource_ids(first)) == 100
    assert resource_ids(first)[0] == "vol-0129"  # the dearest
    assert "showing 1\N{EN DASH}100" in first
    assert 'href="/leftovers?page=2" rel="next"' in first
    second = await html(client, "/leftovers?page=2")
    assert resource_ids(second) == [f"vol-{n:04d}" for n in range(29, -1, -1)]
    assert "Page 2 of 2" in second
    small = await html(client, "/leftovers?sort=id&per_page=25&page=3")
    assert resource_ids(small) == [f"vol-{n:04d}" for n in range(50, 75)]
    # a page past the end shows the last one
    assert resource_ids(await html(client, "/leftovers?page=99")) == resource_ids(second)


async def test_downloads_are_the_filtered_sorted_view(client_for: Factory) -> None:
    client = await client_for(build())
    query = "?service=ec2&sort=-age&page=1"
    response = await client.get("/leftovers.json" + query)
    body = await response.json()
    assert body["count"] == 3
    assert [i["resource_id"] for i in body["leftovers"]] == ["nat-1", "vol-1", "vol-2"]
    assert body["leftovers"][0]["age_seconds"] == 50 * 3600
    response = await client.get("/leftovers.csv" + query)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["resource_id"] for r in rows] == ["nat-1", "vol-1", "vol-2"]
    assert rows[0]["created_by_user"] == "bob"


async def test_csv_cells_are_never_formulas(client_for: Factory) -> None:
    key = ResourceKey("111111111111", "eu-west-1", "ec2.volume", "=HYPERLINK(1)")
    evil = entry(created(key, 1, Actor(user_name="+bob"), "x"), "-1", None)
    client = await client_for(replace(build(), entries=(evil,)))
    rows = list(csv.DictReader(io.StringIO(await (await client.get("/leftovers.csv")).text())))
    assert (rows[0]["resource_id"], rows[0]["created_by_user"], rows[0]["state"]) == (
        "'=HYPERLINK(1)",
        "'+bob",
        "'-1",
    )


async def test_aws_values_are_escaped_everywhere(client_for: Factory) -> None:
    key = ResourceKey("111111111111", "eu-west-1", "ec2.volume", MARKUP)
    actor = Actor(f"arn:aws:iam::111111111111:user/{MARKUP}", MARKUP, MARKUP, MARKUP)
    item = entry(created(key, 3, actor, "x"), MARKUP, None)
    snapshot = replace(build(), entries=(item,), lifecycles={key: Lifecycle(key)})
    client = await client_for(snapshot)
    detail = (
        "/leftovers/111111111111/eu-west-1/ec2.volume/"
        "%3Cscript%3Ealert%281%29%3C%2Fscript%3E%5B%2F%5D"
    )
    for path in ("/", "/leftovers", detail):
        page = await html(client, path)
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;[/]" in page
    assert f'href="{detail}"' in await html(client, "/leftovers")


async def test_optional_columns_appear_only_with_data(client_for: Factory) -> None:
    base = build()
    plain = await html(await client_for(base), "/leftovers")
    assert "Verified" not in plain
    assert "Ignored because" not in plain
    first = base.entries[0]
    marked = replace(first, item={**first.item, "verification": {"outcome": "present"}})
    client = await client_for(replace(base, entries=(marked, *base.entries[1:])))
    page = await html(client, "/leftovers?sort=verification")
    assert "Verified" in page
    assert '<td data-label="Verified">present</td>' in page
    assert "Ignored because" not in page
    assert resource_ids(page)[0] == first.key.resource_id


async def test_resource_page_shows_the_lifecycle_from_the_store(
    client_for: Factory, store: Store
) -> None:
    snapshot = build()
    key = ResourceKey("111111111111", "eu-west-1", "ec2.volume", "vol-1")
    actor = Actor("arn:aws:iam::111111111111:user/alice", "alice", "198.51.100.7", "aws-cli/2.15")
    facts = [
        Fact(key, Change.CREATE, NOW - timedelta(hours=30), "e1", "CreateVolume", actor),
        Fact(key, Change.STATE, NOW - timedelta(hours=3), "e7", "AttachVolume", actor, "in-use"),
        Fact(key, Change.DELETE, NOW + timedelta(hours=1), "e8", "DeleteVolume", actor),
    ]
    stream = StreamId(key.account_id, key.region, "read_only=false")
    window = Slice(NOW - timedelta(days=2), NOW + timedelta(days=1))
    await store.apply(Page(stream, window, tuple(facts), 3, None))
    page = await html(
        await client_for(snapshot), "/leftovers/111111111111/eu-west-1/ec2.volume/vol-1"
    )
    steps = re.findall(r'<li class="step (\w+)">', page)
    assert steps == ["create", "state"]  # the delete is after the snapshot's window
    assert "state: in-use" in page
    assert "198.51.100.7" in page
    assert "aws-cli/2.15" in page
    assert "<summary>Stored record</summary>" in page
    assert "&#34;event_id&#34;: &#34;e7&#34;" in page
    assert 'href="https://console.example/vol-1"' in page
    missing = "/leftovers/111111111111/eu-west-1/ec2.volume/vol-404"
    assert "No such resource" in await html(await client_for(snapshot), missing, status=404)


async def test_resource_page_shows_the_delete_command_the_plan_would_write(
    client_for: Factory,
) -> None:
    path = "/leftovers/111111111111/eu-west-1/ec2.volume/vol-1"
    page = await html(await client_for(build()), path)
    assert "Delete command" not in page  # a context that knows no commands shows none
    commands = partial(delete_command, catalog=load_catalog())
    page = await html(await client_for(build(), delete_command=commands), path)
    assert "Delete command" in page
    assert "aws --region eu-west-1 ec2 delete-volume --volume-id vol-1" in page


async def test_pages_send_a_strict_policy_and_no_inline_code(client_for: Factory) -> None:
    client = await client_for(build())
    for path in ("/", "/leftovers", "/leftovers/111111111111/eu-west-1/ec2.volume/vol-1", "/login"):
        response = await client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy
        assert "script-src 'self'" in policy
        assert "default-src 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Access-Control-Allow-Origin" not in response.headers
        page = await response.text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert not re.search(r"\sstyle=|<style", page), path
        assert not re.search(r"\son[a-z]+=", page), path
    static = await client.get("/static/ui.js")
    assert static.status == 200
    assert static.headers["Content-Type"].startswith(("application/javascript", "text/javascript"))


async def test_waiting_page_before_the_first_scan(client_for: Factory) -> None:
    page = await html(await client_for(None), "/leftovers", status=503)
    assert "first scan has not finished" in page


# --- sign-in -----------------------------------------------------------------------------------


async def test_token_pages_ask_for_basic_or_a_session_while_the_api_keeps_bearer(
    client_for: Factory,
) -> None:
    client = await client_for(build(), token="s3cret")
    asked = await client.get("/leftovers?state=stopped")
    assert asked.status == 401
    assert asked.headers["WWW-Authenticate"].startswith("Basic realm=")
    form = await asked.text()
    assert 'name="next" value="/leftovers?state=stopped"' in form
    assert (await client.get("/static/ui.css")).status == 200
    basic = {"Authorization": "Basic " + base64.b64encode(b"me:s3cret").decode()}
    assert (await client.get("/", headers=basic)).status == 200
    wrong = {"Authorization": "Basic " + base64.b64encode(b"me:nope").decode()}
    assert (await client.get("/", headers=wrong)).status == 401
    assert (await client.get("/results", headers=basic)).status == 401
    assert (await client.get("/results", headers={"Authorization": "Bearer s3cret"})).status == 200

    signed = await client.post(
        "/login",
        data={"token": "s3cret", "next": "/leftovers?state=stopped"},
        allow_redirects=False,
    )
    assert signed.status == 303
    assert signed.headers["Location"] == "/leftovers?state=stopped"
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert resource_ids(await html(client, "/leftovers?state=stopped")) == ["db/a"]
    # the cookie is the pages' only: the JSON API still wants the bearer token
    assert (await client.get("/results")).status == 401
    out = await client.post("/logout", allow_redirects=False)
    assert out.status == 303
    client.session.cookie_jar.clear()
    assert (await client.get("/")).status == 401


async def test_login_refuses_other_sites_a_wrong_token_and_foreign_redirects(
    client_for: Factory,
) -> None:
    client = await client_for(build(), token="s3cret")
    cross = await client.post(
        "/login",
        data={"token": "s3cret"},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert cross.status == 403
    assert "Set-Cookie" not in cross.headers
    site = await client.post(
        "/login",
        data={"token": "s3cret"},
        headers={"Sec-Fetch-Site": "cross-site"},
        allow_redirects=False,
    )
    assert site.status == 403
    wrong = await client.post("/login", data={"token": "guess"}, allow_redirects=False)
    assert wrong.status == 403
    assert "Set-Cookie" not in wrong.headers
    away = await client.post(
        "/login", data={"token": "s3cret", "next": "//evil.example/x"}, allow_redirects=False
    )
    assert away.headers["Location"] == "/"


def test_session_values_are_signed_with_the_token_and_expire() -> None:
    value = session_value("s3cret", now=1000.0)
    assert valid_session(value, "s3cret", now=1000.0)
    assert not valid_session(value, "other", now=1000.0)
    assert not valid_session(value, "s3cret", now=1000.0 + 13 * 3600)
    expires, _, signature = value.partition(".")
    assert not valid_session(f"{int(expires) + 999}.{signature}", "s3cret", now=1000.0)
    assert not valid_session("garbage", "s3cret", now=1000.0)
    assert COOKIE == "leftovers_session"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/leftovers?x=1", "/leftovers?x=1"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_login_goes_back_only_to_our_own_paths(target: str | None, expected: str) -> None:
    assert local_path(target) == expected


def test_scan_totals_count_every_scanned_account() -> None:
    rows = scan_totals(build())
    assert [(r.account_id, r.leftovers, round(r.hourly_cost, 3)) for r in rows] == [
        ("111111111111", 3, 0.075),
        ("222222222222", 1, 0.0),
    ]
