"""Deployment files: Prometheus config and rules, Alertmanager, IAM policy, Dockerfile, compose."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"
BIN = Path(sys.executable).parent


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool is not installed (make tools installs Debian's prometheus package)")
    return path


def _amtool() -> str:
    path = shutil.which("amtool")
    if path is None:
        pytest.skip(
            "amtool is not installed (make tools installs Debian's prometheus-alertmanager package)"
        )
    return path


def _run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_prometheus_config_is_valid() -> None:
    result = _run(_promtool(), "check", "config", CONFIG / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_are_valid() -> None:
    result = _run(_promtool(), "check", "rules", CONFIG / "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_unit_tests_pass() -> None:
    result = _run(_promtool(), "test", "rules", "alerts_test.yml", cwd=CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_cover_the_four_conditions() -> None:
    rules = yaml.safe_load((CONFIG / "alerts.yml").read_text())["groups"][0]["rules"]
    exprs = " ".join(rule["expr"] for rule in rules)
    for metric in (
        "leftovers_oldest_leftover_created_timestamp_seconds",
        "leftovers_estimated_hourly_cost_usd",
        "leftovers_last_success_timestamp_seconds",
        "leftovers_scan_errors_total",
    ):
        assert metric in exprs
    tested = yaml.safe_load((CONFIG / "alerts_test.yml").read_text())["tests"]
    names = {t["alertname"] for test in tested for t in test["alert_rule_test"]}
    assert names == {rule["alert"] for rule in rules}


def test_alertmanager_config_is_valid() -> None:
    result = _run(_amtool(), "check-config", CONFIG / "alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=LeftoversScansStale", "severity=critical"], "oncall"),
        (["alertname=LeftoverOlderThan24h", "severity=warning", "account_id=1"], "default"),
    ],
)
def test_alertmanager_routes_alerts_by_severity(labels: list[str], receiver: str) -> None:
    config = CONFIG / "alertmanager.yml"
    result = _run(
        _amtool(),
        "config",
        "routes",
        "test",
        f"--config.file={config}",
        f"--verify.receivers={receiver}",
        *labels,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_severities_have_a_route() -> None:
    rules = yaml.safe_load((CONFIG / "alerts.yml").read_text())["groups"][0]["rules"]
    assert {rule["labels"]["severity"] for rule in rules} == {"warning", "critical"}


def test_iam_policy_is_least_privilege() -> None:
    policy = json.loads((CONFIG / "iam-policy.json").read_text())
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        granted = statement["Action"]
        actions.update([granted] if isinstance(granted, str) else granted)
    # The rest are read-only verification calls (tests/commands/test_iam_policy.py).
    assert {"cloudtrail:LookupEvents", "ec2:DescribeRegions"} <= actions
    assert not any("*" in a for a in actions)


def test_dockerfile_passes_hadolint() -> None:
    result = _run(BIN / "hadolint", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_runs_as_non_root_with_exec_form() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("\nFROM ") >= 2
    assert "\nUSER 10001" in text
    assert '\nENTRYPOINT ["' in text
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    assert "curl" not in text


def test_compose_file_is_valid() -> None:
    compose = BIN / "docker-compose"
    env = {**os.environ, "LEFTOVERS_ENDPOINT_URL": "http://emulator:4599"}
    result = subprocess.run(
        [
            str(compose),
            "--profile",
            "demo",
            "-f",
            "docker-compose.yml",
            "config",
            "--format",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert set(services) == {"scanner", "prometheus", "alertmanager", "emulator"}
    scanner = services["scanner"]
    assert scanner["read_only"] is True
    assert any(t.startswith("/tmp") for t in scanner["tmpfs"])
    assert any(
        v["target"] == "/var/lib/leftovers" and v["type"] == "volume" for v in scanner["volumes"]
    )
    assert services["emulator"]["profiles"] == ["demo"]
    # The emulator runs the scanner's image: it needs a health check of its own.
    assert "127.0.0.1:4599" in " ".join(services["emulator"]["healthcheck"]["test"])
    assert scanner["depends_on"]["emulator"] == {"condition": "service_healthy", "required": False}
    prometheus_mounts = {v["target"] for v in services["prometheus"]["volumes"]}
    assert "/etc/prometheus/alerts.yml" in prometheus_mounts
