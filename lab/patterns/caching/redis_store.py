"""``RedisCache``: Redis (or a Redis Cluster) behind the cache interface, failing fast.

* At most ``max_connections`` commands are in flight; a caller waits up to
  ``pool_timeout_s`` for a free slot (a counter in front of redis-py's plain pool: its
  blocking pool costs 12-25 % of a GET's throughput here, asyncio's semaphore about 5 %).
* Every operation has a timeout (``op_timeout_s``); redis-py's own retries are off, so a
  dead or frozen Redis costs a caller at most one timeout, and after a connection error or
  a timeout the store answers "down" at once for ``retry_after_s`` before trying again
  (redis-py reconnects by itself on that next try). On a cluster, "down" is marked per
  node: while a master fails over, the keys of the other masters are still served (the
  caching experiment's failover part measures it). The sync interface marks the store.
* ``coalesce=True`` sends the GETs issued in one event-loop tick as one ``MGET`` (on a
  cluster, one batch per node, split by slot by redis-py): redis-py spends its time per
  command, so batching is where the throughput is.
* ``connect_timeout_s`` times the caller's own event loop too: 1,000 callers opening 64
  connections at once on a saturated 2-core machine outlasted 0.5 s, and the store marked
  Redis down 16 times (the caching tests' counters). The default stays short, as a fail-fast
  cache wants against a host that drops packets; an application that opens its pool under
  a burst raises it (the caching experiment's stampede part waits 5 s).
* Locks are ``SET NX PX`` with a random token, released by a script that deletes the key
  only while it still holds that token.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.backoff import NoBackoff

from lab.patterns.caching.backend import CacheBackendError

__all__ = ["RedisCache"]

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
#: A write on a connection the peer has closed raises AttributeError or TypeError from
#: asyncio's transport, or RuntimeError from uvloop's, not ConnectionError
#: (redis/redis-py#4287). The caching experiment's failover part met two of them as caller
#: exceptions: "'NoneType' object has no attribute 'writelines'" and "unable to perform
#: operation on <TCPTransport closed=True ...>; the handler is closed".
_CLOSED_TRANSPORT = (AttributeError, TypeError, RuntimeError)
#: Whatever the client raises is the cache's failure, never the caller's: fail-open.
_FAILURES = (Exception,)
#: After these, Redis is treated as down for ``retry_after_s``.
_OUTAGES = (redis.ConnectionError, redis.TimeoutError, OSError, asyncio.TimeoutError,
            *_CLOSED_TRANSPORT)  # fmt: skip
_TAG_PREFIX = "lab:tag:"


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _kept_in(opened: weakref.WeakSet[Any]) -> type[redis.asyncio.Connection]:
    """A connection class whose every instance is kept in ``opened``."""

    class TrackedConnection(redis.asyncio.Connection):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            opened.add(self)

    return TrackedConnection


class RedisCache:
    """``RedisCache(url)`` for one server, ``RedisCache(cluster_nodes=["h:p", ...])`` for a
    cluster. Values are bytes; ``cached`` does the serializing."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        cluster_nodes: Sequence[str] | None = None,
        name: str = "redis",
        op_timeout_s: float = 0.25,
        connect_timeout_s: float = 0.5,
        retry_after_s: float = 1.0,
        max_connections: int = 64,
        pool_timeout_s: float = 2.0,
        coalesce: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.coalesce = coalesce
        self.retry_after_s = retry_after_s
        self.where = ",".join(cluster_nodes) if cluster_nodes else url
        self._clock = clock
        self._down_until = 0.0
        self._node_down_until: dict[str, float] = {}  # a cluster's nodes marked down
        self._options: dict[str, Any] = {
            "socket_timeout": op_timeout_s,
            "socket_connect_timeout": connect_timeout_s,
            "max_connections": max_connections,
        }
        self._url = url
        self._pool_timeout_s = pool_timeout_s
        self._nodes = [_node(spec) for spec in cluster_nodes] if cluster_nodes else None
        #: A cluster client's connections, closed with it (see ``_async_client``).
        self._cluster_connections: weakref.WeakSet[Any] = weakref.WeakSet()
        self._client: Any = self._async_client()
        self._sync: Any = None
        #: GETs waiting for this tick's MGET: key, its waiter, the nodes serving it.
        self._pending: list[tuple[str, asyncio.Future[bytes | None], tuple[str, ...]]] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._max_in_flight = max_connections
        self._in_flight = 0
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self.outages = 0  # times Redis was marked down

    @property
    def is_cluster(self) -> bool:
        return self._nodes is not None

    def _async_client(self) -> Any:
        if self._nodes is not None:
            client = redis.asyncio.cluster.RedisCluster(
                startup_nodes=[redis.asyncio.cluster.ClusterNode(h, p) for h, p in self._nodes],
                retry=redis.asyncio.retry.Retry(NoBackoff(), 0),
                **self._options,
            )
            # The nodes found from here on open tracked connections. redis-py (8.1) closes
            # only the idle connections of a node that leaves the topology (a killed
            # master); one in use as it left was never closed, and its socket was reported
            # unclosed when collected, in whatever ran then (a test's failure, once).
            client.connection_kwargs["connection_class"] = _kept_in(self._cluster_connections)
            return client
        return redis.asyncio.Redis.from_url(
            self._url, retry=redis.asyncio.retry.Retry(NoBackoff(), 0), **self._options
        )

    def _sync_client(self) -> Any:
        if self._sync is None:
            if self._nodes is not None:
                node = redis.cluster.ClusterNode
                self._sync = redis.cluster.RedisCluster(
                    startup_nodes=[node(h, p) for h, p in self._nodes],  # type: ignore[no-untyped-call]
                    retry=redis.retry.Retry(NoBackoff(), 0),
                    **self._options,
                )
            else:
                pool = redis.BlockingConnectionPool.from_url(
                    self._url,
                    retry=redis.retry.Retry(NoBackoff(), 0),
                    timeout=self._pool_timeout_s,
                    **self._options,
                )
                self._sync = redis.Redis.from_pool(pool)
        return self._sync

    # --- failing fast ------------------------------------------------------------------

    def _nodes_of(self, keys: Sequence[str]) -> tuple[str, ...]:
        """The cluster nodes serving ``keys``, as the client last saw the slots: () on one
        server, or before the client has read the cluster's slots."""
        if self._nodes is None:
            return ()
        names = set()
        for key in keys:
            try:
                node = self._client.get_node_from_key(key)
            except (redis.RedisError, redis.exceptions.RedisClusterException):  # slots unread
                return ()
            if node is not None:
                names.add(node.name)
        return tuple(names)

    def _check_up(self, nodes: tuple[str, ...] = ()) -> None:
        """Fail fast while the store, or a node serving the keys, is marked down."""
        now = self._clock()
        if self._down_until > now:
            raise _marked_down(self.where, self._down_until - now)
        if self._node_down_until:  # a hit on a healthy store pays for none of this
            for node in nodes:
                until = self._node_down_until.get(node, 0.0)
                if until > now:
                    raise _marked_down(node, until - now)

    def _failed(self, error: BaseException, nodes: tuple[str, ...] = ()) -> CacheBackendError:
        if isinstance(error, _OUTAGES):
            until = self._clock() + self.retry_after_s
            if nodes:
                self._node_down_until.update(dict.fromkeys(nodes, until))
            else:
                self._down_until = until
            self.outages += 1
        detail = str(error) or type(error).__name__
        return CacheBackendError(f"redis at {self.where}: {detail}")

    async def _run(
        self,
        method: Callable[..., Awaitable[Any]],
        *args: Any,
        nodes: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> Any:
        """``method(*args)`` on a free connection slot, its failures as CacheBackendError
        (an outage marks ``nodes`` down, or the whole store when they are not known)."""
        if self._in_flight >= self._max_in_flight:
            await self._wait_for_slot()
        self._in_flight += 1
        try:
            return await method(*args, **kwargs)
        except _FAILURES as error:
            raise self._failed(error, nodes) from error
        finally:
            self._in_flight -= 1
            if self._slot_waiters:
                self._wake_one()

    async def _wait_for_slot(self) -> None:
        """Queue until a slot is free; at most ``pool_timeout_s``. A plain counter and a
        queue of futures: an uncontended call pays no coroutine for a semaphore."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._pool_timeout_s
        while self._in_flight >= self._max_in_flight:
            waiter: asyncio.Future[None] = loop.create_future()
            self._slot_waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except TimeoutError:
                if self._in_flight < self._max_in_flight:
                    self._wake_one()  # a wake-up meant for us must not be lost
                raise CacheBackendError(  # overload, not an outage: Redis is not marked down
                    f"redis at {self.where}: no connection free within {self._pool_timeout_s} s"
                ) from None
            finally:
                if waiter in self._slot_waiters:
                    self._slot_waiters.remove(waiter)

    def _wake_one(self) -> None:
        while self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    # --- async interface -----------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        nodes = self._nodes_of((key,)) if self._nodes is not None else ()
        self._check_up(nodes)
        if self.coalesce:
            return await self._get_coalesced(key, nodes)
        return await self._run(self._client.get, key, nodes=nodes)  # type: ignore[no-any-return]

    def _get_coalesced(self, key: str, nodes: tuple[str, ...]) -> asyncio.Future[bytes | None]:
        loop = asyncio.get_running_loop()
        found: asyncio.Future[bytes | None] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((key, found, nodes))
        return found

    def _flush(self) -> None:
        """One MGET per node (one in all on a single server): a node that fails fails only
        its own keys."""
        batch, self._pending = self._pending, []
        groups: dict[tuple[str, ...], list[tuple[str, asyncio.Future[bytes | None]]]] = {}
        for key, found, nodes in batch:
            groups.setdefault(nodes, []).append((key, found))
        loop = asyncio.get_running_loop()
        for nodes, group in groups.items():
            task = loop.create_task(self._send(group, nodes))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(
        self, batch: list[tuple[str, asyncio.Future[bytes | None]]], nodes: tuple[str, ...]
    ) -> None:
        keys = list(dict.fromkeys(key for key, _ in batch))
        try:
            values = await self._run(self._mget, keys, nodes=nodes)
        except BaseException as error:  # whatever happens, no waiter is left hanging
            failure = (
                error
                if isinstance(error, CacheBackendError)
                else CacheBackendError(
                    f"redis at {self.where}: batch failed ({type(error).__name__})"
                )
            )
            for _, waiter in batch:
                if not waiter.done():
                    waiter.set_exception(failure)
            if not isinstance(error, Exception):
                raise  # cancellation and exit still propagate
            return
        by_key = dict(zip(keys, values, strict=True))
        for key, waiter in batch:
            if not waiter.done():
                waiter.set_result(by_key[key])

    async def _mget(self, keys: list[str]) -> list[bytes | None]:
        if len(keys) == 1:
            return [await self._client.get(keys[0])]
        if self.is_cluster:
            return await self._client.mget_nonatomic(keys)  # type: ignore[no-any-return]
        return await self._client.mget(keys)  # type: ignore[no-any-return]

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        nodes = self._nodes_of(keys)
        self._check_up(nodes)
        return await self._run(self._mget, list(keys), nodes=nodes)  # type: ignore[no-any-return]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        nodes = self._nodes_of((key,))
        self._check_up(nodes)
        await self._run(self._client.set, key, value, px=_ms(ttl_s), nodes=nodes)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        nodes = self._nodes_of((key,))
        self._check_up(nodes)
        added = await self._run(self._client.set, key, value, px=_ms(ttl_s), nx=True,
                                nodes=nodes)  # fmt: skip
        return bool(added)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        nodes = self._nodes_of(keys)
        self._check_up(nodes)
        return int(await self._run(self._client.delete, *keys, nodes=nodes))

    async def delete_if_equal(self, key: str, value: bytes) -> bool:
        nodes = self._nodes_of((key,))
        self._check_up(nodes)
        return bool(await self._run(self._client.eval, _RELEASE, 1, key, value, nodes=nodes))

    async def tag(self, key: str, tags: Sequence[str], ttl_s: float) -> None:
        self._check_up()
        for tag in tags:  # one pipeline per tag: each tag's set lives in its own slot
            await self._run(self._tag_one, key, tag, ttl_s)

    async def _tag_one(self, key: str, tag: str, ttl_s: float) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            _tag_commands(pipe, key, tag, ttl_s)
            await pipe.execute()

    async def invalidate_tags(self, *tags: str) -> int:
        self._check_up()
        deleted = 0
        for tag in tags:
            members = await self._run(self._client.smembers, _TAG_PREFIX + tag)
            if members:
                deleted += int(await self._run(self._client.delete, *members))
            await self._run(self._client.delete, _TAG_PREFIX + tag)
        return deleted

    async def close(self) -> None:
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        await self._client.aclose()
        left = [c for c in self._cluster_connections if c.is_connected]  # a dropped node's
        await asyncio.gather(*(c.disconnect() for c in left), return_exceptions=True)
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    # --- sync interface ----------------------------------------------------------------

    def get_sync(self, key: str) -> bytes | None:
        self._check_up()
        try:
            return self._sync_client().get(key)  # type: ignore[no-any-return]
        except _FAILURES as error:
            raise self._failed(error) from error

    def set_sync(self, key: str, value: bytes, ttl_s: float) -> None:
        self._check_up()
        try:
            self._sync_client().set(key, value, px=_ms(ttl_s))
        except _FAILURES as error:
            raise self._failed(error) from error

    def delete_sync(self, *keys: str) -> int:
        if not keys:
            return 0
        self._check_up()
        try:
            return int(self._sync_client().delete(*keys))
        except _FAILURES as error:
            raise self._failed(error) from error

    def tag_sync(self, key: str, tags: Sequence[str], ttl_s: float) -> None:
        self._check_up()
        try:
            for tag in tags:
                pipe = self._sync_client().pipeline(transaction=False)
                _tag_commands(pipe, key, tag, ttl_s)
                pipe.execute()
        except _FAILURES as error:
            raise self._failed(error) from error


def _marked_down(where: str, wait_s: float) -> CacheBackendError:
    return CacheBackendError(f"redis at {where} is down; next attempt in {wait_s:.2f} s")


def _tag_commands(pipe: Any, key: str, tag: str, ttl_s: float) -> None:
    """Add ``key`` to the tag's set; the set lives as long as its longest-lived member."""
    tag_key = _TAG_PREFIX + tag
    pipe.sadd(tag_key, key)
    pipe.pexpire(tag_key, _ms(ttl_s), nx=True)
    pipe.pexpire(tag_key, _ms(ttl_s), gt=True)


def _node(spec: str) -> tuple[str, int]:
    host, _, port = spec.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"cluster node {spec!r} is not host:port")
    return host, int(port)
