"""Ignore rules: each kind of rule, tags set at creation and after it, and bad rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.errors import SettingsError
from scanner.ignore import IgnoreRule
from scanner.pairing import extract, pair
from scanner.plan import Slice
from scanner.records import Record, record_from_body
from scanner.report import Report, build_report
from scanner.settings import load_settings
from tests.pairing.builders import T0, at, record, run_instances

CATALOG = load_catalog()
NOW = at(48 * 60)


def _with(built: Record, **fields: Any) -> Record:
    changed = record_from_body({**built.body, **fields})
    assert changed is not None
    return changed


def _tags(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"items": [{"key": key, "value": value} for key, value in pairs]}


def _launch(minute: int, instance_id: str, *tags: tuple[str, str], **kw: Any) -> Record:
    spec = {"items": [{"resourceType": "instance", "tags": _tags(*tags)["items"]}]}
    return record(
        "ec2",
        "RunInstances",
        minute,
        request={"instanceType": "t3.micro", "tagSpecificationSet": spec},
        response={"instancesSet": {"items": [{"instanceId": instance_id}]}},
        **kw,
    )


def _tagging(name: str, minute: int, resource_id: str, *tags: tuple[str, str]) -> Record:
    request = {"resourcesSet": {"items": [{"resourceId": resource_id}]}, "tagSet": _tags(*tags)}
    return record("ec2", name, minute, request=request, event_id=f"{name}-{minute}")


HISTORY = [
    _launch(0, "i-web", ("Name", "web-1"), ("team", "web")),
    _launch(1, "i-batch", ("Name", "batch-7")),
    _launch(2, "i-bob", user="bob", assumed=True),
    _with(_launch(3, "i-cfn"), userAgent="cloudformation.amazonaws.com"),
    _with(_launch(4, "i-tf"), userAgent="APN/1.0 HashiCorp/1.0 Terraform/1.5.7"),
    run_instances(5, "i-eu", region="eu-west-1"),
    _launch(6, "i-later"),
    _tagging("CreateTags", 30, "i-later", ("keep", "yes")),  # tagged after creation
    _launch(7, "i-untagged", ("keep", "yes")),
    _tagging("DeleteTags", 31, "i-untagged", ("keep", "yes")),  # the tag removed again
    _launch(47 * 60, "i-young"),  # one hour old at NOW
    record(
        "ec2",
        "CreateVolume",
        8,
        request={"size": 8},
        response={"volumeId": "vol-1", "size": 8, "volumeType": "gp3", "zone": "us-east-1a"},
    ),
]


def report(rules: list[dict[str, Any]], tmp_path: Path) -> Report:
    path = tmp_path / "leftovers.yaml"
    path.write_text(yaml.safe_dump({"ignore": rules}), encoding="utf-8")
    settings = load_settings(path, env={})
    lifecycles = pair(fact for r in HISTORY for fact in extract(r, CATALOG))
    return build_report(
        lifecycles, CATALOG, Slice(T0, NOW), generated_at=NOW, ignore=settings.ignore
    )


def ignored(rule: dict[str, Any], tmp_path: Path) -> set[str]:
    result = report([{"reason": "why", **rule}], tmp_path)
    assert all(reason == "why" for _, reason in result.ignored)
    ids = {item.key.resource_id for item, _ in result.ignored}
    assert not ids & {item.key.resource_id for item in result.leftovers}
    return ids


ALL = {
    "i-web", "i-batch", "i-bob", "i-cfn", "i-tf", "i-eu", "i-later", "i-untagged", "i-young",
    "vol-1",
}  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"type": "ec2.vol*"}, {"vol-1"}),
        ({"account": "123456789012", "region": "eu-*"}, {"i-eu"}),
        ({"account": "999*"}, set()),
        ({"id": "i-[bc]*"}, {"i-batch", "i-bob", "i-cfn"}),
        ({"name": "batch-?"}, {"i-batch"}),
        ({"creator": "arn:aws:sts::*:assumed-role/*/bob"}, {"i-bob"}),  # ARN glob
        ({"creator": "bob"}, {"i-bob"}),  # user or session name
        ({"creator": "alice"}, ALL - {"i-bob"}),
        ({"user_agent": "cloudformation.amazonaws.com"}, {"i-cfn"}),
        ({"user_agent": "Terraform"}, {"i-tf"}),
        ({"tags": {"team": "web"}}, {"i-web"}),  # from the create event
        ({"tags": {"keep": "*"}}, {"i-later"}),  # added later; i-untagged's was removed
        ({"tags": {"team": "db"}}, set()),
        ({"type": "ec2.instance", "min_age": "24h"}, {"i-young"}),
        ({"type": "ec2.instance", "min_age": 600}, set()),
        ({"type": "ec2.instance", "creator": "alice", "tags": {"Name": "web-*"}}, {"i-web"}),
    ],
)
def test_each_kind_of_rule(rule: dict[str, Any], expected: set[str], tmp_path: Path) -> None:
    assert ignored(rule, tmp_path) == expected


def test_ignored_leave_the_counts_and_appear_with_the_first_matching_reason(
    tmp_path: Path,
) -> None:
    rules = [
        {"reason": "stacks own them", "user_agent": "cloudformation"},
        {"reason": "all instances", "type": "ec2.instance"},
    ]
    result = report(rules, tmp_path)
    assert [item.key.resource_id for item in result.leftovers] == ["vol-1"]
    document = orjson.loads(orjson.dumps(result.to_json()))
    reasons = {item["resource_id"]: item["ignored_reason"] for item in document["ignored"]}
    assert reasons["i-cfn"] == "stacks own them"
    assert reasons["i-web"] == "all instances"
    assert [item["resource_id"] for item in document["leftovers"]] == ["vol-1"]
    web = next(item for item in document["ignored"] if item["resource_id"] == "i-web")
    assert web["tags"] == {"Name": "web-1", "team": "web"}


def test_tags_follow_the_latest_event_whatever_the_order() -> None:
    records = [
        _launch(0, "i-1", ("env", "dev")),
        _tagging("CreateTags", 5, "i-1", ("env", "prod")),
        _tagging("DeleteTags", 3, "i-1", ("env", "dev")),
    ]
    for ordered in (records, records[::-1]):
        lifecycles = pair(fact for r in ordered for fact in extract(r, CATALOG))
        (item,) = build_report(lifecycles, CATALOG, Slice(T0, NOW), generated_at=NOW).leftovers
        assert dict(item.tags) == {"env": "prod"}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"reason": "x", "nmae": "a"}], "ignore[0] ('x'): unknown field 'nmae'"),
        ([{"reason": "x", "id": "i-[abc"}], "ignore[0] ('x'): id: glob 'i-[abc' has a '['"),
        ([{"reason": "x", "tags": {"a": "[z"}}], "ignore[0] ('x'): tags: glob '[z'"),
        ([{"type": "ec2.*"}], "ignore[0]: `reason` is required"),
        ([{"reason": "ok", "id": "a"}, {"reason": "y"}], "ignore[1] ('y'): matches everything"),
        ([{"reason": "x", "min_age": "a day"}], "ignore[0] ('x'): min_age: 'a day' is not a"),
        ("everything", "ignore: give a list of rules"),
    ],
)
def test_a_bad_rule_is_one_line_naming_it(rules: object, message: str, tmp_path: Path) -> None:
    path = tmp_path / "leftovers.yaml"
    path.write_text(yaml.safe_dump({"ignore": rules}), encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_settings(path, env={})
    text = str(raised.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: {message}")


def test_a_bad_rule_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leftovers.yaml"
    path.write_text("ignore:\n  - {reason: tmp, id: 'i-[x'}\n", encoding="utf-8")
    assert main(["scan", "--config", str(path), "--source", "files", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"leftovers: error: {path}: ignore[0] ('tmp'): id: glob 'i-[x' has a '[' "
        "at 3 that is never closed\n"
    )


def test_rules_are_frozen_values() -> None:
    rule = IgnoreRule(reason="r", type="ec2.*")
    assert rule == IgnoreRule(reason="r", type="ec2.*")


def test_scan_shows_ignored_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trail = tmp_path / "trail"
    trail.mkdir()
    (trail / "log.json").write_bytes(orjson.dumps({"Records": [r.body for r in HISTORY]}))
    config = tmp_path / "leftovers.yaml"
    config.write_text("ignore:\n  - {reason: made by the stack, user_agent: cloudformation}\n")
    scan = ["scan", "--config", str(config), "--source", "files", str(trail)]
    assert main([*scan, "--format", "json"]) == 1
    document = orjson.loads(capsys.readouterr().out)
    assert [item["resource_id"] for item in document["ignored"]] == ["i-cfn"]
    assert "i-cfn" not in {item["resource_id"] for item in document["leftovers"]}
    assert main([*scan, "--format", "table"]) == 1
    plain = capsys.readouterr().out
    assert "1 ignored by rules (--show-ignored lists them)" in plain
    assert "i-cfn" not in plain
    assert main([*scan, "--format", "table", "--show-ignored"]) == 1
    shown = capsys.readouterr().out
    assert "i-cfn" in shown
    assert "made by the stack" in shown
