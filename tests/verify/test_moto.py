"""`leftovers scan --verify` end to end: CloudTrail from the emulator, Describe calls to moto.

For every type moto implements (tests/verify/makers.py), three real resources are created in
moto and their create events served by the emulator; one of each is then deleted in moto with no
event. The scan must report exactly the live ones and list the others under `verified_gone`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator import Emulator, Running
from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.verify import GONE_REASON
from tests.conftest import UNLIMITED_RATE
from tests.moto_server import ACCOUNT as MOTO_ACCOUNT
from tests.moto_server import REGION
from tests.verify.history import create_record
from tests.verify.makers import MAKERS, Made
from tests.verify.moto import Moto, endpoint_variable, moto_server

CATALOG = load_catalog()
PER_TYPE = 3


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    yield from moto_server()


@pytest.fixture(scope="module")
def world(moto: Moto) -> Iterator[tuple[Running, dict[str, list[Made]], dict[str, Made]]]:
    """Resources made in moto, their history in the emulator, and the ones deleted in moto."""
    now = datetime.now(UTC)
    made: dict[str, list[Made]] = {}
    records: list[dict[str, Any]] = []
    for name, maker in MAKERS.items():
        made[name] = [maker.create(moto, n) for n in range(PER_TYPE)]
        for n, item in enumerate(made[name]):
            when = now - timedelta(hours=2, minutes=n)
            records.append(create_record(CATALOG.types[name], item.id, when, maker.request))
    deleted = {}
    for name, maker in MAKERS.items():
        deleted[name] = made[name][0]
        maker.delete(moto, deleted[name])
    emulator = Emulator(
        records=records, latency="off", rate=UNLIMITED_RATE, seed=0, account=MOTO_ACCOUNT
    )
    with emulator.in_thread() as running:
        yield running, made, deleted


@pytest.fixture
def endpoints(
    world: tuple[Running, dict[str, list[Made]], dict[str, Made]],
    moto: Moto,
    monkeypatch: pytest.MonkeyPatch,
) -> Running:
    """CloudTrail and STS from the emulator (`endpoint_url`), every other service from moto
    through botocore's service-specific variables."""
    running = world[0]
    for name, value in running.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name in MAKERS:
        verification = CATALOG.types[name].verify
        assert verification is not None
        monkeypatch.setenv(endpoint_variable(verification.api), moto.endpoint_url)
    return running


def _scan(capsys: pytest.CaptureFixture[str], running: Running, *more: str) -> dict[str, Any]:
    status = main(
        [
            "scan",
            "--format",
            "json",
            "--endpoint-url",
            running.endpoint_url,
            "--region",
            REGION,
            "--lookback-days",
            "1",
            "--rate",
            "100",
            "--types",
            *MAKERS,
            *more,
        ]
    )
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert status == 1, document["errors"]
    return document


def _ids(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(item["resource_type"], item["resource_id"]) for item in items}


def test_verify_keeps_exactly_the_live_ones(
    endpoints: Running,
    world: tuple[Running, dict[str, list[Made]], dict[str, Made]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, made, deleted = world

    def key(name: str, item: Made) -> tuple[str, str]:
        return name, CATALOG.types[name].normalise(item.id)

    every = {key(name, item) for name, items in made.items() for item in items}
    gone = {key(name, item) for name, item in deleted.items()}

    document = _scan(capsys, endpoints, "--verify")

    assert _ids(document["leftovers"]) == every - gone
    assert _ids(document["verified_gone"]) == gone
    assert {item["reason"] for item in document["verified_gone"]} == {GONE_REASON}
    outcomes = {item["verification"]["outcome"] for item in document["leftovers"]}
    assert outcomes == {"present"}
    assert {i["account_id"] for i in document["leftovers"]} == {MOTO_ACCOUNT}


def test_without_verify_every_create_is_a_leftover(
    endpoints: Running,
    world: tuple[Running, dict[str, list[Made]], dict[str, Made]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = _scan(capsys, endpoints)

    assert len(document["leftovers"]) == PER_TYPE * len(MAKERS)
    assert "verified_gone" not in document
    assert all("verification" not in item for item in document["leftovers"])
