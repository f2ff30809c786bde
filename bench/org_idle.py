"""Steady state at organization size: an idle incremental scan of many accounts x 17 regions
against the emulator (its STS and LookupEvents in their own process).

The child runs the service as `leftovers serve` does: its sessions and clients are kept from
scan to scan, so the idle scan opens none (`clients_open` says how many the first one opened).
FULL reads 100 accounts (1,700 streams) so that `make bench` stays short; the figures scale with
the number of streams (README, "Sizing", has a run at 1,000 accounts); `details.org_idle` keeps
the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.harness import Figure, Outcome, emulator_process, run_child
from bench.scan import RATE, pinned

REGIONS_17 = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class OrgConfig:
    """The organization's history (a little activity per account), and the emulator's pace."""

    spec: str
    time_scale: float


FULL = OrgConfig(
    "accounts=100,regions=" + ",".join(REGIONS_17) + ",seed=3,days=2,resources=1,noise=0.05",
    50.0,
)
SMOKE = OrgConfig(
    "accounts=5,regions=us-east-1,eu-west-1,seed=3,days=2,resources=1,noise=0.05", 50.0
)


def bench_org_idle(config: OrgConfig, workdir: Path) -> Outcome:
    """The service's first scan, then the idle one that is measured."""
    spec_text = pinned(config.spec)
    args = ["--generate", spec_text, "--rate", f"{RATE:g}"]
    args += ["--time-scale", f"{config.time_scale:g}", "--seed", "2"]
    state = workdir / "org-idle.db"
    for stale in workdir.glob("org-idle.db*"):
        stale.unlink()
    with emulator_process(args, workdir / "emulator-org.log") as emulator:
        rate = f"{RATE * config.time_scale:g}"
        details = run_child(
            "bench.org_idle_child", [emulator.url, spec_text, rate, str(state)], timeout=3600
        )
    outcome = Outcome()
    outcome.figures.append(Figure("org_idle_scan_seconds", details["idle_seconds"]))
    outcome.figures.append(Figure("org_idle_cpu_seconds", details["idle_cpu_seconds"]))
    outcome.figures.append(Figure("org_peak_rss_mb", details["peak_rss_mb"]))
    outcome.details["org_idle"] = {"spec": spec_text, "time_scale": config.time_scale, **details}
    return outcome
