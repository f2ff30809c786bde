"""The Athena SQL: parsed strictly as Trino/Athena by sqlglot, and the backfill query, transpiled
to DuckDB, returns exactly the records the catalog needs from the same trail files."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from emulator.history.generator import account_ids, write_history
from scanner.catalog import load_catalog
from scanner.cli import main
from scanner.records import read_file, record_files, record_from_body
from scanner.sources.athena_sql import (
    COLUMNS,
    TrailTable,
    body_of,
    select_query,
    table_ddl,
    unload_query,
)
from tests.scan.scan_cli import NOW, spec_for

from .athena_local import create_table, run_trino

REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
TABLE = TrailTable("cloudtrail", "org_trail", "s3://trail/logs/", "o-abcdef1234", REGIONS)


def test_the_ddl_is_athena_sql_with_partition_projection() -> None:
    ddl = table_ddl(TABLE)
    create = sqlglot.parse_one(ddl, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(create, exp.Create)
    assert [c.name for c in create.find_all(exp.ColumnDef)][: len(COLUMNS)] == [
        name for name, _, _ in COLUMNS
    ]
    assert "'projection.account.type' = 'injected'" in ddl
    assert "'projection.region.values' = 'us-east-1,eu-west-1,us-west-2'" in ddl
    assert "'projection.day.format' = 'yyyy/MM/dd'" in ddl
    template = "s3://trail/logs/AWSLogs/o-abcdef1234/${account}/CloudTrail/${region}/${day}"
    assert f"'storage.location.template' = '{template}'" in ddl
    account_trail = replace(TABLE, organization_id=None)
    assert "logs/AWSLogs/${account}/CloudTrail" in table_ddl(account_trail)


def test_the_ddl_command_prints_the_table_and_names_a_bad_value(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LEFTOVERS_CONFIG", "LEFTOVERS_REGIONS", "LEFTOVERS_TRAIL_BUCKET__URL"):
        monkeypatch.delenv(name, raising=False)
    argv = ["athena", "ddl", "--location", "s3://trail/logs/", "--organization-id", "o-abcdef1234"]
    regions = ["--region", "us-east-1,eu-west-1", "--region", "us-west-2"]
    argv += [*regions, "--database", "cloudtrail", "--table", "org_trail"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out == table_ddl(TABLE) + ";\n"
    assert main([*argv, "--organization-id", "org-1"]) == 2
    err = capsys.readouterr().err
    assert "--organization-id: athena.organization_id: 'org-1' is not an organization id" in err
    assert main(["athena", "ddl"]) == 2
    assert "give --location or trail_bucket.url" in capsys.readouterr().err
    monkeypatch.setenv("LEFTOVERS_TRAIL_BUCKET__URL", "s3://trail/logs/")
    assert main(["athena", "ddl"]) == 0
    assert "'projection.region.values' = 'af-south-1," in capsys.readouterr().out


def test_the_backfill_query_parses_strictly_as_trino_and_a_syntax_error_fails() -> None:
    events = load_catalog().events
    select = select_query(TABLE, ["111122223333"], date(2024, 1, 1), date(2024, 1, 31), events)
    unload = unload_query(select, "s3://out/leftovers/batch-1/")
    # sqlglot knows no UNLOAD: the wrapper is checked by shape, the SELECT inside strictly.
    match = re.fullmatch(
        r"UNLOAD \((.*)\)\nTO '([^']*)'\nWITH \(format = 'PARQUET'\)", unload, re.S
    )
    assert match is not None
    assert match.group(1) == select
    sqlglot.parse_one(select, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    with pytest.raises(sqlglot.errors.ParseError):
        sqlglot.parse_one(select.replace("IN (", "IN ((", 1), read="trino")
    assert "O'Brien" not in select
    quoted = select_query(TABLE, ["1"], date(2024, 1, 1), date(2024, 1, 1), [("x", "O'Brien")])
    sqlglot.parse_one(quoted, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    assert "'O''Brien'" in quoted


def _expected(files: list[Path], accounts: set[str], days: set[str]) -> list[dict[str, Any]]:
    """What the Python reader and the catalog's filter keep from the same partitions."""
    catalog = load_catalog()
    partition = re.compile(r"AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/[^/]+/(\d{4}/\d\d/\d\d)/")
    kept = []
    for path in files:
        found = partition.search(str(path))
        assert found is not None
        if found.group(1) in accounts and found.group(2) in days:
            kept += [r for r in read_file(path) if catalog.watches(r.event_source, r.event_name)]
    return sorted(({k: v for k, v in r.body.items() if v is not None} for r in kept), key=str)


@pytest.mark.parametrize("organization", [True, False])
def test_the_backfill_returns_exactly_the_records_the_catalog_needs(
    organization: bool, tmp_path: Path
) -> None:
    spec = replace(spec_for(41), accounts=4, regions=REGIONS, days=6, resources=12, noise=4.0)
    write_history(spec, tmp_path, file_seconds=3 * 3600)
    root = tmp_path / "AWSLogs"
    if organization:
        (tmp_path / "org" / "AWSLogs").mkdir(parents=True)
        root = root.rename(tmp_path / "org" / "AWSLogs" / "o-abcdef1234")
    files = record_files([root])
    db = duckdb.connect()
    create_table(db, TABLE, files)
    accounts = account_ids(spec)[:3]
    first, last = (NOW - timedelta(days=4)).date(), (NOW - timedelta(days=1)).date()
    days = {f"{first + timedelta(days=n):%Y/%m/%d}" for n in range((last - first).days + 1)}
    select = select_query(TABLE, accounts, first, last, load_catalog().events)
    rows = run_trino(db, select)
    bodies = sorted((body_of(row) for row in rows), key=str)
    expected = _expected(files, set(accounts), days)
    assert len(expected) > 20
    assert bodies == expected
    failed = [b for b in bodies if b.get("errorCode")]
    assert failed, "failed calls are kept: the engine ignores them"
    assert all(record_from_body(b) is not None for b in bodies)
