"""The LookupEvents rate limit: a token bucket per (account, region), 2 requests/s by default."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config

from emulator import Running
from emulator.api.clock import ManualClock
from tests.emulator.api.emulator_clients import NO_RETRIES, client


def _cloudtrail(running: Running, config: Config = NO_RETRIES) -> Any:
    return client("cloudtrail", running.endpoint_url, config=config)


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """A frozen clock and the real rate make throttling deterministic."""
    return {"rate": 2.0}


def test_burst_beyond_two_per_second_is_throttled(
    emulator_thread: Running, manual_clock: ManualClock
) -> None:
    cloudtrail = _cloudtrail(emulator_thread)
    cloudtrail.lookup_events(MaxResults=1)
    cloudtrail.lookup_events(MaxResults=1)
    with pytest.raises(cloudtrail.exceptions.ThrottlingException) as caught:
        cloudtrail.lookup_events(MaxResults=1)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # another region has its own bucket
    client("cloudtrail", emulator_thread.endpoint_url, "eu-west-1").lookup_events(MaxResults=1)
    manual_clock.advance(0.5)
    cloudtrail.lookup_events(MaxResults=1)
    with pytest.raises(cloudtrail.exceptions.ThrottlingException):
        cloudtrail.lookup_events(MaxResults=1)
    stats = emulator_thread.emulator.stats
    assert stats.get("111111111111", "us-east-1", "throttled") == 2
    assert stats.get("111111111111", "us-east-1", "served") == 3


def test_botocore_retries_throttling(emulator_thread: Running, manual_clock: ManualClock) -> None:
    """botocore's retry handler treats the answer as throttling (it retries, then gives up)."""
    retrying = Config(retries={"total_max_attempts": 3, "mode": "standard"})
    cloudtrail = _cloudtrail(emulator_thread, retrying)
    cloudtrail.lookup_events(MaxResults=1)
    cloudtrail.lookup_events(MaxResults=1)
    with pytest.raises(cloudtrail.exceptions.ThrottlingException) as caught:
        cloudtrail.lookup_events(MaxResults=1)
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 2
