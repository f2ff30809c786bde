"""`--account ID` without a role: the current credentials' own account, or a clear refusal."""

from __future__ import annotations

import json

import pytest

from emulator import Running
from scanner.cli import main
from tests.conftest import ACCOUNT_A


def test_an_account_without_a_role_must_be_the_callers_own(
    emulator_env: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["scan", "--format", "json", "--region", "us-east-1", "--account", "2" * 12])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "leftovers: error: cannot list the accounts to scan: account 222222222222 has no role "
        f"to assume, and the current credentials are account {ACCOUNT_A}'s: "
        "give 222222222222=ROLE_ARN"
    ]


def test_the_callers_own_account_needs_no_role(
    emulator_env: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["scan", "--format", "json", "--region", "us-east-1", "--account", ACCOUNT_A])
    document = json.loads(capsys.readouterr().out)
    assert status in (0, 1)
    assert document["errors"] == []
    assert document["stats"]["events_read"] > 0
    assert {item["account_id"] for item in document["leftovers"]} <= {ACCOUNT_A}
