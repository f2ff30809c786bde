"""Helpers to drive `leftovers scan` end to end: generated histories, flags, results."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from typing import Any

import pytest

from emulator import Emulator, GeneratorSpec, Running, generate
from emulator.history.generator import GroundTruth
from emulator.history.scenarios import RESOURCE_TYPES
from scanner.cli import main

REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-south-1", "eu-central-1", "sa-east-1")
#: The emulator runs this many times faster than AWS; the scanner's rate follows.
TIME_SCALE = 40.0
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def spec_for(seed: int) -> GeneratorSpec:
    return GeneratorSpec(
        accounts=3, regions=REGIONS, seed=seed, days=10, resources=40, noise=2.0, now=NOW
    )


def role_flags(accounts: list[str]) -> list[str]:
    flags: list[str] = []
    for account in accounts:
        flags += ["--account", f"{account}=arn:aws:iam::{account}:role/LeftoversReader"]
    return flags


def scan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["scan", "--format", "json", *argv])
    out = capsys.readouterr().out
    return status, json.loads(out)


def found(document: dict[str, Any]) -> set[tuple[str, str, str, str, str]]:
    """The leftovers of the types the generator models (its ground truth knows nothing of the
    log groups and Auto Scaling groups it writes as background)."""
    return {
        (i["account_id"], i["region"], i["resource_type"], i["resource_id"], i["state"])
        for i in document["leftovers"]
        if i["resource_type"] in RESOURCE_TYPES
    }


def parents(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(account, id, created_via) of each leftover a service made for a parent."""
    return {
        (i["account_id"], i["resource_id"], i["created_via"])
        for i in document["leftovers"]
        if i.get("created_via")
    }


def truth_parents(truth: GroundTruth) -> set[tuple[str, str, str]]:
    return {(i.account_id, i.resource_id, i.created_via) for i in truth.leftovers if i.created_via}


def truth_set(truth: GroundTruth) -> set[tuple[str, str, str, str, str]]:
    return {
        (i.account_id, i.region, i.resource_type, i.resource_id, i.state) for i in truth.leftovers
    }


def emulator_for(spec: GeneratorSpec, **options: Any) -> Emulator:
    return Emulator(
        records=generate(spec), rate=2.0, time_scale=TIME_SCALE, latency="off", seed=1, **options
    )


def endpoint_flags(running: Running) -> list[str]:
    return ["--endpoint-url", running.endpoint_url, "--rate", str(2.0 * TIME_SCALE)]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
