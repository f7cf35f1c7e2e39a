from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from lab.errors import ConfigError
from lab.patterns.concurrency import RateLimiter, bounded_map


class Tracker:
    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.started = 0

    async def work(self, item: int) -> int:
        self.running += 1
        self.started += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(random.Random(item).random() / 1000)
            if item % 7 == 3:
                raise ValueError(f"bad item {item}")
            return item * 10
        finally:
            self.running -= 1


async def test_at_most_limit_in_flight_order_kept_errors_attached() -> None:
    tracker = Tracker()
    results = [r async for r in bounded_map(tracker.work, range(200), limit=8)]
    assert tracker.peak == 8
    assert [r.index for r in results] == list(range(200))
    assert [r.item for r in results] == list(range(200))
    for r in results:
        if r.item % 7 == 3:
            assert not r.ok and isinstance(r.error, ValueError) and str(r.item) in str(r.error)
        else:
            assert r.ok and r.value == r.item * 10


async def test_as_completed_returns_every_item_once() -> None:
    tracker = Tracker()
    results = [r async for r in bounded_map(tracker.work, range(100), limit=5, ordered=False)]
    assert sorted(r.index for r in results) == list(range(100))
    assert tracker.peak <= 5


async def test_items_are_pulled_lazily_from_an_async_source() -> None:
    pulled = 0

    async def source() -> AsyncIterator[int]:
        nonlocal pulled
        for i in range(10_000):
            pulled += 1
            yield i

    tracker = Tracker()
    seen = 0
    async for _ in bounded_map(tracker.work, source(), limit=4):
        seen += 1
        assert pulled <= seen + 4  # never more than the window ahead of the consumer
        if seen == 20:
            break


async def test_stopping_early_cancels_what_is_in_flight() -> None:
    tracker = Tracker()
    started = asyncio.Event()

    async def slow(item: int) -> int:
        tracker.running += 1
        started.set()
        try:
            await asyncio.sleep(3600)
            return item
        finally:
            tracker.running -= 1

    async def fast_then_slow(item: int) -> int:
        return item if item == 0 else await slow(item)

    results = bounded_map(fast_then_slow, range(100), limit=5)
    first = await results.__anext__()
    assert first.value == 0
    await started.wait()
    await results.aclose()
    assert tracker.running == 0  # every in-flight call was cancelled and awaited


async def test_rate_limit_spaces_starts_in_virtual_time() -> None:
    now = [0.0]
    starts: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    async def record(item: int) -> int:
        starts.append(now[0])
        return item

    results = [
        r async for r in bounded_map(record, range(5), limit=5, rate_per_s=10,
                                     clock=lambda: now[0], sleep=fake_sleep)
    ]  # fmt: skip
    assert len(results) == 5
    assert sorted(starts) == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


async def test_rate_limit_per_key_is_separate_for_each_key() -> None:
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(2, clock=lambda: now[0], sleep=fake_sleep)
    await limiter.wait()
    await limiter.wait()
    assert now[0] == pytest.approx(0.5)
    with pytest.raises(ConfigError):
        [r async for r in bounded_map(Tracker().work, [1], limit=1, rate_per_key_s=1)]


async def test_bad_limit() -> None:
    with pytest.raises(ConfigError):
        [r async for r in bounded_map(Tracker().work, [1], limit=0)]
