"""What the emulator serves from, and how a request handler reaches it (the app key)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

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
from emulator.api.pricing import DEFAULT_PRODUCTS, GetProducts
from emulator.api.stats import CallStats
from emulator.api.sts import Sessions
from emulator.api.tokens import TokenCodec
from emulator.names import is_account_id
from scanner.records import ReadStats, Record

#: The account served when the history is empty and no `--account` is given.
FALLBACK_ACCOUNT = "123456789012"
#: Where the application keeps the state its handlers serve from.
STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("emulator")


def state_of(request: web.Request) -> EmulatorState:
    """The state the application of `request` serves from."""
    return request.app[STATE_KEY]


class EmulatorState:
    """What the emulator serves from: the history, limits, faults, sessions and counters."""

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
        products: Iterable[Mapping[str, Any] | str] | None = None,
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
        self.pricing = GetProducts(DEFAULT_PRODUCTS if products is None else products)
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

    async def wait_for_stop(self) -> None:
        """Block until the emulator stops (what hanging calls do)."""
        if self._stopping is None:
            self._stopping = asyncio.Event()
        await self._stopping.wait()
