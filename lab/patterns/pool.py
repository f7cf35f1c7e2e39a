"""``DatabasePool``: asyncpg's pool with production defaults (10 to 20 connections, 50,000
queries per connection, 300 s idle lifetime, 60 s command timeout), and what psycopg_pool
users expect besides: statistics, an acquire timeout with a clear error, a transaction helper,
a health check and a utilization gauge (in use / max) for the SLO "connections < 80 %".

``engine="asyncpg"`` (the default) is ``asyncpg.create_pool``; ``engine="lean"`` is
``LeanPool``, the same settings over plain asyncpg connections without asyncpg's per-lease
task (``max_queries`` then counts leases).

``reset="none"`` skips asyncpg's reset on release (``RESET ALL``, unlisten, unlock: a
second round trip per lease); use it only where sessions keep no state (no ``SET``, no
temporary tables, no advisory locks, no LISTEN). A connection released inside a
transaction (a handler cancelled mid-way, say) is still reset, with either engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from time import perf_counter
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, get_args

import asyncpg
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from lab.errors import PoolTimeoutError
from lab.patterns.document_names import pool_attribute_error
from lab.patterns.histogram import BucketHistogram
from lab.patterns.lean_pool import LeanPool, full_reset

__all__ = ["DatabasePool", "PoolCollector", "PoolStats"]

#: Errors after which the connection is gone; asyncpg replaces it on release.
_LOST = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    OSError,
)


@dataclass
class PoolStats:
    timeouts: int = 0
    connections_lost: int = 0
    waiting: int = 0  # callers waiting for a connection now
    max_waiting: int = 0
    claimed: int = 0  # leases held, or being acquired (waiting or not)
    acquire_wait: BucketHistogram = field(default_factory=BucketHistogram)

    @property
    def acquisitions(self) -> int:
        """Leases handed out: each one's wait was observed once."""
        return self.acquire_wait.count

    @property
    def in_use(self) -> int:
        """Connections leased now, or being handed to a caller that did not wait."""
        return self.claimed - self.waiting


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Release without a reset round trip (see the module docstring for when it is safe).
    asyncpg's pool still rolls back a transaction left open before it calls this."""


class _Closed:
    """What a pool that is not open answers with."""

    async def acquire(self, timeout: float | None = None) -> asyncpg.Connection:
        raise RuntimeError("the pool is not open: use `async with DatabasePool(...)`")

    async def release(self, connection: asyncpg.Connection) -> None:
        raise RuntimeError("the pool is not open")


class _Lease:
    """``async with pool.acquire() as connection``: a class, not a generator, because it
    runs on every query and generator-based context managers cost microseconds."""

    __slots__ = ("_connection", "_pool")

    def __init__(self, pool: DatabasePool) -> None:
        self._pool = pool
        self._connection: Any = None

    async def __aenter__(self) -> asyncpg.Connection:
        pool = self._pool
        stats = pool.stats
        began = perf_counter()
        stats.claimed += 1  # decides who may wait
        try:
            if stats.claimed <= pool.max_size:
                # A connection is there to have (idle, or one more to open): no timer,
                # since asyncpg runs a timed acquire through wait_for, a task per lease.
                connection = await pool._raw.acquire()
            else:
                connection = await self._wait(pool, stats)
        except BaseException:
            stats.claimed -= 1
            raise
        stats.acquire_wait.observe(perf_counter() - began)
        self._connection = connection
        return connection

    @staticmethod
    async def _wait(pool: DatabasePool, stats: PoolStats) -> asyncpg.Connection:
        stats.waiting += 1
        stats.max_waiting = max(stats.max_waiting, stats.waiting)
        try:
            return await pool._raw.acquire(timeout=pool.acquire_timeout_s)
        except TimeoutError:
            stats.timeouts += 1
            raise PoolTimeoutError(
                f"no database connection free within {pool.acquire_timeout_s} s "
                f"({stats.in_use} of {pool.max_size} in use, {stats.waiting - 1} others "
                f"waiting); raise max_size or acquire_timeout_s, or shed load"
            ) from None
        finally:
            stats.waiting -= 1

    def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> Awaitable[None]:
        """Not a coroutine of its own: ``async with`` awaits the engine's release directly
        (it returns None, so no error is swallowed)."""
        pool = self._pool
        stats = pool.stats
        if error is not None and isinstance(error, _LOST):
            stats.connections_lost += 1
            self._connection.terminate()  # never lease a connection in an unknown state
        stats.claimed -= 1
        return pool._raw.release(self._connection)  # type: ignore[no-any-return]


Reset = Literal["full", "none"]  # what a released connection is reset with
Engine = Literal["asyncpg", "lean"]


class DatabasePool:
    """``async with DatabasePool(dsn) as pool: rows = await pool.fetch(sql, *params)``."""

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 10,
        max_size: int = 20,
        max_queries: int = 50_000,
        max_inactive_connection_lifetime: float = 300.0,
        command_timeout: float = 60.0,
        acquire_timeout_s: float = 5.0,
        reset: Reset = "full",
        engine: Engine = "asyncpg",
        name: str = "db",
        **connect_kwargs: Any,
    ) -> None:
        if not 0 <= min_size <= max_size or max_size < 1:
            raise ValueError(
                f"need 0 <= min_size <= max_size, max_size >= 1 (got {min_size}, {max_size})"
            )
        if reset not in get_args(Reset):
            raise ValueError(f"reset is 'full' or 'none', not {reset!r}")
        if engine not in get_args(Engine):
            raise ValueError(f"engine is 'asyncpg' or 'lean', not {engine!r}")
        self.engine = engine
        self.dsn = dsn
        self.name = name
        self.min_size, self.max_size = min_size, max_size
        self.acquire_timeout_s = acquire_timeout_s
        self.stats = PoolStats()
        self._options: dict[str, Any] = {
            "min_size": min_size,
            "max_size": max_size,
            "max_queries": max_queries,
            "max_inactive_connection_lifetime": max_inactive_connection_lifetime,
            "command_timeout": command_timeout,
            **connect_kwargs,
        }
        if reset == "none":
            self._options["reset"] = _no_reset
        self._pool: Any = None
        self._raw: Any = _Closed()

    if not TYPE_CHECKING:  # hidden from mypy, which would then accept any attribute

        def __getattr__(self, name: str) -> Any:
            raise pool_attribute_error(self, name)

    @property
    def raw(self) -> Any:
        """The engine's pool (``asyncpg.Pool`` or ``LeanPool``), opened."""
        if self._pool is None:
            raise RuntimeError("the pool is not open: use `async with DatabasePool(...)`")
        return self._pool

    async def open(self) -> DatabasePool:
        if self._pool is None:
            if self.engine == "lean":
                options = dict(self._options)
                self._pool = await LeanPool(
                    self.dsn,
                    min_size=options.pop("min_size"),
                    max_size=options.pop("max_size"),
                    max_uses=options.pop("max_queries"),
                    max_inactive_s=options.pop("max_inactive_connection_lifetime"),
                    reset=None if options.pop("reset", None) else full_reset,
                    **options,
                ).open()
            else:
                self._pool = await asyncpg.create_pool(self.dsn, **self._options)
            self._raw = self._pool
        return self

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool, self._raw = self._pool, None, _Closed()
            await pool.close()

    async def __aenter__(self) -> DatabasePool:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def acquire(self) -> _Lease:
        return _Lease(self)

    @asynccontextmanager
    async def transaction(self, **options: Any) -> AsyncIterator[asyncpg.Connection]:
        """A connection inside ``BEGIN ... COMMIT`` (``ROLLBACK`` when the block raises)."""
        async with self.acquire() as connection, connection.transaction(**options):
            yield connection

    async def fetch(self, sql: str, *params: Any) -> list[asyncpg.Record]:
        async with self.acquire() as connection:
            return await connection.fetch(sql, *params)  # type: ignore[no-any-return]

    async def fetchrow(self, sql: str, *params: Any) -> asyncpg.Record | None:
        async with self.acquire() as connection:
            return await connection.fetchrow(sql, *params)

    async def fetchval(self, sql: str, *params: Any) -> Any:
        async with self.acquire() as connection:
            return await connection.fetchval(sql, *params)

    async def execute(self, sql: str, *params: Any) -> str:
        async with self.acquire() as connection:
            return await connection.execute(sql, *params)  # type: ignore[no-any-return]

    async def health(self, timeout_s: float = 2.0) -> tuple[bool, str]:
        """(healthy, detail) from ``SELECT 1`` within ``timeout_s``; never raises."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.fetchval("SELECT 1")
        except Exception as error:  # the answer is the detail, whatever went wrong
            return False, f"{type(error).__name__}: {error}"
        return True, "ok"

    @property
    def utilization(self) -> float:
        """Connections leased now / max_size: what the SLO "connections < 80 %" reads."""
        return self.stats.in_use / self.max_size

    def sizes(self) -> dict[str, int]:
        pool = self._pool
        opened = pool.get_size() if pool is not None else 0
        idle = pool.get_idle_size() if pool is not None else 0
        return {
            "open": opened,
            "idle": idle,
            "in_use": self.stats.in_use,
            "waiting": self.stats.waiting,
            "max": self.max_size,
        }


class PoolCollector(Collector):
    """Prometheus view of some pools: ``registry.register(PoolCollector([pool]))``."""

    def __init__(self, pools: list[DatabasePool]) -> None:
        self._pools = pools

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        sizes = GaugeMetricFamily(
            "lab_db_pool_connections", "Connections by state", labels=["pool", "state"]
        )
        utilization = GaugeMetricFamily("lab_db_pool_utilization", "In use / max", labels=["pool"])
        events = CounterMetricFamily(
            "lab_db_pool_events", "Acquisitions, timeouts, lost", labels=["pool", "event"]
        )
        wait = HistogramMetricFamily(
            "lab_db_pool_acquire_seconds", "Time to get a connection", labels=["pool"]
        )
        for pool in self._pools:
            for state, value in pool.sizes().items():
                sizes.add_metric([pool.name, state], value)
            utilization.add_metric([pool.name], pool.utilization)
            stats = pool.stats
            for event in ("acquisitions", "timeouts", "connections_lost"):
                events.add_metric([pool.name, event], getattr(stats, event))
            wait.add_metric(
                [pool.name], stats.acquire_wait.cumulative(), stats.acquire_wait.total_s
            )
        yield from (sizes, utilization, events, wait)
