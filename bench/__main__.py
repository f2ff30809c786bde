"""`python -m bench [--only NAME ...] [--smoke]`: run the benchmarks, print a table, save JSON."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from bench import duck, engine, http, incremental, org_idle, page, scan
from bench.harness import Figure, Outcome, machine

RESULTS = Path(__file__).resolve().parent / "results.json"


def benchmarks(
    smoke: bool, *, with_cli: bool = True, trace: Path | None = None
) -> dict[str, Callable[[Path], Outcome]]:
    """Name -> runner, full size or smoke size."""
    scan_config = scan.SMOKE if smoke else scan.FULL
    engine_config = engine.SMOKE if smoke else engine.FULL
    http_config = http.HttpConfig(
        engine_config, 200 if smoke else 2000, 4 if smoke else 16, readyz_seconds=3 if smoke else 30
    )
    inc_config = incremental.SMOKE if smoke else incremental.FULL
    return {
        "scan": lambda work: scan.bench_scan(scan_config, work, with_cli=with_cli, trace=trace),
        "engine": lambda work: engine.bench_engine(engine_config, work),
        "incremental": lambda work: incremental.bench_incremental(inc_config, work),
        "http": lambda work: http.bench_http(http_config, work),
        "page": lambda work: page.bench_page(page.SMOKE if smoke else page.FULL, work),
        "duckdb": lambda work: duck.bench_duck(duck.SMOKE if smoke else duck.FULL, work),
        "org_idle": lambda work: org_idle.bench_org_idle(
            org_idle.SMOKE if smoke else org_idle.FULL, work
        ),
    }


def table(figures: list[Figure]) -> Table:
    """The figures as a terminal table."""
    out = Table(title="leftovers benchmarks")
    for column in ("benchmark", "value", "target", "result"):
        out.add_column(column)
    for figure in figures:
        target = "" if figure.target is None else f"{'>=' if figure.better == 'high' else '<='} "
        target += "" if figure.target is None else f"{figure.target:g}"
        verdict = {True: "pass", False: "FAIL", None: "-"}[figure.passed]
        out.add_row(figure.name, f"{figure.value:g}", target, verdict)
    return out


def merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new` over `old`, one level deep: a partial run (say, without the CLI baseline) keeps
    the details it did not measure again."""
    out = dict(old)
    for key, value in new.items():
        before = out.get(key)
        out[key] = (
            {**before, **value} if isinstance(before, dict) and isinstance(value, dict) else value
        )
    return out


def main(argv: list[str]) -> int:
    """Run, print, write bench/results.json (or --output)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=sorted(benchmarks(False)), default=None)
    parser.add_argument("--smoke", action="store_true", help="a tiny run of the whole harness")
    parser.add_argument("--output", type=Path, default=None, help="results file")
    parser.add_argument(
        "--no-cli", action="store_true", help="scan: skip the slow aws CLI baseline"
    )
    parser.add_argument(
        "--trace", type=Path, default=None, help="scan: time every call into this file"
    )
    args = parser.parse_args(argv)
    chosen = benchmarks(args.smoke, with_cli=not args.no_cli, trace=args.trace)
    names = args.only or list(chosen)
    output = args.output or (RESULTS.with_name("results-smoke.json") if args.smoke else RESULTS)
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="leftovers-bench-") as folder:
        work = Path(folder)
        for name in names:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            outcome = chosen[name](work)
            seconds[name] = round(time.perf_counter() - started, 1)
            figures.extend(outcome.figures)
            details.update(outcome.details)
    previous: dict[str, Any] = {}
    if args.only and output.exists():  # a partial run updates the figures it measured
        previous = orjson.loads(output.read_bytes())
    document = {
        **previous,
        "machine": machine(),
        "smoke": args.smoke,
        **{f.name: f.value for f in figures},
        "targets": {
            **previous.get("targets", {}),
            **{f.name: f.target for f in figures if f.target is not None},
        },
        "passed": {
            **previous.get("passed", {}),
            **{f.name: f.passed for f in figures if f.passed is not None},
        },
        "details": merged(previous.get("details", {}), details),
        "bench_seconds": {**previous.get("bench_seconds", {}), **seconds},
    }
    output.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    Console().print(table(figures))
    print(f"written {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
