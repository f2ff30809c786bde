"""Token buckets: the LookupEvents rate limit per (account, region)."""

from __future__ import annotations

import threading

from emulator.api.clock import Clock

#: AWS's rate for LookupEvents: two requests per second per account per region.
DEFAULT_RATE = 2.0


class RateLimiter:
    """One bucket per key, `rate` tokens a second (times the time scale), burst of `rate`."""

    def __init__(self, clock: Clock, rate: float = DEFAULT_RATE, time_scale: float = 1.0) -> None:
        if rate <= 0 or time_scale <= 0:
            raise ValueError("rate and time scale must be positive")
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.configure(rate, time_scale)

    def configure(self, rate: float, time_scale: float = 1.0) -> None:
        """Change the rate; buckets keep what they hold, capped at the new burst."""
        with self._lock:
            self.rate = rate
            self.time_scale = time_scale
            self._per_second = rate * time_scale
            self._burst = max(1.0, self._per_second)

    def allow(self, key: tuple[str, str]) -> bool:
        """Take one token for `key`; False when the bucket is empty (the call is throttled)."""
        now = self._clock.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - then) * self._per_second)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            return allowed
