"""Settings: file, environment and flags in that order; one clear line per bad value; exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli import main
from scanner.errors import SettingsError
from scanner.settings import AccountTarget, load_settings

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leftovers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file() -> None:
    settings = load_settings(None, {})
    assert settings.accounts.targets == (AccountTarget(None),)
    assert settings.regions is None
    assert settings.lookback_days == 90
    assert settings.rate == 2.0
    assert settings.stream_strategy == "auto"
    assert settings.service.overlap_minutes == 15


def test_the_documented_example_loads_and_says_the_defaults() -> None:
    assert load_settings(ROOT / "config" / "leftovers.yaml", {}) == load_settings(None, {})


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
accounts:
  - id: "111111111111"
    role_arn: arn:aws:iam::111111111111:role/Reader
  - id: "222222222222"
regions: [us-east-1, eu-west-1]
lookback_days: 30
rate: 1.5
service: {listen: "0.0.0.0:9200", overlap_minutes: 20}
""",
    )
    env = {"LEFTOVERS_LOOKBACK_DAYS": "7", "LEFTOVERS_SERVICE__LISTEN": "127.0.0.1:9300"}
    settings = load_settings(path, env, {"rate": 0.5, "user_name": None})
    assert settings.accounts.targets == (
        AccountTarget("111111111111", "arn:aws:iam::111111111111:role/Reader"),
        AccountTarget("222222222222", None),
    )
    assert settings.regions == ("us-east-1", "eu-west-1")
    assert settings.lookback_days == 7
    assert settings.rate == 0.5
    assert settings.service.listen == "127.0.0.1:9300"
    assert settings.service.overlap_minutes == 20


def test_environment_lists_and_organization(tmp_path: Path) -> None:
    env = {
        "LEFTOVERS_REGIONS": "eu-west-1, us-west-2",
        "LEFTOVERS_RESOURCE_TYPES": "ec2.instance",
        "LEFTOVERS_ACCOUNTS": "{organization: {role_name: Auditor}}",
    }
    settings = load_settings(None, env)
    assert settings.regions == ("eu-west-1", "us-west-2")
    assert settings.resource_types == ("ec2.instance",)
    assert settings.accounts.organization_role == "Auditor"
    assert settings.accounts.targets == ()
    path = write(tmp_path, "accounts: {organization: {}}\n")
    assert load_settings(path, {}).accounts.organization_role == "OrganizationAccountAccessRole"


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "rate: 1.0\n")
    assert load_settings(None, {"LEFTOVERS_CONFIG": str(path)}).rate == 1.0


@pytest.mark.parametrize(
    ("env", "origin", "key", "reason"),
    [
        ({"LEFTOVERS_RATE": "fast"}, "LEFTOVERS_RATE", "rate", "valid number"),
        ({"LEFTOVERS_RATE": "0"}, "LEFTOVERS_RATE", "rate", "greater than 0"),
        ({"LEFTOVERS_LOOKBACK_DAYS": "120"}, "LEFTOVERS_LOOKBACK_DAYS", "lookback_days", "90"),
        (
            {"LEFTOVERS_REGIONS": "moon-1"},
            "LEFTOVERS_REGIONS",
            "regions",
            "regions: 'moon-1' is not an AWS region",
        ),
        ({"LEFTOVERS_ACCOUNTS": "12345"}, "LEFTOVERS_ACCOUNTS", "accounts.0.id", "12-digit"),
        (
            {"LEFTOVERS_ACCOUNTS": "111111111111=arn:nope"},
            "LEFTOVERS_ACCOUNTS",
            "accounts.0.role_arn",
            "IAM role ARN",
        ),
        (
            {"LEFTOVERS_STREAM_STRATEGY": "fastest"},
            "LEFTOVERS_STREAM_STRATEGY",
            "stream_strategy",
            "'fastest' is not allowed",
        ),
        (
            {"LEFTOVERS_SERVICE__LISTEN": "nowhere"},
            "LEFTOVERS_SERVICE__LISTEN",
            "service.listen",
            "HOST:PORT",
        ),
        ({"LEFTOVERS_ENDPOINT_URL": "ftp://x"}, "LEFTOVERS_ENDPOINT_URL", "endpoint_url", "http"),
        ({"LEFTOVERS_COLOUR": "blue"}, "LEFTOVERS_COLOUR", "colour", "unknown key"),
        (
            {"LEFTOVERS_SERVICE__BEARER_TOKEN": "short"},
            "LEFTOVERS_SERVICE__BEARER_TOKEN",
            "service.bearer_token",
            "16",
        ),
    ],
)
def test_each_bad_value_is_one_line_naming_origin_and_key(
    env: dict[str, str], origin: str, key: str, reason: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(None, env)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{origin}: {key}: ")
    assert reason in message


def test_bad_file_values_name_the_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "retry:\n  attempts: 0\n")
    with pytest.raises(SettingsError, match=r"leftovers.yaml: retry.attempts: .*greater than"):
        load_settings(path, {})
    path = write(tmp_path, "regions: [us-east-1\n")
    with pytest.raises(SettingsError, match=r"not valid YAML at line"):
        load_settings(path, {})
    path = write(tmp_path, "- just\n- a list\n")
    with pytest.raises(SettingsError, match="top level must be a mapping"):
        load_settings(path, {})
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml", {})


def test_flags_are_named_as_flags() -> None:
    with pytest.raises(SettingsError, match=r"^--lookback-days: lookback_days: "):
        load_settings(None, {}, {"lookback_days": 0})


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--lookback-days", "365"], "--lookback-days: lookback_days"),
        (["--region", "nowhere"], "--region: regions"),
        (["--account", "42"], "accounts.0.id"),
        (["--types", "ec2.teapot"], "unknown resource type"),
        (["--source", "files"], "--source files"),
        (["--source", "files", "/no/such/folder"], "no such file or folder"),
        (["--source", "s3"], "--source"),
        (["--region", ""], "--region: regions: is empty: give at least one value"),
        (["--account", ","], "--account: accounts: is empty: give at least one value"),
        (["--types", ""], "--types: resource_types: is empty: give at least one value"),
    ],
)
def test_cli_exits_2_with_one_line(
    argv: list[str],
    needle: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE000000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("LEFTOVERS_ENDPOINT_URL", "http://127.0.0.1:9")
    status = main(["scan", "--format", "json", *argv])
    err = capsys.readouterr().err
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("leftovers: error: ")
    assert needle in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEFTOVERS_ACCOUNTS": "[]"}, "LEFTOVERS_ACCOUNTS: accounts: is empty: give at least one"),
        ({"LEFTOVERS_REGIONS": "[]"}, "LEFTOVERS_REGIONS: regions: is empty: give at least one"),
        ({"LEFTOVERS_RATE": ""}, "LEFTOVERS_RATE: rate: is empty: give a value"),
    ],
)
def test_empty_values_are_named_as_empty(env: dict[str, str], message: str) -> None:
    """An empty account list would scan nothing and report a clean bill: refuse it."""
    with pytest.raises(SettingsError) as caught:
        load_settings(None, env)
    assert str(caught.value).startswith(message)
