"""Athena's SQL for an organization trail, written once in its (Trino) dialect: table and backfill.

The table (`table_ddl`) uses partition projection, so no crawler and no `MSCK REPAIR`: `account`
is injected (a query must name its accounts), `region` an enum, `day` a date (`yyyy/MM/dd`).
Every nested field of a record (`userIdentity`, `requestParameters`, ...) is a STRING column:
the serde keeps it as raw JSON text, so the record comes back whole, with its keys as CloudTrail
wrote them, and the catalog's JMESPath runs on it unchanged.

The backfill (`backfill_query`) reads one batch of accounts and days, keeps the catalog's event
sources and names (failed calls included: the engine ignores them) and `UNLOAD`s them as Parquet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import botocore.session
import orjson

from scanner.errors import SettingsError
from scanner.settings import Settings

ColumnKind = Literal["text", "json", "boolean"]

#: (column, CloudTrail key, kind): the record's top-level fields, in CloudTrail's order.
COLUMNS: tuple[tuple[str, str, ColumnKind], ...] = (
    ("eventversion", "eventVersion", "text"),
    ("useridentity", "userIdentity", "json"),
    ("eventtime", "eventTime", "text"),
    ("eventsource", "eventSource", "text"),
    ("eventname", "eventName", "text"),
    ("awsregion", "awsRegion", "text"),
    ("sourceipaddress", "sourceIPAddress", "text"),
    ("useragent", "userAgent", "text"),
    ("errorcode", "errorCode", "text"),
    ("errormessage", "errorMessage", "text"),
    ("requestparameters", "requestParameters", "json"),
    ("responseelements", "responseElements", "json"),
    ("additionaleventdata", "additionalEventData", "json"),
    ("requestid", "requestID", "text"),
    ("eventid", "eventID", "text"),
    ("readonly", "readOnly", "boolean"),
    ("resources", "resources", "json"),
    ("eventtype", "eventType", "text"),
    ("apiversion", "apiVersion", "text"),
    ("managementevent", "managementEvent", "boolean"),
    ("recipientaccountid", "recipientAccountId", "text"),
    ("serviceeventdetails", "serviceEventDetails", "json"),
    ("sharedeventid", "sharedEventID", "text"),
    ("vpcendpointid", "vpcEndpointId", "text"),
    ("eventcategory", "eventCategory", "text"),
    ("tlsdetails", "tlsDetails", "json"),
    ("sessioncredentialfromconsole", "sessionCredentialFromConsole", "text"),
)

_HIVE_TYPES = {"text": "STRING", "json": "STRING", "boolean": "BOOLEAN"}


def quote_text(value: str) -> str:
    """A SQL string literal ('' doubles a quote)."""
    return "'" + value.replace("'", "''") + "'"


def quote_name(value: str) -> str:
    """A SQL identifier in double quotes."""
    return '"' + value.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class TrailTable:
    """Where the table is and what it covers: the trail's `s3://BUCKET/PREFIX/` (above
    `AWSLogs/`), the organization id (None: an account trail) and the region enum."""

    database: str
    table: str
    location: str
    organization_id: str | None
    regions: Sequence[str]

    @property
    def name(self) -> str:
        return f"{quote_name(self.database)}.{quote_name(self.table)}"

    def template(self) -> str:
        org = f"{self.organization_id}/" if self.organization_id else ""
        base = self.location if self.location.endswith("/") else self.location + "/"
        return f"{base}AWSLogs/{org}${{account}}/CloudTrail/${{region}}/${{day}}"


def table_ddl(table: TrailTable, first_day: date = date(2020, 1, 1)) -> str:
    """`CREATE EXTERNAL TABLE` with partition projection over the trail (Athena's Hive DDL)."""
    columns = ",\n".join(f"  `{name}` {_HIVE_TYPES[kind]}" for name, _, kind in COLUMNS)
    properties = {
        "projection.enabled": "true",
        "projection.account.type": "injected",
        "projection.region.type": "enum",
        "projection.region.values": ",".join(table.regions),
        "projection.day.type": "date",
        "projection.day.format": "yyyy/MM/dd",
        "projection.day.range": f"{first_day:%Y/%m/%d},NOW",
        "projection.day.interval": "1",
        "projection.day.interval.unit": "DAYS",
        "storage.location.template": table.template(),
    }
    listed = ",\n".join(f"  {quote_text(k)} = {quote_text(v)}" for k, v in properties.items())
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{table.database}`.`{table.table}` (\n{columns}\n)\n"
        "PARTITIONED BY (`account` STRING, `region` STRING, `day` STRING)\n"
        "ROW FORMAT SERDE 'com.amazon.emr.hive.serde.CloudTrailSerde'\n"
        "STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n"
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n"
        f"LOCATION {quote_text(table.location)}\n"
        f"TBLPROPERTIES (\n{listed}\n)"
    )


def select_query(
    table: TrailTable,
    accounts: Iterable[str],
    first_day: date,
    last_day: date,
    events: Iterable[tuple[str, str]],
) -> str:
    """The records of the catalog's (eventSource, eventName) pairs for these accounts and days
    (Trino SQL); the `IN` lists on each column alone let the engine skip rows cheaply."""
    pairs = sorted(set(events))
    sources = ", ".join(quote_text(s) for s in sorted({s for s, _ in pairs}))
    names = ", ".join(quote_text(n) for n in sorted({n for _, n in pairs}))
    ids = ", ".join(quote_text(a) for a in sorted(set(accounts)))
    both = ", ".join(f"({quote_text(s)}, {quote_text(n)})" for s, n in pairs)
    columns = ", ".join(name for name, _, _ in COLUMNS)
    return (
        f'SELECT {columns}, "account", "region", "day"\n'
        f"FROM {table.name}\n"
        f'WHERE "account" IN ({ids})\n'
        f"""  AND "day" BETWEEN '{first_day:%Y/%m/%d}' AND '{last_day:%Y/%m/%d}'\n"""
        f"  AND eventsource IN ({sources})\n"
        f"  AND eventname IN ({names})\n"
        f"  AND (eventsource, eventname) IN ({both})"
    )


def unload_query(select: str, target: str) -> str:
    """The select's rows written as Parquet under `target` (an empty S3 prefix)."""
    return f"UNLOAD ({select})\nTO {quote_text(target)}\nWITH (format = 'PARQUET')"


def body_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudTrail record of one result row: JSON columns parsed back, nulls left out."""
    body: dict[str, Any] = {}
    for name, key, kind in COLUMNS:
        value = row.get(name)
        if value is None:
            continue
        if kind == "json" and isinstance(value, str):
            with contextlib.suppress(orjson.JSONDecodeError):  # not JSON: kept as the text
                value = orjson.loads(value)
        body[key] = value
    return body


def trail_table(settings: Settings) -> TrailTable:
    """The table the settings describe; the bucket URL is required."""
    if settings.trail_bucket.url is None:
        raise SettingsError("the trail bucket is not set: give --location or trail_bucket.url")
    regions = settings.regions or tuple(
        botocore.session.get_session().get_available_regions("cloudtrail")
    )
    athena = settings.athena
    return TrailTable(
        athena.database, athena.table, settings.trail_bucket.url, athena.organization_id, regions
    )
