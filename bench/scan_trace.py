"""`python -m bench.scan_trace TRACE leftovers-args...`: `leftovers scan`, with every call timed.

The scan runs as the CLI runs it; the LookupEvents source is wrapped to write one JSON line per
call to TRACE (monotonic start and end, account, region, stream, outcome, events), the scan's
own start and end, so that `bench.timeline` can show where the time above the bound goes, and
the scan's counters per account-region at its end (calls, pages used, hedges, retries).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import orjson

from scanner import cli, runner, scan
from scanner.plan import Slice, StreamId
from scanner.sources import SourceError, SourcePage
from scanner.sources.lookup import LookupSource

_lines: list[bytes] = []


def _note(**fields: Any) -> None:
    _lines.append(orjson.dumps(fields))


class TracedSource(LookupSource):
    """LookupSource that notes each call's start, end and outcome."""

    async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage:
        started = time.monotonic()
        where = {"account": stream.account_id, "region": stream.region, "stream": stream.name}
        try:
            fetched = await super().fetch(stream, bounds, token)
        except SourceError as error:
            _note(kind="call", start=started, end=time.monotonic(), outcome=error.kind, **where)
            raise
        except BaseException:  # a hedge's loser, cancelled once the other answered
            _note(kind="call", start=started, end=time.monotonic(), outcome="cancelled", **where)
            raise
        _note(
            kind="call", start=started, end=time.monotonic(), outcome="ok",
            events=fetched.events_read, more=fetched.next_token is not None, **where,
        )  # fmt: skip
        return fetched


def main(argv: list[str]) -> int:
    trace = Path(argv[0])
    original = scan.run_scan

    async def traced_run_scan(*args: Any, **kwargs: Any) -> Any:
        _note(kind="scan_start", at=time.monotonic())
        result = await original(*args, **kwargs)
        _note(kind="scan_end", at=time.monotonic())
        progress = kwargs.get("progress")
        if progress is not None:
            regions = {
                f"{account}/{region}": {
                    "calls": live.calls,
                    "pages": live.pages,
                    "hedged": live.hedged,
                    "retried": live.retried,
                    "throttled": live.throttled,
                }
                for (account, region), live in progress.regions.items()
            }
            _note(kind="regions", regions=regions)
        return result

    # The trace replaces the names runner imported (not exported, hence attr-defined).
    runner.LookupSource = TracedSource  # type: ignore[attr-defined]
    runner.run_scan = traced_run_scan  # type: ignore[attr-defined]
    _note(kind="process_start", at=time.monotonic())
    try:
        return cli.main(argv[1:])
    finally:
        trace.write_bytes(b"\n".join(_lines) + b"\n")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
