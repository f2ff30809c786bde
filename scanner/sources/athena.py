"""Athena backfill: one UNLOAD per batch of accounts and days, its Parquet read with DuckDB.

Each batch (`plan_batches`) runs `athena_sql.unload_query`, a few at once: StartQueryExecution,
GetQueryExecution every `poll_seconds` until the query ends, then the Parquet files UNLOAD wrote
are listed (paged) and downloaded into the cache. A checkpoint file of JSON lines records each
step of each batch (`planned` with the target prefix, `started` with the query id, `done` with
the files and bytes scanned, `failed` with the reason), so a restart skips the batches done,
polls the query of a batch started (it is neither run nor paid twice; its files are fetched
again) and gives a failed batch a new, empty target (UNLOAD writes only into an empty prefix).
`ParquetSource` then hands each batch's records to the scan, built by `record_from_body` as
every reader builds them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
import duckdb
import orjson

from scanner.plan import Slice, StreamId, Work
from scanner.records import record_from_body
from scanner.sources import SourceError, SourcePage, Watches
from scanner.sources.athena_sql import TrailTable, body_of, select_query, unload_query
from scanner.sources.lookup import classify
from scanner.sources.s3 import S3Location

#: Athena's price: USD per TB scanned, with 10 MB billed at least per query.
USD_PER_TB = 5.0
MIN_BILLED_BYTES = 10 * 1024 * 1024
#: Queries running at once (Athena's default quota is 20-25 DML queries per account).
PARALLEL_QUERIES = 4
CHECKPOINT = "athena-checkpoint.jsonl"
_ENDED = ("SUCCEEDED", "FAILED", "CANCELLED")


@dataclass(frozen=True, slots=True)
class BackfillBatch:
    """Some accounts over some days: one query."""

    accounts: tuple[str, ...]
    first_day: date
    last_day: date

    def key(self, select: str) -> str:
        """A stable name for the batch and its query text."""
        return hashlib.sha256(select.encode()).hexdigest()[:20]


def plan_batches(
    accounts: Iterable[str], window: Slice, per_query: int, days: int
) -> list[BackfillBatch]:
    """Accounts in groups of `per_query`, the window's days (one more: late delivery) in runs of
    `days`."""
    ids = sorted(set(accounts))
    first, last = window.start.date(), (window.end + timedelta(days=1)).date()
    spans = []
    start = first
    while start <= last:
        end = min(start + timedelta(days=days - 1), last)
        spans.append((start, end))
        start = end + timedelta(days=1)
    groups = [tuple(ids[n : n + per_query]) for n in range(0, len(ids), per_query)]
    return [BackfillBatch(group, a, b) for group in groups for a, b in spans]


def outcome(execution: Mapping[str, Any]) -> tuple[str, str, int]:
    """(state, reason, bytes scanned) of a GetQueryExecution `QueryExecution`."""
    status = execution.get("Status", {})
    state = str(status.get("State", "UNKNOWN"))
    reason = str(status.get("StateChangeReason") or "").strip().splitlines()
    error = status.get("AthenaError", {}).get("ErrorMessage")
    text = reason[0] if reason else (str(error) if error else "")
    scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes") or 0)
    return state, text, scanned


def cost_usd(scanned: int) -> float:
    """What Athena bills for one query that scanned this many bytes."""
    return max(scanned, MIN_BILLED_BYTES) / 1e12 * USD_PER_TB


@dataclass(slots=True)
class BackfillStats:
    """Queries started and reused, bytes scanned, the estimated cost, files fetched, failures."""

    queries: int = 0
    resumed: int = 0
    bytes_scanned: int = 0
    cost_usd: float = 0.0
    files: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The figures a report shows (`athena` in `leftovers scan --format json`)."""
        return {
            "queries": self.queries,
            "queries_resumed": self.resumed,
            "bytes_scanned": self.bytes_scanned,
            "estimated_cost_usd": round(self.cost_usd, 6),
            "parquet_files": self.files,
            "failed_batches": len(self.failures),
        }


class Checkpoint:
    """The backfill's steps, one JSON line each, appended (a kill leaves whole lines)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict[str, Any]]:
        """Batch key -> what its lines say, later lines over earlier ones."""
        state: dict[str, dict[str, Any]] = {}
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return state
        for line in lines:
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # a line cut short by a kill
            if isinstance(entry, dict) and isinstance(entry.get("batch"), str):
                state.setdefault(entry["batch"], {}).update(entry)
        return state

    def append(self, **entry: Any) -> None:
        with self.path.open("ab") as out:
            out.write(orjson.dumps(entry) + b"\n")


class AthenaBackfill:
    """Runs the batches' queries and fetches their Parquet; see the module docstring."""

    def __init__(
        self,
        athena: Any,
        s3: Any,
        table: TrailTable,
        events: frozenset[tuple[str, str]],
        *,
        workgroup: str,
        output_location: str,
        cache_dir: Path,
        poll_seconds: float = 2.0,
        page_size: int = 1000,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self._athena = athena
        self._s3 = s3
        self.table = table
        self._events = events
        self._workgroup = workgroup
        self._output = S3Location.parse(output_location)
        self.cache_dir = cache_dir
        self._poll = poll_seconds
        self._page_size = page_size
        self._sleep = sleep
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint = Checkpoint(cache_dir / CHECKPOINT)
        self.stats = BackfillStats()

    def select(self, batch: BackfillBatch) -> str:
        return select_query(
            self.table, batch.accounts, batch.first_day, batch.last_day, self._events
        )

    def target(self, key: str, attempt: int) -> str:
        """Where UNLOAD writes a batch's attempt: a prefix nothing else writes to."""
        return f"s3://{self._output.bucket}/{self._output.prefix}leftovers/{key}/{attempt}/"

    async def _start(self, key: str, select: str, attempt: int) -> str:
        target = self.target(key, attempt)
        self.checkpoint.append(batch=key, attempt=attempt, target=target, step="planned")
        answer = await self._athena.start_query_execution(
            QueryString=unload_query(select, target),
            ClientRequestToken=f"leftovers-{key}-{attempt}".ljust(32, "0"),
            WorkGroup=self._workgroup,
            QueryExecutionContext={"Database": self.table.database},
            ResultConfiguration={"OutputLocation": self._output.url},
        )
        query = str(answer["QueryExecutionId"])
        self.checkpoint.append(batch=key, query=query, step="started")
        self.stats.queries += 1
        return query

    async def _wait(self, query: str) -> tuple[str, str, int]:
        while True:
            answer = await self._athena.get_query_execution(QueryExecutionId=query)
            state, reason, scanned = outcome(answer["QueryExecution"])
            if state in _ENDED:
                return state, reason, scanned
            await self._sleep(self._poll)

    async def _fetch(self, key: str, target: str) -> list[str]:
        where = S3Location.parse(target)
        folder = self.cache_dir / key
        folder.mkdir(parents=True, exist_ok=True)
        files: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=where.bucket, Prefix=where.prefix, PaginationConfig={"PageSize": self._page_size}
        )
        async for page in pages:
            for item in page.get("Contents", []):
                name = str(item["Key"])[len(where.prefix) :].replace("/", "_")
                if not name or name.endswith(".csv") or name.endswith(".metadata"):
                    continue  # the query's own result and manifest files, not UNLOAD's data
                answer = await self._s3.get_object(Bucket=where.bucket, Key=item["Key"])
                async with answer["Body"] as body:
                    data = await body.read()
                await anyio.Path(folder / name).write_bytes(data)
                files.append(str(folder / name))
        self.stats.files += len(files)
        return files

    async def _batch(self, batch: BackfillBatch, done: dict[str, list[str]]) -> None:
        select = self.select(batch)
        key = batch.key(select)
        state = self.checkpoint.load().get(key, {})
        if state.get("step") == "done":
            done[key] = list(state["files"])
            return
        attempt = int(state.get("attempt", 0)) + (1 if state.get("step") == "failed" else 0)
        if state.get("step") == "started":
            query = str(state["query"])
            self.stats.resumed += 1
        else:
            query = await self._start(key, select, attempt)
        ended, reason, scanned = await self._wait(query)
        self.stats.bytes_scanned += scanned
        self.stats.cost_usd += cost_usd(scanned)
        if ended != "SUCCEEDED":
            why = f"query {query} {ended}" + (f": {reason}" if reason else "")
            self.checkpoint.append(batch=key, step="failed", reason=why)
            raise SourceError("fatal", why)
        files = await self._fetch(key, str(self.checkpoint.load()[key]["target"]))
        self.checkpoint.append(batch=key, step="done", files=files, scanned=scanned)
        done[key] = files

    async def run(self, batches: Sequence[BackfillBatch]) -> dict[str, list[str]]:
        """Batch key -> its Parquet files, for every batch that succeeded (now or before);
        the others are in `stats.failures` as (batch key, reason)."""
        done: dict[str, list[str]] = {}
        limit = anyio.CapacityLimiter(PARALLEL_QUERIES)

        async def one(batch: BackfillBatch) -> None:
            async with limit:
                try:
                    await self._batch(batch, done)
                except Exception as error:  # one batch's failure is data; the others go on
                    reason = error if isinstance(error, SourceError) else classify(error)
                    self.stats.failures.append((batch.key(self.select(batch)), reason.reason))

        async with anyio.create_task_group() as group:
            for batch in batches:
                group.start_soon(one, batch)
        return dict(sorted(done.items()))


class ParquetSource:
    """One stream per backfill batch (`athena:<key>`): its Parquet rows as records, in one page,
    keeping the watched events inside the window."""

    time_sliced = False

    def __init__(self, files: Mapping[str, Sequence[str]], watches: Watches) -> None:
        self._files = files
        self._watches = watches

    def work(self, window: Slice) -> list[Work]:
        return [Work(StreamId("*", "*", f"athena:{key}"), window) for key in self._files]

    def _read(self, key: str, bounds: Slice) -> SourcePage:
        files = list(self._files.get(key, ()))
        rows: list[dict[str, Any]] = []
        if files:
            with duckdb.connect(":memory:") as db:
                cursor = db.execute("SELECT * FROM read_parquet($files)", {"files": files})
                names = [d[0] for d in cursor.description]
                rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        records = [record_from_body(body_of(row)) for row in rows]
        kept = tuple(
            r
            for r in records
            if r is not None
            and bounds.start <= r.event_time <= bounds.end
            and self._watches(r.event_source, r.event_name)
        )
        return SourcePage(records=kept, events_read=len(rows), oldest=None, next_token=None)

    async def fetch(self, stream: StreamId, bounds: Slice, token: str | None) -> SourcePage:
        del token
        key = stream.name.removeprefix("athena:")
        try:
            return await anyio.to_thread.run_sync(self._read, key, bounds)
        except duckdb.Error as error:
            raise SourceError(
                "fatal", f"{stream.name}: cannot read its Parquet ({error})"
            ) from None
