"""How fast the demo history generator makes records and writes trail-log folders.

Run: `.venv/bin/python -m bench.generator [SPEC]` (default: about one million records).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import orjson

from emulator import generate, parse_spec, write_history

DEFAULT_SPEC = "accounts=3,regions=us-east-1,eu-west-1,seed=1,resources=7400,noise=8"


def main(argv: list[str]) -> int:
    spec = parse_spec(argv[0] if argv else DEFAULT_SPEC)
    started = time.perf_counter()
    count = sum(1 for _ in generate(spec))
    generated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        truth = write_history(spec, Path(folder))
        written = time.perf_counter() - started
        files = sum(1 for _ in Path(folder).rglob("*.json.gz"))
        size = sum(p.stat().st_size for p in Path(folder).rglob("*.json.gz"))
    result = {
        "spec": spec.text(),
        "records": count,
        "generate_seconds": round(generated, 2),
        "records_per_second": round(count / generated),
        "write_history_seconds": round(written, 2),
        "files": files,
        "gzip_megabytes": round(size / 1e6, 1),
        "leftovers": len(truth.leftovers),
        "created": truth.stats.created,
    }
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
