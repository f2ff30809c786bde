"""The `make demo` summary: counts and costs per type, honest about unknown prices."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from scanner.demo import summary


def item(resource_type: str, cost: float | None, account: str = "111111111111") -> dict[str, Any]:
    return {"resource_type": resource_type, "account_id": account, "estimated_hourly_cost": cost}


def test_summary_shows_unknown_prices_as_unknown() -> None:
    results = {
        "leftovers": [
            item("ec2.nat_gateway", 0.045),
            item("ec2.instance", 0.1),
            item("ec2.instance", None, "222222222222"),
            item("s3.bucket", None),
            item("s3.bucket", None),
        ],
        "stats": {"api_calls": 12, "duration_seconds": 1.25},
    }
    lines = {line.split()[0]: line for line in summary(results, "http://x").splitlines() if line}
    assert lines["5"].startswith("5 leftovers in 2 accounts (first scan: 12 LookupEvents calls")
    assert lines["s3.bucket"].split() == ["s3.bucket", "2", "?"]
    assert lines["ec2.instance"].split()[:3] == ["ec2.instance", "2", "0.100"]
    assert "(1 without a known price)" in lines["ec2.instance"]
    assert lines["ec2.nat_gateway"].split() == ["ec2.nat_gateway", "1", "0.045"]
    assert lines["total"].split()[:3] == ["total", "5", "0.145"]
    assert lines["About"] == "  About 106 USD/month where a price is known (? = no known price)."
    assert "0.000" not in summary(results, "http://x")


def test_the_demo_leaves_no_temporary_folder_behind(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEFTOVERS_"))}
    env["TMPDIR"] = str(tmp_path)
    with subprocess.Popen(
        [sys.executable, "-m", "scanner.demo"], env=env, stdout=subprocess.PIPE, text=True
    ) as demo:
        assert demo.stdout is not None
        for line in demo.stdout:
            if line.startswith("Ctrl-C stops"):
                break
        assert [p.name[:15] for p in tmp_path.iterdir()] == ["leftovers-demo-"]
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) == 0
    assert list(tmp_path.iterdir()) == []


def test_summary_columns_stay_aligned_for_long_type_names() -> None:
    results = {
        "leftovers": [item("acm_pca.certificate_authority", 0.548), item("s3.bucket", None)],
        "stats": {},
    }
    lines = [line for line in summary(results, "http://x").splitlines() if line.startswith("  ")]
    counts = [
        line
        for line in lines
        if line.split()[0] in {"acm_pca.certificate_authority", "s3.bucket", "total"}
    ]
    assert len({line.index(line.split()[1]) + len(line.split()[1]) for line in counts}) == 1


def test_the_summary_fits_an_80_column_terminal() -> None:
    results = {
        "leftovers": [item("acm_pca.certificate_authority", 0.548), item("s3.bucket", None)],
        "stats": {"api_calls": 45, "duration_seconds": 0.4},
    }
    lines = summary(results, "http://127.0.0.1:9100").splitlines()
    assert [line for line in lines if len(line) > 80] == []
