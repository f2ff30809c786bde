"""`leftovers iam-policy`: what each setting adds, and config/iam-policy.json kept equal to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.commands.iam_policy import policy
from scanner.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog()


def _actions(document: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for statement in document["Statement"]:
        granted = statement["Action"]
        found[statement["Sid"]] = {granted} if isinstance(granted, str) else set(granted)
    return found


def test_the_shipped_policy_is_the_commands_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEFTOVERS_CONFIG", raising=False)

    assert main(["iam-policy", "--config", str(ROOT / "config" / "leftovers.yaml")]) == 0

    shipped = json.loads((ROOT / "config" / "iam-policy.json").read_text())
    assert json.loads(capsys.readouterr().out) == shipped, (
        "regenerate: leftovers iam-policy --config config/leftovers.yaml > config/iam-policy.json"
    )


def test_every_verification_call_is_granted_and_only_reads() -> None:
    document = policy(load_settings(None, {}), CATALOG, prices=False)
    actions = _actions(document)

    verify = actions["VerifyLeftoversStillExist"]
    wanted = {t.verify.action for t in CATALOG.types.values() if t.verify is not None}
    assert verify == wanted
    assert "ec2:DescribeInstances" in verify
    assert "rds:DescribeDBInstances" in verify  # DocumentDB and Neptune too
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List", "GET")) for a in verify)
    assert actions["ReadCloudTrailEventHistory"] == {"cloudtrail:LookupEvents"}
    assert "AssumeScannerRoles" not in actions  # the current credentials, no roles
    assert not any("*" in action for granted in actions.values() for action in granted)


def test_roles_regions_and_organizations_add_what_they_use() -> None:
    listed = load_settings(
        None,
        {},
        {
            "accounts": [{"id": "111111111111", "role_arn": "arn:aws:iam::111111111111:role/R"}],
            "regions": ["eu-west-1"],
            "resource_types": ["ec2.volume"],
        },
    )
    organization = load_settings(
        None, {}, {"accounts": {"organization": {"role_name": "leftovers-scanner"}}}
    )

    by_role = policy(listed, CATALOG.select(listed.resource_types), prices=False)
    by_org = policy(organization, CATALOG, prices=True)

    assert _actions(by_role) == {
        "ReadCloudTrailEventHistory": {"cloudtrail:LookupEvents"},
        "AssumeScannerRoles": {"sts:AssumeRole"},
        "VerifyLeftoversStillExist": {"ec2:DescribeVolumes"},
    }
    roles = {s["Sid"]: s["Resource"] for s in by_role["Statement"]}["AssumeScannerRoles"]
    assert roles == "arn:aws:iam::111111111111:role/R"
    org = _actions(by_org)
    assert org["ListOrganizationAccounts"] == {"organizations:ListAccounts"}
    assert org["ListEnabledRegions"] == {"ec2:DescribeRegions"}
    assert org["RefreshPriceBook"] == {"pricing:GetProducts"}
    resources = {s["Sid"]: s["Resource"] for s in by_org["Statement"]}
    assert resources["AssumeScannerRoles"] == "arn:aws:iam::*:role/leftovers-scanner"
