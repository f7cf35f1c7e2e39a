"""``LeanPool``: the smallest correct pool of asyncpg connections, for ``DatabasePool(...,
engine="lean")``.

asyncpg's own pool shields every release in a task and, with a timeout, runs every
acquire through ``wait_for``; on this 2-core machine that halves the queries per second a
pool of 10 can do. This one hands a released connection straight to the oldest waiter
(FIFO for callers, LIFO for connections, so idle ones age out), opens connections on
demand up to ``max_size``, closes those idle longer than ``max_inactive_s`` beyond
``min_size``, retires a connection after ``max_uses`` leases, and replaces closed ones.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

__all__ = ["LeanPool", "full_reset"]

Reset = Callable[[asyncpg.Connection], Awaitable[None]]


async def full_reset(connection: asyncpg.Connection) -> None:
    """asyncpg's release reset: unlock advisory locks, close cursors, unlisten, RESET ALL."""
    await connection.reset()


class LeanPool:
    def __init__(
        self,
        dsn: str,
        *,
        min_size: int,
        max_size: int,
        max_uses: int,
        max_inactive_s: float,
        reset: Reset | None,
        **connect_kwargs: Any,
    ) -> None:
        self._dsn = dsn
        self._min, self._max = min_size, max_size
        self._max_uses = max_uses
        self._max_inactive_s = max_inactive_s
        self._reset = reset
        self._connect_kwargs = connect_kwargs
        self._idle: deque[tuple[asyncpg.Connection, float]] = deque()  # (conn, idle since)
        self._uses: dict[asyncpg.Connection, int] = {}
        self._waiters: deque[asyncio.Future[asyncpg.Connection]] = deque()
        self._opening = 0
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> LeanPool:
        connections = await asyncio.gather(*(self._connect() for _ in range(self._min)))
        now = time.monotonic()
        self._idle.extend((connection, now) for connection in connections)
        return self

    async def _connect(self) -> asyncpg.Connection:
        self._opening += 1
        try:
            connection = await asyncpg.connect(self._dsn, **self._connect_kwargs)
        finally:
            self._opening -= 1
        self._uses[connection] = 0
        return connection

    def get_size(self) -> int:
        return len(self._uses) + self._opening

    def get_idle_size(self) -> int:
        return len(self._idle)

    async def acquire(self, timeout: float | None = None) -> asyncpg.Connection:
        if self._closed:
            raise asyncpg.InterfaceError("the pool is closed")
        while self._idle:
            connection, _ = self._idle.pop()  # the most recently used: warm, and lets
            if not connection.is_closed():  # the oldest idle ones reach max_inactive_s
                return connection
            self._forget(connection)
        if self.get_size() < self._max:
            return await self._connect()
        waiter: asyncio.Future[asyncpg.Connection] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                await self.release(waiter.result())  # handed over just as we gave up
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def release(self, connection: asyncpg.Connection) -> None:
        uses = self._uses.get(connection, 0) + 1
        self._uses[connection] = uses
        if not connection.is_closed() and uses < self._max_uses:
            in_transaction = connection.is_in_transaction()  # the client's view: no I/O
            if self._reset is None and not in_transaction:  # straight back, no round trip
                self._hand_over(connection)
                return
            try:  # a transaction left open is always ended, whatever the reset
                await (self._reset or full_reset)(connection)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                connection.terminate()
        else:
            await self._retire(connection)
        if connection.is_closed():
            self._forget(connection)
            self._replace_for_waiters()
            return
        self._hand_over(connection)

    def _hand_over(self, connection: asyncpg.Connection) -> None:
        """To the oldest waiting caller, else to the idle stack."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append((connection, time.monotonic()))
        self._trim_idle()

    async def _retire(self, connection: asyncpg.Connection) -> None:
        if not connection.is_closed():
            try:
                await asyncio.wait_for(connection.close(), 5)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError):
                connection.terminate()

    def _forget(self, connection: asyncpg.Connection) -> None:
        self._uses.pop(connection, None)

    def _replace_for_waiters(self) -> None:
        """A connection died while callers wait: open a replacement for them."""
        if any(not waiter.done() for waiter in self._waiters) and self.get_size() < self._max:
            task = asyncio.ensure_future(self._replacement())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _replacement(self) -> None:
        try:
            connection = await self._connect()
        except Exception as error:  # cannot connect: the first waiter hears why
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_exception(error)
                    return
            return
        self._hand_over(connection)

    def _trim_idle(self) -> None:
        now = time.monotonic()
        while (
            len(self._idle) > self._min
            and self._idle
            and now - self._idle[0][1] > self._max_inactive_s
        ):
            connection, _ = self._idle.popleft()
            self._forget(connection)
            connection.terminate()

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the pool is closed"))
        idle = [connection for connection, _ in self._idle]
        self._idle.clear()
        await asyncio.gather(*(self._retire(connection) for connection in idle))
        self._uses.clear()
