"""Logging: credentials never reach a log line; AWS SDK loggers stay at WARNING or above."""

from __future__ import annotations

import logging
from typing import Any

import structlog
from structlog.testing import capture_logs

from scanner.logs import REDACTED, quiet_aws_loggers, redact_credentials


def redacted(**event: Any) -> dict[str, Any]:
    with capture_logs(processors=[redact_credentials]) as captured:
        structlog.get_logger().warning("call_made", **event)
    assert len(captured) == 1
    return dict(captured[0])


def test_credential_keys_are_redacted_at_any_depth() -> None:
    entry = redacted(
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        session_token="FwoGZXIvYXdzEBY",
        password="hunter2",
        bearer_token="abc",
        params={"Credentials": {"SecretAccessKey": "x", "AccessKeyId": "ASIAEXAMPLE123456789"}},
        headers=[{"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA..."}],
        region="eu-west-1",
    )
    assert entry["aws_secret_access_key"] == REDACTED
    assert entry["session_token"] == REDACTED
    assert entry["password"] == REDACTED
    assert entry["bearer_token"] == REDACTED
    assert entry["params"]["Credentials"] == REDACTED
    assert entry["headers"][0]["Authorization"] == REDACTED
    assert entry["region"] == "eu-west-1"


def test_credentials_inside_text_are_redacted() -> None:
    entry = redacted(
        reason="key AKIAIOSFODNN7EXAMPLE refused; Authorization: Bearer s3cr3t-value and more",
        detail="aws_secret_access_key=abcdEFGH1234 region=us-east-1",
    )
    assert "AKIAIOSFODNN7EXAMPLE" not in entry["reason"]
    assert "s3cr3t-value" not in entry["reason"]
    assert "abcdEFGH1234" not in entry["detail"]
    assert "region=us-east-1" in entry["detail"]


def test_ordinary_values_are_untouched() -> None:
    entry = redacted(stream="read_only=false", api_calls=3, account_id="111111111111")
    assert entry["stream"] == "read_only=false"
    assert entry["api_calls"] == 3
    assert entry["account_id"] == "111111111111"


def test_aws_loggers_are_kept_at_warning() -> None:
    for name in ("botocore", "aiobotocore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    quiet_aws_loggers()
    for name in ("botocore", "aiobotocore", "botocore.parsers"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING


def test_configure_writes_json_off_a_terminal_with_secrets_redacted() -> None:
    import io

    import orjson

    from scanner.logs import configure, get_logger

    stream = io.StringIO()
    try:
        configure("info", stream=stream)
        get_logger("test").info("stream_failed", region="eu-west-1", token="abc123")
        line = orjson.loads(stream.getvalue().strip().splitlines()[-1])
        assert line["event"] == "stream_failed"
        assert line["region"] == "eu-west-1"
        assert line["token"] == REDACTED
        assert line["level"] == "info"
    finally:
        structlog.reset_defaults()
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
