"""Verdicts applied to a report: its JSON (validated by the OpenAPI schema) and its table."""

from __future__ import annotations

import io
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from rich.console import Console

from scanner.lifecycle import ResourceKey
from scanner.openapi import openapi_document
from scanner.report import Report
from scanner.verify import GONE_REASON, Verdict
from scanner.view import render_report
from tests.test_report import NOW, report
from tests.test_web import _strict


def verified() -> Report:
    """The test report with its instance found terminated and its database unknown."""
    built = report()
    verdicts: dict[ResourceKey, Verdict] = {}
    for item in built.leftovers:
        if item.key.resource_type == "ec2.instance":
            reason = "DescribeInstances: state terminated"
            verdicts[item.key] = Verdict("gone", NOW, "terminated", reason=reason)
        else:
            verdicts[item.key] = Verdict("unknown", NOW, reason="access denied")
    return built.verified(verdicts)


def test_gone_leftovers_move_to_verified_gone_with_the_reason() -> None:
    document = verified().to_json()

    assert [item["resource_type"] for item in document["leftovers"]] == ["rds.db_instance"]
    assert document["leftovers"][0]["verification"]["outcome"] == "unknown"
    assert document["leftovers"][0]["verification"]["reason"] == "access denied"
    (gone,) = document["verified_gone"]
    assert (gone["resource_type"], gone["reason"]) == ("ec2.instance", GONE_REASON)
    assert gone["verification"]["live_state"] == "terminated"


def test_the_json_matches_the_openapi_schema() -> None:
    registry: Registry[Any] = Registry().with_resource(
        "urn:api",
        Resource.from_contents(_strict(openapi_document()), default_specification=DRAFT202012),
    )
    results = "urn:api#/components/schemas/Results/properties"
    document = verified().to_json()

    for part in ("leftovers", "verified_gone"):
        validator = Draft202012Validator({"$ref": f"{results}/{part}"}, registry=registry)
        assert [e.message for e in validator.iter_errors(document[part])] == [], part


def test_the_table_shows_the_outcome_and_what_was_found_gone() -> None:
    buffer = io.StringIO()
    render_report(verified(), Console(file=buffer, width=200, color_system=None))
    text = buffer.getvalue()

    row = next(line for line in text.splitlines() if "db-new" in line and "│" in line)
    assert "unknown (access denied)" in row
    gone = text[text.index("verified gone") :]
    assert GONE_REASON in gone
    assert "DescribeInstances: state terminated" in gone
    assert "1 leftover(s)" in text
