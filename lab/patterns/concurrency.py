"""Bounded async processing: at most N in flight, never all tasks at once.

Gathering one task per item makes memory grow with the input and mixes failures into
the results. :func:`bounded_map` pulls the next item only
when a slot is free (memory stays flat however long the input), can hold a rate per
second overall and per key (a host, say), yields results in input order or as they
complete, attaches each error to its item, and cancels what is in flight when the
caller stops early.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from lab.errors import ConfigError

__all__ = ["ItemResult", "RateLimiter", "bounded_map"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ItemResult(Generic[T, R]):
    """One item's outcome: its position in the input, the item, and a value or an error."""

    index: int
    item: T
    value: R | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class RateLimiter:
    """At most ``per_second`` starts per second, evenly spaced (a virtual-time schedule:
    each start is given the next free slot, so bursts are smoothed, never rejected)."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0:
            raise ConfigError("a rate limit must be greater than zero per second")
        self.interval = 1.0 / per_second
        self.clock, self.sleep = clock, sleep
        self._next = 0.0

    async def wait(self) -> None:
        now = self.clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await self.sleep(slot - now)


async def _items(source: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


async def bounded_map(
    fn: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    limit: int,
    ordered: bool = True,
    rate_per_s: float | None = None,
    rate_per_key_s: float | None = None,
    key: Callable[[T], Hashable] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> AsyncIterator[ItemResult[T, R]]:
    """Yield ``ItemResult`` for ``fn(item)`` over ``items``, at most ``limit`` in flight.

    With ``ordered=True`` results come in input order, and a slow item holds back at most
    ``limit`` finished ones (the window stays bounded). Stop iterating (or cancel) and the
    items in flight are cancelled and awaited before this generator returns.
    """
    if limit < 1:
        raise ConfigError("limit must be at least 1")
    if rate_per_key_s is not None and key is None:
        raise ConfigError("rate_per_key_s needs key= to say which key an item has")
    overall = RateLimiter(rate_per_s, clock=clock, sleep=sleep) if rate_per_s else None
    per_key: defaultdict[Hashable, RateLimiter] | None = None
    if rate_per_key_s:
        per_key = defaultdict(lambda: RateLimiter(rate_per_key_s, clock=clock, sleep=sleep))

    async def one(index: int, item: T) -> ItemResult[T, R]:
        if overall is not None:
            await overall.wait()
        if per_key is not None and key is not None:
            await per_key[key(item)].wait()
        try:
            return ItemResult(index, item, value=await fn(item))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            return ItemResult(index, item, error=error)

    source = _items(items).__aiter__()
    in_flight: set[asyncio.Task[ItemResult[T, R]]] = set()
    finished: dict[int, ItemResult[T, R]] = {}
    next_index = 0  # next item to start
    next_out = 0  # next index to yield when ordered
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) + len(finished) < limit:
                try:
                    item = await source.__anext__()
                except StopAsyncIteration:
                    exhausted = True
                    break
                in_flight.add(asyncio.create_task(one(next_index, item)))
                next_index += 1
            if not in_flight and not finished:
                return
            if in_flight:
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    result = task.result()
                    if ordered:
                        finished[result.index] = result
                    else:
                        yield result
            while next_out in finished:
                yield finished.pop(next_out)
                next_out += 1
    finally:
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
