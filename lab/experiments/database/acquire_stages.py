"""Where ``DatabasePool``'s acquire+release time goes: the same lease built up in stages
over one asyncpg pool, each measured beside the pool itself in the same round.

* ``asyncpg pool``: ``await pool.acquire()`` then ``await pool.release()`` (the floor);
* ``async with``: a lease object whose ``__aenter__`` awaits the acquire and whose
  ``__aexit__`` returns the release, nothing else (what any ``async with`` wrapper costs);
* ``async with, wait timed``: that, with the wait timed into a bucket histogram, as
  ``DatabasePool`` times every acquisition into ``acquire_wait``;
* ``DatabasePool``: the lab's lease, which also counts who is waiting (for the timeout
  error and the utilization gauge) and checks for a lost connection on release;
* ``DatabasePool, lean engine``: the same lease over ``LeanPool`` instead of asyncpg's
  pool (``engine="lean"``, what ``lab serve`` uses): no task per release.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any

from lab.experiments.database.tables import ACQUIRE_STAGES
from lab.patterns.histogram import BucketHistogram
from lab.patterns.pool import DatabasePool

__all__ = ["acquire_bodies"]


class _Lease:
    __slots__ = ("_connection", "_pool")

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._connection: Any = None

    async def __aenter__(self) -> Any:
        self._connection = await self._pool.acquire()
        return self._connection

    def __aexit__(self, *exc: object) -> Awaitable[None]:
        return self._pool.release(self._connection)  # type: ignore[no-any-return]


class _TimedLease(_Lease):
    __slots__ = ("_waits",)

    def __init__(self, pool: Any, waits: BucketHistogram) -> None:
        super().__init__(pool)
        self._waits = waits

    async def __aenter__(self) -> Any:
        began = perf_counter()
        self._connection = await self._pool.acquire()
        self._waits.observe(perf_counter() - began)
        return self._connection


def acquire_bodies(
    raw: Any, ours: DatabasePool, lean: DatabasePool
) -> dict[str, Callable[[], Awaitable[None]]]:
    """One acquire+release per call for each stage: ``raw`` is an open asyncpg pool,
    ``ours`` and ``lean`` open ``DatabasePool``s with the same settings over asyncpg's
    pool and over the lean engine."""
    waits = BucketHistogram()

    async def bare() -> None:
        connection = await raw.acquire()
        await raw.release(connection)

    async def leased() -> None:
        async with _Lease(raw):
            pass

    async def timed() -> None:
        async with _TimedLease(raw, waits):
            pass

    async def pooled() -> None:
        async with ours.acquire():
            pass

    async def pooled_lean() -> None:
        async with lean.acquire():
            pass

    bodies = (bare, leased, timed, pooled, pooled_lean)
    return dict(zip(ACQUIRE_STAGES, bodies, strict=True))
