"""`python -m bench.sizing`: the README's sizing table, from bench/results.json and assumptions.

Every figure that is not an assumption below comes from the last `make bench` run: the engine's
events/s (LookupEvents pages in, pairs and store out), DuckDB's records/s over gzipped trail
files, and the idle incremental scan's seconds per stream.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass(frozen=True, slots=True)
class Assumptions:
    """What an organization looks like; change them and run again."""

    days: int = 90  # the first read's window
    writes_per_account_day: int = 20_000  # write events (what a ReadOnly=false chain reads)
    events_per_account_day: int = 100_000  # every event a trail file holds (reads too)
    regions: int = 17  # regions per account (streams = accounts x regions)
    active_regions: int = 4  # regions with activity: ~288 trail files a day each
    gzipped_bytes_per_event: int = 150  # ~1.5 KB of JSON, ~10:1 gzipped
    usd_per_tb_scanned: float = 5.0  # Athena
    usd_per_1000_gets: float = 0.0004  # S3 GET (Athena's reads of the objects are GETs too)
    download_mb_per_second: float = 100.0  # S3 to the scanner
    gets_per_second: float = 1_000.0  # 32 downloads at once, ~30 ms each
    lookup_calls_per_second: float = 2.0  # per account and region
    events_per_page: int = 50


def _hours(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _usd(value: float) -> str:
    return "$0" if value == 0 else f"${value:,.2f}"


def rows(results: dict[str, Any], a: Assumptions) -> list[list[str]]:
    """(source, accounts, first read time, first read cost, a day's time, a day's cost)."""
    engine = float(results["engine_events_per_second"])
    duck = float(results["duckdb_records_per_second"])
    idle = results["details"]["org_idle"]
    idle_per_stream = float(idle["idle_seconds"]) / int(idle["streams"])
    out: list[list[str]] = []
    for n in (10, 100, 1000):
        writes = n * a.days * a.writes_per_account_day
        pages_per_region = a.days * a.writes_per_account_day / a.events_per_page
        api = pages_per_region / a.lookup_calls_per_second  # every account-region in parallel
        first = max(api, writes / engine)
        day_scans = 24 * n * a.regions * idle_per_stream
        out.append(["LookupEvents", f"{n:,}", _hours(first), "$0", _hours(day_scans), "$0"])

        events = n * a.days * a.events_per_account_day
        gzipped = events * a.gzipped_bytes_per_event
        objects = n * a.days * a.active_regions * 288
        fetch = max(gzipped / (a.download_mb_per_second * 1e6), objects / a.gets_per_second)
        s3_first = fetch + events / duck
        s3_cost = objects / 1000 * a.usd_per_1000_gets
        day_objects = objects / a.days
        day_events = events / a.days
        s3_day = max(day_objects / a.gets_per_second, day_events / duck)
        s3_day_cost = day_objects / 1000 * a.usd_per_1000_gets
        out.append(
            ["S3 + DuckDB", f"{n:,}", _hours(s3_first), _usd(s3_cost), _hours(s3_day),
             _usd(s3_day_cost)]
        )  # fmt: skip

        athena_cost = gzipped / 1e12 * a.usd_per_tb_scanned + s3_cost
        out.append(
            ["Athena (first read) + LookupEvents", f"{n:,}", "Athena's time (not measured)",
             _usd(athena_cost), _hours(day_scans), "$0"]
        )  # fmt: skip
    return out


def table(results: dict[str, Any], a: Assumptions) -> str:
    """The rows as a Markdown table."""
    head = ["source", "accounts", "first read (90 days)", "its cost", "a day, steady", "its cost"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results, a)]
    return "\n".join(lines)


def main() -> int:
    results = orjson.loads(RESULTS.read_bytes())
    print(table(results, Assumptions()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
