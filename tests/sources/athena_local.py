"""The Athena table as a DuckDB view over local trail files, so the backfill SQL runs here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import sqlglot

from scanner.sources.athena_sql import COLUMNS, TrailTable, quote_name

_PARTITION = r"AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/"


def _column(name: str, key: str, kind: str) -> str:
    path = f"'$.\"{key}\"'"
    if kind == "json":  # the serde's STRING of a nested value: its JSON text; a text value as is
        value = (
            f"CASE WHEN json_type(rec, {path}) IN ('OBJECT', 'ARRAY') "
            f"THEN json_extract(rec, {path})::VARCHAR ELSE json_extract_string(rec, {path}) END"
        )
    elif kind == "boolean":
        value = f"TRY_CAST(json_extract_string(rec, {path}) AS BOOLEAN)"
    else:
        value = f"json_extract_string(rec, {path})"
    return f"{value} AS {name}"


def create_table(db: duckdb.DuckDBPyConnection, table: TrailTable, files: Sequence[Path]) -> None:
    """`database.table` as a view over the trail files, partition columns from each path."""
    columns = ",\n".join(_column(*column) for column in COLUMNS)
    listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
    db.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_name(table.database)}")
    db.execute(
        f"""CREATE OR REPLACE VIEW {table.name} AS
        SELECT {columns},
               regexp_extract(filename, '{_PARTITION}', 1) AS account,
               regexp_extract(filename, '{_PARTITION}', 2) AS region,
               regexp_extract(filename, '{_PARTITION}', 3) AS day
        FROM (SELECT filename, unnest(json_extract(json, '$.Records[*]')) AS rec
              FROM read_json_objects([{listed}], format = 'unstructured', filename = true,
                                     maximum_object_size = 536870912))"""
    )


def run_trino(db: duckdb.DuckDBPyConnection, select: str) -> list[dict[str, object]]:
    """Parse `select` strictly as Trino, transpile it to DuckDB, run it: rows as dicts."""
    expression = sqlglot.parse_one(select, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    cursor = db.execute(expression.sql(dialect="duckdb"))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
