"""The emulator as a Python object: load records, switch faults, serve (async or in a thread)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from emulator.api.clock import Clock, SystemClock
from emulator.api.cloudtrail import HORIZON_DAYS, LookupEvents
from emulator.api.events import ServedEvent
from emulator.api.faults import Fault, FaultPlan, parse_faults
from emulator.api.index import History
from emulator.api.latency import DEFAULT_LATENCY, LatencyModel, parse_latency
from emulator.api.limits import DEFAULT_RATE, RateLimiter
from emulator.api.loading import (
    LoadStats,
    events_from_paths,
    records_from_objects,
    warn_skipped,
)
from emulator.api.stats import CallStats
from emulator.api.sts import Sessions
from emulator.api.tokens import TokenCodec
from emulator.names import is_account_id
from scanner.records import ReadStats, Record

#: The account served when the history is empty and no `--account` is given.
FALLBACK_ACCOUNT = "123456789012"


@dataclass(frozen=True, slots=True)
class Running:
    """A running emulator: where to reach it."""

    emulator: Emulator
    host: str
    port: int

    @property
    def endpoint_url(self) -> str:
        """The URL to give boto3/aioboto3 (`endpoint_url`) or `AWS_ENDPOINT_URL`."""
        return f"http://{self.host}:{self.port}"

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment variables that point AWS clients at the emulator (dummy keys)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "AKIAEMULATOR00000000",
            "AWS_SECRET_ACCESS_KEY": "emulator-secret-key",
            "AWS_DEFAULT_REGION": region,
        }


class Emulator:
    """CloudTrail LookupEvents, STS, Organizations and EC2 DescribeRegions over a history."""

    def __init__(
        self,
        *,
        history: Iterable[Path] = (),
        records: Iterable[object] = (),
        account: str | None = None,
        rate: float = DEFAULT_RATE,
        time_scale: float = 1.0,
        latency: LatencyModel | str | None = DEFAULT_LATENCY,
        faults: str | tuple[Fault, ...] = (),
        seed: int | None = None,
        clock: Clock | None = None,
        horizon_days: float | None = HORIZON_DAYS,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.history = History()
        self.time_scale = time_scale
        self.limiter = RateLimiter(self.clock, rate, time_scale)
        if latency is None:
            latency = LatencyModel()
        self.latency = parse_latency(latency) if isinstance(latency, str) else latency
        self.faults = FaultPlan(parse_faults(faults) if isinstance(faults, str) else faults, seed)
        self.rng = random.Random(seed)
        self.sessions = Sessions(self.clock, lambda: self.default_account, seed)
        self.lookup = LookupEvents(self.history, TokenCodec(), horizon_days)
        self.stats = CallStats()
        self._account = account
        self._stopping: asyncio.Event | None = None
        self.load_stats = LoadStats()
        self.load(history, records)

    def load(self, paths: Iterable[Path] = (), records: Iterable[object] = ()) -> None:
        """Load files and folders, then records, counting both in `load_stats`."""
        paths = list(paths)
        if paths:
            self.load_stats.add(self.load_paths(paths))
        self.load_stats.add(self.add_records(records))

    @property
    def default_account(self) -> str:
        """`--account`, else the account with the most records, else a fixed fallback."""
        if self._account is None:
            busiest = self.history.busiest_account()
            if busiest is None:
                return FALLBACK_ACCOUNT
            self._account = busiest
            self.history.adopt_orphans(busiest)
        return self._account

    def knows_account(self, account: str) -> bool:
        """A 12-digit account id, or an account of the history (samples name some `0000`)."""
        return is_account_id(account) or account in self.history.accounts()

    def _add(
        self, records: Iterable[Record | ServedEvent], read: ReadStats, where: str
    ) -> LoadStats:
        added = self.history.add(records)
        warn_skipped(read.skipped, where)
        if self._account is not None:
            self.history.adopt_orphans(self._account)
        return LoadStats(read.records, added.added, added.duplicates, read.skipped)

    def load_paths(self, paths: Iterable[Path]) -> LoadStats:
        """Load trail-log files, folders, JSONL, LookupEvents and EventBridge files."""
        paths = list(paths)
        read = ReadStats()
        where = ", ".join(str(path) for path in paths)
        return self._add(events_from_paths(paths, read), read, where)

    def add_records(self, items: Iterable[object]) -> LoadStats:
        """Add records (Record values or parsed JSON of any known format); safe while running."""
        read = ReadStats()
        return self._add(records_from_objects(items, read), read, "add_records")

    def set_faults(self, faults: str | tuple[Fault, ...]) -> None:
        """Switch the faults in force."""
        self.faults.replace(parse_faults(faults) if isinstance(faults, str) else faults)

    def app(self) -> web.Application:
        """The aiohttp application serving every emulated service."""
        from emulator.api.server import build_app  # noqa: PLC0415 - server imports runtime

        return build_app(self)

    async def wait_for_stop(self) -> None:
        """Block until the emulator stops (what hanging calls do)."""
        if self._stopping is None:
            self._stopping = asyncio.Event()
        await self._stopping.wait()

    @contextlib.asynccontextmanager
    async def running(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[Running]:
        """Serve on loopback for the duration of the block (port 0: a free port)."""
        self._stopping = asyncio.Event()
        self.default_account  # noqa: B018 - settle the default account before serving
        self.history.build()
        runner = web.AppRunner(
            self.app(), access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        try:
            yield Running(self, host, int(bound))
        finally:
            self._stopping.set()
            await runner.cleanup()

    @contextlib.contextmanager
    def in_thread(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[Running]:
        """Serve from a background thread (for boto3 and the aws CLI in sync tests)."""
        ready: list[Running] = []
        failed: list[BaseException] = []
        started = threading.Event()
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()

        async def serve() -> None:
            try:
                async with self.running(host, port) as running:
                    ready.append(running)
                    started.set()
                    await stop.wait()
            except BaseException as error:
                failed.append(error)
                started.set()
                raise

        def main() -> None:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(serve())
            loop.close()

        thread = threading.Thread(target=main, name="emulator", daemon=True)
        thread.start()
        started.wait()
        if failed:
            thread.join()
            raise failed[0]
        try:
            yield ready[0]
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
