"""botocore's service-specific endpoints win over the one `endpoint_url`, service by service."""

from __future__ import annotations

from pathlib import Path

import aioboto3
import pytest

from scanner.sources.aws import service_endpoint


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    return config


def test_the_service_variable_names_one_service(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:5000")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")  # the global one is ours
    session = aioboto3.Session()

    assert service_endpoint(session, "ec2") == "http://127.0.0.1:5000"
    assert service_endpoint(session, "cloudtrail") is None
    assert service_endpoint(session, "rds") is None


def test_the_config_files_services_section(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env.write_text(
        "[profile scanner]\nservices = local\n\n"
        "[services local]\nrds =\n  endpoint_url = http://127.0.0.1:5001\n"
        "elastic_load_balancing_v2 =\n  endpoint_url = http://127.0.0.1:5002\n"
    )
    monkeypatch.setenv("AWS_PROFILE", "scanner")
    session = aioboto3.Session()

    assert service_endpoint(session, "rds") == "http://127.0.0.1:5001"
    assert service_endpoint(session, "elbv2") == "http://127.0.0.1:5002"
    assert service_endpoint(session, "ec2") is None


def test_a_missing_services_section_is_no_endpoint(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean_env.write_text("[profile scanner]\nservices = nowhere\n")
    monkeypatch.setenv("AWS_PROFILE", "scanner")

    assert service_endpoint(aioboto3.Session(), "rds") is None
