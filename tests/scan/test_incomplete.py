"""A region whose window was not read in full is no source of leftovers: its would-be leftovers
are listed apart, as `incomplete`, with the reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from emulator.history.generator import account_ids, ground_truth

from .scan_cli import emulator_for, endpoint_flags, found, scan_json, spec_for, truth_set

FAILING = "eu-west-1"


def test_a_partly_read_region_publishes_no_leftovers_and_is_listed_as_incomplete(
    aws_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One account; its eu-west-1 answers three calls in ten with a throttling error, and a call
    # is tried twice: pages are read until one call fails twice, the rest of the window is not.
    spec = replace(spec_for(7), accounts=1, regions=("us-east-1", FAILING), resources=60)
    truth = truth_set(ground_truth(spec))
    (account,) = account_ids(spec)
    monkeypatch.setenv("LEFTOVERS_RETRY__ATTEMPTS", "2")
    emulator = emulator_for(spec, faults=f"throttle/{FAILING}:0.7", account=account)
    with emulator.in_thread() as running:
        status, document = scan_json(
            capsys,
            *endpoint_flags(running),
            "--region",
            "us-east-1",
            "--region",
            FAILING,
            "--stream-strategy",
            "read_only",
        )
    assert status == 2
    assert {e["region"] for e in document["errors"]} == {FAILING}
    # No resource that was deleted is reported; the healthy region is reported in full.
    assert found(document) - truth == set()
    assert found(document) == {item for item in truth if item[1] != FAILING}
    incomplete = document["incomplete"]
    assert incomplete, "the failed region's partial read should have found something"
    assert {(i["account_id"], i["region"]) for i in incomplete} == {(account, FAILING)}
    assert all(i["reason"] for i in incomplete)
    assert set(incomplete[0]) == set(document["leftovers"][0]) | {"reason"}
    assert document["incomplete_regions"] == [
        {"account_id": account, "region": FAILING, "reason": incomplete[0]["reason"]}
    ]
