"""`leftovers prices refresh` against the emulator: the dated file it writes, the scan that uses
it, and every bad answer as one line that keeps the bundled figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator import Running
from emulator.api.pricing import ec2_instance_product
from scanner.cli import main
from tests.conftest import MakeRecord

BUNDLED_T3_MICRO = 0.0104
BUNDLED_M5_LARGE = 0.096


PRODUCTS = [
    ec2_instance_product("us-east-1", "t3.micro", "0.0123000000", "SKUT3MICROUSE1000"),
    ec2_instance_product("eu-west-1", "t3.micro", "0.0145000000", "SKUT3MICROEUW1000"),
]


@pytest.fixture
def emulator_history(make_record: MakeRecord) -> list[dict[str, Any]]:
    return [
        make_record(
            region=region,
            name="RunInstances",
            requestParameters={"instanceType": "t3.micro"},
            responseElements={
                "instancesSet": {"items": [{"instanceId": instance, "instanceType": "t3.micro"}]}
            },
        )
        for region, instance in (("us-east-1", "i-0aaa"), ("eu-west-1", "i-0bbb"))
    ]


@pytest.fixture
def emulator_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    products = getattr(request, "param", PRODUCTS)
    return {"products": products}


@pytest.fixture
def state(tmp_path: Path, emulator_env: Running, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The state folder, where the refreshed price file goes by default; quick retries."""
    monkeypatch.setenv("LEFTOVERS_SERVICE__STATE_PATH", str(tmp_path / "state" / "leftovers.db"))
    monkeypatch.setenv("LEFTOVERS_RETRY__ATTEMPTS", "2")
    monkeypatch.setenv("LEFTOVERS_RETRY__BASE_DELAY_SECONDS", "0.01")
    monkeypatch.setenv("LEFTOVERS_REGIONS", "us-east-1,eu-west-1")
    return tmp_path / "state"


def _refresh(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    status = main(["prices", "refresh"])
    captured = capsys.readouterr()
    return status, captured.out, captured.err.splitlines()


def _costs(capsys: pytest.CaptureFixture[str]) -> dict[str, float]:
    status = main(["scan", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert status == 1, document["errors"]
    return {item["region"]: item["estimated_hourly_cost"] for item in document["leftovers"]}


def test_a_refresh_writes_a_dated_price_file_that_the_next_scan_uses(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _costs(capsys)
    assert before == {"us-east-1": BUNDLED_T3_MICRO, "eu-west-1": BUNDLED_T3_MICRO}

    status, out, err = _refresh(capsys)
    assert status == 0, err
    written = state / "prices.yaml"
    assert out.startswith(f"wrote {written}: 2 figures from the Price List API for 2 regions")
    data = yaml.safe_load(written.read_text())
    assert data["date"] == datetime.now(UTC).date()
    assert "Price List" in data["source"]
    assert "us-east-1, eu-west-1" in data["source"]
    ec2 = data["tables"]["ec2_instance"]["prices"]
    assert ec2["us-east-1"]["t3.micro"] == 0.0123
    assert ec2["us-east-1"]["m5.large"] == BUNDLED_M5_LARGE  # not returned: bundled
    assert ec2["eu-west-1"] == {"t3.micro": 0.0145}
    # one line per rate or table left at its bundled figure, with counts
    lines = [line for line in err if line.startswith("leftovers: prices: tables.ec2_instance:")]
    assert len(lines) == 1
    assert "no price for 106 figures" in lines[0]
    assert "in 2 regions" in lines[0]

    assert _costs(capsys) == {"us-east-1": 0.0123, "eu-west-1": 0.0145}


BROKEN = [
    PRODUCTS[0],
    '{"product": {"sku": "BROKEN", "attributes": ',
    {**ec2_instance_product("us-east-1", "m5.large", "0.2", "SKUNOTERMS0000000"), "terms": {}},
]


@pytest.mark.parametrize("emulator_options", [BROKEN], indirect=True)
def test_bad_entries_are_one_line_each_and_keep_the_bundled_figures(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _refresh(capsys)
    assert status == 0
    not_json = [line for line in err if "is not JSON" in line]
    no_terms = [line for line in err if "has no OnDemand term" in line]
    assert len(not_json) == 1
    assert "a PriceList entry is not JSON" in not_json[0]
    assert no_terms == [
        "leftovers: prices: product 'SKUNOTERMS0000000' has no OnDemand term "
        "(1 query: tables.ec2_instance in us-east-1)"
    ]
    ec2 = yaml.safe_load((state / "prices.yaml").read_text())["tables"]["ec2_instance"]["prices"]
    assert ec2["us-east-1"]["m5.large"] == BUNDLED_M5_LARGE
    assert ec2["us-east-1"]["t3.micro"] == 0.0123


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("throttle", "GetProducts failed: ThrottlingException: Rate exceeded (after 2 attempts)"),
        (
            "denied",
            "GetProducts failed: AccessDeniedException: User is not authorized to perform: "
            "pricing:GetProducts in us-east-1",
        ),
    ],
)
def test_failed_calls_are_one_line_and_write_nothing(
    state: Path,
    emulator_env: Running,
    capsys: pytest.CaptureFixture[str],
    fault: str,
    expected: str,
) -> None:
    emulator_env.emulator.set_faults(fault)
    status, out, err = _refresh(capsys)
    assert status == 2
    assert out == ""
    failed = [line for line in err if "GetProducts failed" in line]
    assert len(failed) == 1
    assert failed[0].startswith(f"leftovers: prices: {expected} (54 queries: ")
    assert err[-1] == (
        "leftovers: error: no price could be read from the Price List API: no price file written"
    )
    assert not (state / "prices.yaml").exists()
    emulator_env.emulator.set_faults("")
    assert _costs(capsys) == {"us-east-1": BUNDLED_T3_MICRO, "eu-west-1": BUNDLED_T3_MICRO}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\ndate: [2026", "not valid YAML at line 2"),
        ("version: 1\nhome_region: us-east-1\nsource: x\n", "date: Field required"),
    ],
)
def test_a_malformed_price_file_stops_the_scan_with_one_line_naming_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    expected: str,
) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    monkeypatch.setenv("LEFTOVERS_PRICES_PATH", str(path))
    status = main(["scan", "--format", "json", "--source", "files", str(tmp_path)])
    err = capsys.readouterr().err.splitlines()
    assert status == 2
    assert len(err) == 1
    assert err[0].startswith(f"leftovers: error: {path}: ")
    assert expected in err[0]
