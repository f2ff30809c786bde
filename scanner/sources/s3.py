"""Trail logs in S3: list the window's partitions, download new objects into a local cache.

A trail delivers to `s3://BUCKET/[PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`.
`TrailSync` lists only the accounts and regions asked for, and only the days of the window (from
the year, month and day folders that exist), downloads the objects it has not read yet, a bounded
number at once, into `TrailCache`, and returns the cached files for the DuckDB reader.

The cache keeps each object at `CACHE/BUCKET/KEY`, and per partition a log of the objects read
(`ETAG KEY` lines, appended once an object is whole on disk): an object whose key and ETag are
in the log is never fetched again, so an incremental scan fetches only new objects and a scan
killed mid-way resumes without reading anything twice. A partition whose day ended more than
`SETTLE` before it was listed is marked complete and not listed again. Digest files live under
`CloudTrail-Digest/`, which is never listed; any object of a partition that is not a CloudTrail
log file (a digest, a stray upload) is skipped and counted.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import anyio

from scanner.errors import SettingsError
from scanner.plan import Slice
from scanner.sources.lookup import classify

#: How long after a day ends CloudTrail may still deliver into that day's partition (files come
#: about every 5 minutes, late by up to ~15 minutes; the rest is a margin).
SETTLE = timedelta(hours=2)

READ_LOG = ".leftovers-read"
COMPLETE = ".leftovers-complete"

_ORG = re.compile(r"^o-[a-z0-9]{10,32}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_LOG_FILE = re.compile(r"^\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]+\.json\.gz$")
_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")


@dataclass(frozen=True, slots=True)
class S3Location:
    """A bucket and a key prefix ("" or ending in "/") above `AWSLogs/`."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        """`s3://BUCKET[/PREFIX]`; a bad URL is a SettingsError naming it."""
        match = _URL.match(url)
        parts = [p for p in (match.group(2) or "").split("/") if p] if match else []
        if match is None or any(p in (".", "..") for p in parts):
            raise SettingsError(f"{url!r} is not s3://BUCKET[/PREFIX]")
        return cls(match.group(1), "".join(f"{p}/" for p in parts))

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True, slots=True)
class Partition:
    """One day of one account and region: its key prefix (ending in "/")."""

    prefix: str
    account_id: str
    region: str
    day: date


@dataclass(slots=True)
class SyncStats:
    """What a sync did: S3 calls, partitions listed, objects seen, fetched, skipped; failures."""

    calls: int = 0
    partitions: int = 0
    listed: int = 0
    objects: int = 0
    downloaded: int = 0
    downloaded_bytes: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


class TrailCache:
    """Downloaded objects at `root/BUCKET/KEY`, and what was read of each partition."""

    def __init__(self, root: Path, bucket: str) -> None:
        self.root = root / bucket

    def path(self, key: str) -> Path:
        return self.root / key

    def read(self, partition: Partition) -> dict[str, str]:
        """Key -> ETag of the partition's objects already whole in the cache."""
        try:
            text = (self.root / partition.prefix / READ_LOG).read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        done: dict[str, str] = {}
        for line in text.splitlines():
            etag, _, key = line.partition(" ")
            if key.startswith(partition.prefix) and self.path(key).is_file():
                done[key] = etag
        return done

    def record(self, partition: Partition, key: str, etag: str) -> None:
        """Remember an object whole on disk (one append: a kill leaves the line or nothing)."""
        log = self.root / partition.prefix / READ_LOG
        descriptor = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, f"{etag} {key}\n".encode())
        finally:
            os.close(descriptor)

    def is_complete(self, partition: Partition) -> bool:
        return (self.root / partition.prefix / COMPLETE).exists()

    def mark_complete(self, partition: Partition) -> None:
        (self.root / partition.prefix / COMPLETE).touch()

    def files(self, partition: Partition) -> list[Path]:
        return sorted(self.path(key) for key in self.read(partition))


def _days(window: Slice) -> set[date]:
    """The days whose partitions may hold the window's events: a file is filed under the day it
    was delivered, at or a little after its events, so one day past the window's end too."""
    first, last = window.start.date(), (window.end + timedelta(days=1)).date()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


class TrailSync:
    """Brings the cache up to date with the trail's partitions in a window; see the module."""

    def __init__(
        self,
        client: Any,
        location: S3Location,
        cache: TrailCache,
        *,
        accounts: frozenset[str] | None = None,
        regions: frozenset[str] | None = None,
        concurrency: int = 32,
    ) -> None:
        self._s3 = client
        self.location = location
        self.cache = cache
        self._accounts = accounts
        self._regions = regions
        self._limit = anyio.CapacityLimiter(concurrency)
        self.stats = SyncStats()

    async def _list(self, prefix: str, **params: str) -> AsyncIterator[dict[str, Any]]:
        """The ListObjectsV2 pages under `prefix`, each call counted and bounded."""
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            self.stats.calls += 1
            async with self._limit:
                page: dict[str, Any] = await self._s3.list_objects_v2(
                    Bucket=self.location.bucket, Prefix=prefix, **params, **extra
                )
            yield page
            token = page.get("NextContinuationToken")
            if not token:
                return

    async def _folders(self, prefix: str) -> list[str]:
        """The names of the folders right under `prefix`."""
        return [
            p["Prefix"][len(prefix) :].rstrip("/")
            async for page in self._list(prefix, Delimiter="/")
            for p in page.get("CommonPrefixes", [])
        ]

    async def _objects(self, prefix: str) -> list[tuple[str, str]]:
        """(key, ETag) of the objects under `prefix`."""
        return [
            (o["Key"], str(o["ETag"]).strip('"'))
            async for page in self._list(prefix)
            for o in page.get("Contents", [])
        ]

    async def _accounts_under(self) -> list[str]:
        """`AWSLogs/ACCOUNT/` or `AWSLogs/o-ID/ACCOUNT/` prefixes of the accounts asked for."""
        logs = f"{self.location.prefix}AWSLogs/"
        found: list[str] = []
        for name in await self._folders(logs):
            if _ORG.match(name):
                inner = [f"{logs}{name}/{a}/" for a in await self._folders(f"{logs}{name}/")]
                found += [p for p in inner if _ACCOUNT.match(p.rstrip("/").rsplit("/", 1)[1])]
            elif _ACCOUNT.match(name):
                found.append(f"{logs}{name}/")
        wanted = self._accounts
        return [p for p in found if wanted is None or p.rstrip("/").rsplit("/", 1)[1] in wanted]

    async def _partitions_of(self, account: str, days: set[date]) -> list[Partition]:
        account_id = account.rstrip("/").rsplit("/", 1)[1]
        out: list[Partition] = []
        trail = f"{account}CloudTrail/"
        years = {d.year for d in days}
        months = {(d.year, d.month) for d in days}
        for region in await self._folders(trail):
            if not _REGION.match(region) or (self._regions and region not in self._regions):
                continue
            base = f"{trail}{region}/"
            for year in await self._folders(base):
                if not (year.isdigit() and int(year) in years):
                    continue
                for month in await self._folders(f"{base}{year}/"):
                    if not (month.isdigit() and (int(year), int(month)) in months):
                        continue
                    for day in await self._folders(f"{base}{year}/{month}/"):
                        when = _day(year, month, day)
                        if when in days:
                            prefix = f"{base}{year}/{month}/{day}/"
                            out.append(Partition(prefix, account_id, region, when))
        return out

    async def partitions(self, window: Slice) -> list[Partition]:
        """The partitions of the window, for the accounts and regions asked for."""
        days = _days(window)
        found: list[Partition] = []

        async def add(account: str) -> None:
            found.extend(await self._partitions_of(account, days))

        async with anyio.create_task_group() as group:
            for account in await self._accounts_under():
                group.start_soon(add, account)
        self.stats.partitions = len(found)
        return sorted(found, key=lambda p: p.prefix)

    async def _download(self, partition: Partition, key: str, etag: str) -> None:
        target = self.cache.path(key)
        partial = target.with_name(target.name + ".part")
        async with self._limit:
            self.stats.calls += 1
            answer = await self._s3.get_object(Bucket=self.location.bucket, Key=key, IfMatch=etag)
            async with answer["Body"] as body:
                data = await body.read()
        await anyio.Path(partial).write_bytes(data)
        os.replace(partial, target)
        self.cache.record(partition, key, etag)
        self.stats.downloaded += 1
        self.stats.downloaded_bytes += len(data)

    async def _sync(self, partition: Partition, now: datetime) -> None:
        listed_at = now
        folder = self.cache.root / partition.prefix
        folder.mkdir(parents=True, exist_ok=True)
        done = self.cache.read(partition)
        self.stats.listed += 1
        objects = await self._objects(partition.prefix)
        fetch: list[tuple[str, str]] = []
        for key, etag in objects:
            if not _LOG_FILE.match(key.rsplit("/", 1)[1]) or "/" in key[len(partition.prefix) :]:
                self.stats.skipped += 1
                continue
            self.stats.objects += 1
            if done.get(key) != etag:
                fetch.append((key, etag))
        async with anyio.create_task_group() as group:
            for key, etag in fetch:
                group.start_soon(self._download, partition, key, etag)
        day_end = datetime.combine(partition.day + timedelta(days=1), time(), UTC)
        if listed_at - day_end > SETTLE:
            self.cache.mark_complete(partition)

    async def run(self, window: Slice, now: datetime | None = None) -> list[Path]:
        """Sync the window's partitions; the cached trail files of all of them, sorted.

        A partition that cannot be listed or fetched is recorded in `stats.failures` (prefix,
        reason) and the others go on; its files already cached are still returned.
        """
        now = now or datetime.now(UTC)
        try:
            partitions = await self.partitions(window)
        except Exception as error:  # the trail's folders cannot be listed: nothing to read
            self.stats.failures.append((f"{self.location.prefix}AWSLogs/", _reason(error)))
            return []
        async with anyio.create_task_group() as group:
            for partition in partitions:
                if not self.cache.is_complete(partition):
                    group.start_soon(self._guarded, partition, now)
        return sorted(path for p in partitions for path in self.cache.files(p))

    async def _guarded(self, partition: Partition, now: datetime) -> None:
        try:
            await self._sync(partition, now)
        except Exception as error:  # one partition's failure is data; the others go on
            self.stats.failures.append((partition.prefix, _reason(error)))


def _day(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _reason(error: BaseException) -> str:
    """One line for what S3 (or the way to it) answered; a task group's first error."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return classify(error).reason
