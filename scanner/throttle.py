"""Token bucket per (account, region), shared by every stream there; time comes from a Timer."""

from __future__ import annotations

import math
from typing import Protocol

import anyio


class Timer(Protocol):
    """Monotonic time in seconds, and a way to wait for it (tests inject a manual one)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopTimer:
    """The event loop's timer."""

    def now(self) -> float:
        return anyio.current_time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class ManualTimer:
    """A timer that moves only when told to: `advance(seconds)` wakes the sleepers due by then."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._counter = 0

    def now(self) -> float:
        return self._now

    @property
    def sleepers(self) -> int:
        """How many tasks are waiting on this timer."""
        return len(self._sleepers)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        self._counter += 1
        entry = (self._now + seconds, self._counter, event)
        self._sleepers.append(entry)
        try:
            await event.wait()
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        self._now += seconds
        for entry in sorted(self._sleepers):
            if entry[0] <= self._now + 1e-9:
                self._sleepers.remove(entry)
                entry[2].set()


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; callers wait in arrival order.

    `acquire()` reserves the next free slot and sleeps until it (a reservation, so waiters are
    served first come, first served without polling). `penalize(seconds)` empties the bucket and
    pushes every later slot back, which is what a `ThrottlingException` from AWS calls for.
    """

    def __init__(self, rate: float, burst: int = 1, timer: Timer | None = None) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.timer: Timer = timer if timer is not None else LoopTimer()
        self._tokens = float(burst)
        self._updated = self.timer.now()
        self.acquired = 0

    def _refill(self) -> None:
        now = self.timer.now()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    @property
    def tokens(self) -> float:
        """Tokens available now (negative: that many slots are already promised)."""
        self._refill()
        return self._tokens

    def delay(self) -> float:
        """Seconds a caller arriving now would wait."""
        return max(0.0, -(self.tokens - 1.0) / self.rate)

    async def acquire(self) -> None:
        """Wait for one token."""
        self._refill()
        self._tokens -= 1.0
        wait = -self._tokens / self.rate
        if wait > 0:
            try:
                await self.timer.sleep(wait)
            except BaseException:
                self._tokens += 1.0  # give the unused slot back when cancelled
                raise
        self.acquired += 1

    def penalize(self, seconds: float) -> None:
        """Push every future slot back by about `seconds` (after AWS said we were too fast)."""
        self._refill()
        self._tokens = min(self._tokens, 0.0) - seconds * self.rate


def backoff(attempt: int, base: float, cap: float, jitter: float) -> float:
    """Delay before retry number `attempt` (1-based): exponential, capped, `jitter` in [0, 1)."""
    exponent = min(attempt - 1, 30)
    delay = min(cap, base * math.pow(2.0, exponent))
    return delay * (0.5 + 0.5 * jitter)
