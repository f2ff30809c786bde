"""Time for the emulator: the real clock by default, a manual one that tests move by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Wall time (epoch seconds) for the 90-day horizon and expiries; monotonic for rates."""

    def now(self) -> float: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        return time.monotonic()


class ManualClock:
    """A clock that stands still until told to move: wall and monotonic time move together."""

    def __init__(self, start: datetime | float | None = None) -> None:
        if start is None:
            start = time.time()
        elif isinstance(start, datetime):
            start = (start if start.tzinfo else start.replace(tzinfo=UTC)).timestamp()
        self._now = float(start)
        self._monotonic = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as last set."""
        return self._now

    def monotonic(self) -> float:
        """Seconds moved since the clock was made."""
        return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._now += seconds
        self._monotonic += seconds

    def set(self, when: datetime | float) -> None:
        """Jump wall time to `when` (monotonic time moves by the same amount, never back)."""
        target = when.timestamp() if isinstance(when, datetime) else float(when)
        self._monotonic += max(0.0, target - self._now)
        self._now = target
