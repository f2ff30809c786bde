"""Faults per account and region, observed through real clients; the grammar; determinism."""

from __future__ import annotations

from typing import Any

import aiohttp
import botocore.exceptions
import pytest
from botocore.config import Config

from emulator import Running
from emulator.api.faults import Fault, FaultPlan, parse_faults
from tests.conftest import ACCOUNT_A, ACCOUNT_B
from tests.emulator.api.emulator_clients import client

QUICK = Config(retries={"total_max_attempts": 1}, read_timeout=1, connect_timeout=1)


def _cloudtrail(running: Running, region: str = "us-east-1", **kwargs: Any) -> Any:
    return client("cloudtrail", running.endpoint_url, region, config=QUICK, **kwargs)


def test_grammar() -> None:
    rules = parse_faults(
        "down@*/eu-west-1,5xx:0.1,throttle/us-east-1:0.3,denied@222222222222,"
        "hang/ap-south-1:0.05,slow=2.5@111111111111"
    )
    assert rules == (
        Fault("down", "*", "eu-west-1"),
        Fault("5xx", probability=0.1),
        Fault("throttle", region="us-east-1", probability=0.3),
        Fault("denied", account="222222222222"),
        Fault("hang", region="ap-south-1", probability=0.05),
        Fault("slow", account="111111111111", argument=2.5),
    )
    assert parse_faults(",".join(str(rule) for rule in rules)) == rules
    bad_rules = ("explode", "throttle:1.5", "throttle/us-east-1:x", "down@", "down@12", "hang/mars")
    for bad in bad_rules:
        with pytest.raises(ValueError, match="fault rule"):
            parse_faults(bad)


def test_draws_are_deterministic_given_a_seed() -> None:
    rules = parse_faults("5xx:0.3,throttle:0.3")

    def draws(seed: int) -> list[str | None]:
        plan = FaultPlan(rules, seed)
        return [getattr(plan.pick(ACCOUNT_A, "us-east-1"), "kind", None) for _ in range(200)]

    first = draws(7)
    assert first == draws(7)
    assert first != draws(8)
    assert {"500", "503", "throttle", None} == set(first)


@pytest.mark.parametrize(
    ("spec", "code", "status"),
    [
        ("503", "ServiceUnavailable", 503),
        ("500", "InternalFailure", 500),
        ("throttle", "ThrottlingException", 400),
        ("expired", "ExpiredTokenException", 400),
        ("denied", "AccessDeniedException", 400),
    ],
)
def test_error_faults(emulator_thread: Running, spec: str, code: str, status: int) -> None:
    emulator_thread.emulator.set_faults(f"{spec}/us-east-1")
    cloudtrail = _cloudtrail(emulator_thread)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        cloudtrail.lookup_events()
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    _cloudtrail(emulator_thread, "eu-west-1").lookup_events()


def test_denied_applies_to_one_account_and_to_assume_role(emulator_thread: Running) -> None:
    emulator_thread.emulator.set_faults(f"denied@{ACCOUNT_B}")
    cloudtrail = _cloudtrail(emulator_thread)
    assert cloudtrail.lookup_events()["Events"]
    sts = client("sts", emulator_thread.endpoint_url, config=QUICK)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/scan", RoleSessionName="scan")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    emulator_thread.emulator.set_faults("")
    keys = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/scan", RoleSessionName="scan")
    emulator_thread.emulator.set_faults(f"denied@{ACCOUNT_B}")
    member = _cloudtrail(emulator_thread, credentials=keys["Credentials"])
    with pytest.raises(member.exceptions.AccessDeniedException):
        member.lookup_events()


def test_down_region_fails_to_connect(emulator_thread: Running) -> None:
    emulator_thread.emulator.set_faults("down@*/eu-west-1")
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        _cloudtrail(emulator_thread, "eu-west-1").lookup_events()
    assert _cloudtrail(emulator_thread).lookup_events()["Events"]


def test_dropped_connection(emulator_thread: Running) -> None:
    emulator_thread.emulator.set_faults("drop")
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        _cloudtrail(emulator_thread).lookup_events()


def test_hanging_call_times_out(emulator_thread: Running) -> None:
    emulator_thread.emulator.set_faults("hang/us-east-1")
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        _cloudtrail(emulator_thread).lookup_events()


def test_slow_call_still_answers(emulator_thread: Running) -> None:
    emulator_thread.emulator.set_faults("slow=0.01")
    assert _cloudtrail(emulator_thread).lookup_events()["Events"]
    assert emulator_thread.emulator.stats.get(ACCOUNT_A, "us-east-1", "faulted") == 1
    assert emulator_thread.emulator.stats.get(ACCOUNT_A, "us-east-1", "served") == 1


async def test_faults_switch_through_the_admin_endpoint(emulator: Running) -> None:
    url = emulator.endpoint_url + "/_emulator/faults"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"faults": "503@111111111111/us-east-1:0.5"}) as answer:
            assert answer.status == 200
            assert (await answer.json())["faults"] == "503@111111111111/us-east-1:0.5"
        async with session.post(url, data="nonsense!") as answer:
            assert answer.status == 400
            assert "fault rule" in (await answer.json())["error"]
        async with session.get(url) as answer:
            assert (await answer.json())["faults"] == "503@111111111111/us-east-1:0.5"
    assert emulator.emulator.faults.rules == (Fault("503", ACCOUNT_A, "us-east-1", 0.5),)
