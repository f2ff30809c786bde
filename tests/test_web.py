"""The HTTP API over a hand-built snapshot: filters, paging, errors, auth, health, OpenAPI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from scanner.openapi import openapi_document
from scanner.ui import is_page
from tests.snapshots import build

Factory = Callable[..., Any]
RESOURCE = "/resources/{account_id}/{region}/{resource_type}/{resource_id}"


async def results(client: TestClient[Any, Any], query: str = "") -> dict[str, Any]:
    response = await client.get(f"/results{query}")
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [item["resource_id"] for item in body["leftovers"]]


async def every_page(client: TestClient[Any, Any], query: str) -> list[str]:
    """The ids of every page of a query, following `next_cursor` as `cursor`."""
    seen: list[str] = []
    body = await results(client, query)
    seen += ids(body)
    while body["next_cursor"] is not None:
        body = await results(client, f"{query}&cursor={body['next_cursor']}")
        seen += ids(body)
    return seen


async def test_results_follow_the_contract(client_for: Factory) -> None:
    body = await results(await client_for(build()))
    assert set(body) >= {"generated_at", "window", "leftovers", "errors", "stats"}
    assert body["generated_at"] == "2025-03-01T12:00:00Z"
    assert ids(body) == ["vol-1", "vol-2", "nat-1", "db/a"]
    first = body["leftovers"][0]
    assert first["age_seconds"] == 30 * 3600
    assert set(first["created_by"]) == {"arn", "user_name", "source_ip", "user_agent"}
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?account_id=222222222222", ["db/a"]),
        ("?region=us-east-1", ["nat-1"]),
        ("?region=us-east-1,eu-west-1&service=ec2", ["vol-1", "vol-2", "nat-1"]),
        ("?resource_type=ec2.volume&resource_type=rds.db_instance", ["vol-1", "vol-2", "db/a"]),
        ("?state=stopped", ["db/a"]),
        ("?created_by=alice", ["vol-1", "vol-2"]),
        ("?created_by=bob", ["nat-1", "db/a"]),
        (
            "?created_by=arn:aws:iam::111111111111:user/alice,bob",
            ["vol-1", "vol-2", "nat-1", "db/a"],
        ),
        ("?state=STOPPED", ["db/a"]),
        ("?min_age=24h", ["vol-1", "nat-1"]),
        ("?min_age=18000", ["vol-1", "nat-1", "db/a"]),
        ("?min_age=3d", []),
    ],
)
async def test_results_filters(client_for: Factory, query: str, expected: list[str]) -> None:
    assert ids(await results(await client_for(build()), query)) == expected


async def test_results_pages_with_an_opaque_cursor(client_for: Factory) -> None:
    client = await client_for(build())
    assert await every_page(client, "?limit=3") == ["vol-1", "vol-2", "nat-1", "db/a"]
    paged = await results(client, "?limit=1&service=ec2")
    assert ids(paged) == ["vol-1"]
    assert paged["next_cursor"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?limit=0", "limit"),
        ("?limit=abc", "limit"),
        ("?min_age=yesterday", "min_age"),
        ("?cursor=not-a-cursor", "cursor"),
        ("?region=", "region"),
        ("?colour=blue", "colour"),
    ],
)
async def test_bad_parameters_get_a_400_naming_them(
    client_for: Factory, query: str, parameter: str
) -> None:
    response = await (await client_for(build())).get(f"/results{query}")
    assert response.status == 400
    assert (await response.json())["error"]["parameter"] == parameter


@pytest.mark.parametrize(
    "query",
    [
        "?limit=%C2%B2",  # a superscript two: str.isdigit() says yes, int() says no
        "?limit=%D9%A1%D9%A0",  # Arabic-Indic 10: a digit, but not an ASCII one
        "?limit=10&limit=abc",
        "?limit=" + "9" * 5000,
        "?min_age=%D9%A1d",
        "?min_age=" + "9" * 5000,
        "?min_age=1h&min_age=never",
        "?cursor=not-a-cursor",
        "?sort=size",
        "?sort=age&sort=",
    ],
)
async def test_every_value_is_checked_and_numbers_are_ascii(
    client_for: Factory, query: str
) -> None:
    response = await (await client_for(build())).get(f"/results{query}")
    assert response.status == 400, await response.text()
    name = query[1:].partition("=")[0]
    assert (await response.json())["error"]["parameter"] == name


async def test_an_unknown_resource_type_names_the_known_ones(client_for: Factory) -> None:
    response = await (await client_for(build())).get("/results?resource_type=ec2.volumes")
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["parameter"] == "resource_type"
    assert error["message"].startswith("unknown resource type ec2.volumes: known types are ")
    assert "ec2.volume," in error["message"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("estimated_hourly_cost", ["nat-1", "vol-2", "vol-1", "db/a"]),  # unknown cost last
        ("age", ["nat-1", "vol-1", "db/a", "vol-2"]),
        ("created_at", ["vol-2", "db/a", "vol-1", "nat-1"]),
    ],
)
async def test_results_sort_and_page_in_that_order(
    client_for: Factory, sort: str, expected: list[str]
) -> None:
    client = await client_for(build())
    assert ids(await results(client, f"?sort={sort}")) == expected
    assert await every_page(client, f"?sort={sort}&limit=1") == expected


async def test_before_the_first_scan(client_for: Factory) -> None:
    client = await client_for(None)
    assert (await client.get("/results")).status == 503
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["first_scan_finished"] is False


async def test_ready_after_a_scan(client_for: Factory) -> None:
    ready = await (await client_for(build())).get("/readyz")
    assert ready.status == 200
    assert (await ready.json()) == {
        "ready": True,
        "first_scan_finished": True,
        "store_writable": True,
        "all_regions_failed": False,
        "last_scan": {"id": 0, "outcome": "ok", "finished_at": "2025-03-01T12:00:00Z"},
    }


async def test_one_resource_with_a_slash_in_its_id(client_for: Factory) -> None:
    client = await client_for(build())
    response = await client.get("/resources/222222222222/eu-west-1/rds.db_instance/db/a")
    assert response.status == 200
    body = await response.json()
    assert body["leftover"]["resource_id"] == "db/a"
    assert body["lifecycle"]["created"]["event_id"] == "e4"
    deleted = await (await client.get("/resources/111111111111/eu-west-1/ec2.volume/vol-9")).json()
    assert deleted["leftover"] is None
    assert deleted["lifecycle"]["deleted"]["event_id"] == "e6"
    missing = await client.get("/resources/111111111111/eu-west-1/ec2.volume/vol-404")
    assert missing.status == 404
    assert "message" in (await missing.json())["error"]


async def test_bearer_token_guards_all_but_health(client_for: Factory) -> None:
    client = await client_for(build(), token="s3cret")
    for path in ("/results", "/metrics", "/openapi.json", "/resources/a/b/c/d"):
        response = await client.get(path)
        assert response.status == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await client.get("/results", headers={"Authorization": "Bearer nope"})).status == 401
    good = {"Authorization": "Bearer s3cret"}
    assert (await client.get("/results", headers=good)).status == 200
    assert (await client.get("/metrics", headers=good)).status == 200
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200


async def test_metrics_endpoint(client_for: Factory) -> None:
    response = await (await client_for(build())).get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "leftovers_resources{" in await response.text()


async def test_unknown_path_is_a_json_404(client_for: Factory) -> None:
    response = await (await client_for(build())).get("/nope")
    assert response.status == 404
    assert (await response.json())["error"]["message"]


async def test_wrong_method_is_a_json_405_with_allow(client_for: Factory) -> None:
    response = await (await client_for(build())).post("/results")
    assert response.status == 405
    assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD"}
    assert (await response.json())["error"]["message"] == "Method Not Allowed"


async def test_openapi_document_is_valid_and_describes_every_route(client_for: Factory) -> None:
    client = await client_for(build())
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    validate(openapi_document(bearer=False))
    routes = {
        r.resource.canonical.replace("{resource_id:.+}", "{resource_id}")
        for r in client.app.router.routes()
        if r.resource is not None and not is_page(r.resource.canonical)  # HTML for people
    }
    assert routes == set(document["paths"])


def _strict(schema: Any) -> Any:
    """The schema with undeclared object keys refused, so that the test sees what it omits."""
    if isinstance(schema, dict):
        strict = {key: _strict(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            strict["additionalProperties"] = False
        return strict
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


async def test_every_answer_matches_the_openapi_document(client_for: Factory) -> None:
    document = openapi_document()
    registry = Registry().with_resource(
        "urn:api", Resource.from_contents(_strict(document), default_specification=DRAFT202012)
    )
    scanned = await client_for(build(), token="s3cret")
    fresh = await client_for(None)
    good = {"Authorization": "Bearer s3cret"}
    answers = [
        (scanned, "/results", "/results", good),
        (scanned, "/results?limit=1&service=ec2", "/results", good),
        (scanned, "/results?min_age=soon", "/results", good),
        (scanned, "/results", "/results", {}),
        (fresh, "/results", "/results", {}),
        (scanned, "/resources/222222222222/eu-west-1/rds.db_instance/db/a", RESOURCE, good),
        (scanned, "/resources/111111111111/eu-west-1/ec2.volume/vol-9", RESOURCE, good),
        (scanned, "/resources/111111111111/eu-west-1/ec2.volume/vol-404", RESOURCE, good),
        (fresh, "/resources/111111111111/eu-west-1/ec2.volume/vol-1", RESOURCE, {}),
        (scanned, "/metrics", "/metrics", {}),
        (scanned, "/healthz", "/healthz", {}),
        (scanned, "/readyz", "/readyz", {}),
        (fresh, "/readyz", "/readyz", {}),
        (scanned, "/openapi.json", "/openapi.json", good),
    ]
    for client, url, path, headers in answers:
        response = await client.get(url, headers=headers)
        declared = document["paths"][path]["get"]["responses"]
        assert str(response.status) in declared, (url, response.status)
        if response.content_type != "application/json":
            continue
        pointer = f"/paths/{path.replace('/', '~1')}/get/responses/{response.status}"
        schema = {"$ref": f"urn:api#{pointer}/content/application~1json/schema"}
        validator = Draft202012Validator(schema, registry=registry)
        errors = [e.message for e in validator.iter_errors(await response.json())]
        assert errors == [], (url, errors)
