"""The token bucket on a manual timer: spacing, bursts, penalties, cancellation; backoff."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from scanner.throttle import ManualTimer, TokenBucket, backoff


async def settle() -> None:
    for _ in range(10):
        await anyio.lowlevel.checkpoint()


async def test_calls_are_spaced_by_the_rate() -> None:
    timer = ManualTimer()
    bucket = TokenBucket(rate=2.0, burst=1, timer=timer)
    done: list[float] = []

    async def caller() -> None:
        await bucket.acquire()
        done.append(timer.now())

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(caller)
        await settle()
        assert done == [0.0]
        timer.advance(0.49)
        await settle()
        assert done == [0.0]
        for _ in range(3):
            timer.advance(0.5)
            await settle()
    assert done == [0.0, 0.99, 1.49, 1.99]
    assert bucket.acquired == 4


async def test_burst_is_saved_up_while_idle_and_capped() -> None:
    timer = ManualTimer()
    bucket = TokenBucket(rate=2.0, burst=3, timer=timer)
    timer.advance(100.0)
    assert bucket.tokens == 3.0
    for _ in range(3):
        await bucket.acquire()
    assert timer.sleepers == 0
    assert bucket.delay() == pytest.approx(0.5)


async def test_penalty_pushes_every_caller_back() -> None:
    timer = ManualTimer()
    bucket = TokenBucket(rate=2.0, burst=1, timer=timer)
    await bucket.acquire()
    bucket.penalize(1.0)
    assert bucket.delay() == pytest.approx(1.5)
    done = anyio.Event()

    async def caller() -> None:
        await bucket.acquire()
        done.set()

    async with anyio.create_task_group() as group:
        group.start_soon(caller)
        timer.advance(1.4)
        await settle()
        assert not done.is_set()
        timer.advance(0.1)
        await settle()
        assert done.is_set()


async def test_a_cancelled_waiter_gives_its_slot_back() -> None:
    timer = ManualTimer()
    bucket = TokenBucket(rate=1.0, burst=1, timer=timer)
    await bucket.acquire()
    async with anyio.create_task_group() as group:
        group.start_soon(bucket.acquire)  # waits one (manual) second
        await settle()
        assert timer.sleepers == 1
        group.cancel_scope.cancel()
    assert bucket.tokens == pytest.approx(0.0)
    assert bucket.delay() == pytest.approx(1.0)


def test_backoff_doubles_and_is_capped() -> None:
    assert backoff(1, 0.5, 20.0, jitter=1.0) == pytest.approx(0.5)
    assert backoff(3, 0.5, 20.0, jitter=1.0) == pytest.approx(2.0)
    assert backoff(10, 0.5, 20.0, jitter=1.0) == pytest.approx(20.0)
    assert backoff(3, 0.5, 20.0, jitter=0.0) == pytest.approx(1.0)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0.0)
