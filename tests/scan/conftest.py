"""Scan tests log at WARNING and above only; `aws_env` points AWS clients at no real account."""

from __future__ import annotations

import logging
import os

import pytest
import structlog

from .scan_cli import TIME_SCALE

structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEMULATOR00000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    for name in [n for n in os.environ if n.startswith("LEFTOVERS_")]:
        monkeypatch.delenv(name)
    # Back off as the emulator's time runs: TIME_SCALE times faster than AWS.
    monkeypatch.setenv("LEFTOVERS_RETRY__BASE_DELAY_SECONDS", str(0.5 / TIME_SCALE))
    monkeypatch.setenv("LEFTOVERS_RETRY__MAX_DELAY_SECONDS", str(20 / TIME_SCALE))
