"""The README says what the code does: the `/results` parameters, and examples that run from
the repository alone."""

from __future__ import annotations

import re
from pathlib import Path

from scanner.openapi import openapi_document

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def results_paragraph() -> str:
    start = README.index("* `/results` filters:")
    return README[start : README.index("\n* ", start + 1)]


def test_every_results_parameter_is_documented_by_its_name() -> None:
    parameters = openapi_document()["paths"]["/results"]["get"]["parameters"]
    text = results_paragraph()
    missing = [p["name"] for p in parameters if f"`{p['name']}`" not in text]
    assert missing == []
    for sort in parameters[[p["name"] for p in parameters].index("sort")]["schema"]["enum"]:
        assert f"sort={sort}" in text


def test_examples_need_nothing_outside_the_repository() -> None:
    blocks = re.findall(r"```\n(.*?)```", README, flags=re.DOTALL)
    assert [line for block in blocks for line in block.splitlines() if "../" in line] == []
