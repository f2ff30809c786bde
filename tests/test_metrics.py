"""The metrics collector: families, labels, zero series, sums, and `promtool check metrics`."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from scanner.metrics import build_registry
from tests.snapshots import build


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        family.name: [(sample.labels, sample.value) for sample in family.samples]
        for family in text_string_to_metric_families(text)
    }


def test_exposition_before_the_first_scan_has_no_samples() -> None:
    text = generate_latest(build_registry(lambda: None)).decode()
    assert "# TYPE leftovers_resources gauge" in text
    assert all(not samples for samples in _families(text).values())


def test_resources_sum_to_the_number_of_leftovers() -> None:
    snapshot = build()
    families = _families(generate_latest(build_registry(lambda: snapshot)).decode())
    resources = families["leftovers_resources"]
    assert sum(value for _, value in resources) == len(snapshot.entries)
    # the deleted volume's type keeps a series at 0 in its default state
    assert (
        {
            "account_id": "111111111111",
            "region": "eu-west-1",
            "service": "ec2",
            "resource_type": "ec2.volume",
            "state": "available",
        },
        1.0,
    ) in resources
    cost = {s["resource_type"]: v for s, v in families["leftovers_estimated_hourly_cost_usd"]}
    assert cost == {"ec2.volume": pytest.approx(0.03), "ec2.nat_gateway": pytest.approx(0.045)}


def test_counters_have_every_outcome_and_reason_from_zero() -> None:
    families = _families(generate_latest(build_registry(build)).decode())
    lookups = {
        (s["account_id"], s["region"], s["outcome"]): v
        for s, v in families["leftovers_lookup_requests"]
    }
    assert lookups[("111111111111", "eu-west-1", "ok")] == 7
    assert lookups[("111111111111", "eu-west-1", "throttled")] == 2
    assert lookups[("111111111111", "us-east-1", "error")] == 0
    errors = {
        (s["account_id"], s["region"], s["reason"]): v for s, v in families["leftovers_scan_errors"]
    }
    assert errors[("222222222222", "eu-west-1", "access_denied")] == 1
    assert errors[("111111111111", "us-east-1", "timeout")] == 0
    success = {
        (s["account_id"], s["region"]): v
        for s, v in families["leftovers_last_success_timestamp_seconds"]
    }
    assert success[("222222222222", "eu-west-1")] == 0
    assert success[("111111111111", "eu-west-1")] > 0


def test_no_label_value_is_a_resource_id_or_error_text() -> None:
    snapshot = build()
    text = generate_latest(build_registry(lambda: snapshot)).decode()
    for item in snapshot.entries:
        assert item.key.resource_id not in text
    assert "arn:" not in text


def test_promtool_accepts_the_exposition() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (make tools installs Debian's prometheus package)")
    text = generate_latest(build_registry(build))
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
