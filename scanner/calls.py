"""One call for a chain: the region's bucket in front, backoff and retry, a hedge if asked.

A chain's page is one `Source.fetch`. `Caller.call` waits for a token, sends it, and on a
throttled or transient answer, or none within `call_timeout_seconds`, backs off and sends it
again (`RetrySettings`). While a call is out under a rate limit, the region's watcher may set the
chain's `hedge` event: the same call is then sent again and the first answer wins
(`Caller.fetch`). Every call, and every error by category, is counted in the region's
`RegionProgress`, from which the scan's `ScanStats` are derived.
"""

from __future__ import annotations

import random
from collections import deque

import anyio

from scanner.logs import get_logger
from scanner.pages import ScanProgress
from scanner.plan import Slice
from scanner.schedule import Chain, Region
from scanner.settings import RetrySettings
from scanner.sources import Source, SourceError, SourcePage
from scanner.throttle import Timer, backoff

log = get_logger("calls")


class Caller:
    """Sends a scan's calls; keeps the latencies of the last ones (every region's)."""

    def __init__(
        self, source: Source, retry: RetrySettings, timer: Timer, progress: ScanProgress
    ) -> None:
        self.source = source
        self.retry = retry
        self.timer = timer
        self.progress = progress
        self.random = random.Random(0)
        self.latencies: deque[float] = deque(maxlen=256)

    async def call(
        self, region: Region, chain: Chain, bounds: Slice, token: str | None
    ) -> SourcePage:
        """One page, with the bucket in front and backoff on throttling and transient errors."""
        retry = self.retry
        stream = chain.stream
        live = self.progress.of(stream)
        attempt = 0
        while True:
            attempt += 1
            if region.bucket is not None:
                await region.bucket.acquire()
            live.calls += 1
            started = self.timer.now()
            chain.calling, chain.since = True, started
            try:
                fetched = await self.timed(region, chain, bounds, token)
            except SourceError as error:
                chain.calling = False
                live.errors[error.category] += 1
                if error.kind == "throttled":
                    live.throttled += 1
                    if region.bucket is not None:
                        region.bucket.penalize(1.0 / region.bucket.rate)
                else:
                    live.failed_calls += 1
                if error.kind not in ("throttled", "transient") or attempt >= retry.attempts:
                    raise
                delay = backoff(
                    attempt, retry.base_delay_seconds, retry.max_delay_seconds, self.random.random()
                )
                log.debug("call_retried", stream=stream.name, attempt=attempt, reason=error.reason)
                await self.timer.sleep(delay)
                live.retried += 1
                continue
            chain.calling = False
            live.pages += 1
            region.pace.observe(self.timer.now() - started)
            self.latencies.append(self.timer.now() - started)
            return fetched

    async def timed(
        self, region: Region, chain: Chain, bounds: Slice, token: str | None
    ) -> SourcePage:
        """One call (hedged if the region is watched), abandoned without an answer in time."""
        timeout = self.retry.call_timeout_seconds
        with anyio.move_on_after(timeout):
            if region.bucket is not None and self.source.time_sliced:
                chain.hedge = anyio.Event()  # the region's watcher may hedge this call
                return await self.fetch(chain, bounds, token)
            # nothing watches the call: no hedge, no task group around it
            return await self.source.fetch(chain.stream, bounds, token)
        raise SourceError("transient", f"no answer within {timeout:g} s", "timeout")

    async def fetch(self, chain: Chain, bounds: Slice, token: str | None) -> SourcePage:
        """One call, sent again if the watcher hedges it; the first answer wins."""
        answers: list[SourcePage | SourceError] = []
        answered = anyio.Event()

        async def one() -> None:
            try:
                answers.append(await self.source.fetch(chain.stream, bounds, token))
            except SourceError as error:
                answers.append(error)
            answered.set()

        async def again() -> None:
            await chain.hedge.wait()
            live = self.progress.of(chain.stream)
            live.calls += 1
            live.hedged += 1
            log.debug("call_hedged", stream=chain.stream.name)
            group.start_soon(one)

        async with anyio.create_task_group() as group:
            group.start_soon(one)
            group.start_soon(again)
            await answered.wait()
            group.cancel_scope.cancel()
        first = answers[0]
        if isinstance(first, SourceError):
            raise first
        return first
