"""@cached against real Redis, a real three-master Redis Cluster, and a Redis that is
stopped, frozen and started again mid-test."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from lab.config import endpoints
from lab.harness.services.redis_cluster import scratch_cluster
from lab.harness.services.redis_scratch import ScratchRedis
from lab.patterns.caching import CacheBackendError, RedisCache, TieredCache, cached


@pytest.fixture(scope="module")
def cluster_nodes(tmp_path_factory: pytest.TempPathFactory, redis_up: None) -> Iterator[list[str]]:
    with scratch_cluster(tmp_path_factory.mktemp("cluster"), first_port=7101) as nodes:
        yield nodes


#: Behaviour tests on a loaded CI machine: slow answers, and slow connects, must not turn
#: into fail-open calls (fail-open has tests of its own below). With the 0.5 s connect
#: timeout, 1000 callers opening 64 connections at once on a slow machine marked Redis
#: down 16 times and made 4 origin calls (a fresh-clone make test at 46959fc).
PATIENT: dict[str, float] = {"op_timeout_s": 5.0, "connect_timeout_s": 5.0,
                             "pool_timeout_s": 30.0}  # fmt: skip


@pytest.fixture(params=["redis", "cluster"])
async def cache(request: pytest.FixtureRequest, redis_up: None) -> AsyncIterator[RedisCache]:
    if request.param == "cluster":
        # The default 64 connections: a thousand callers queue for them. A connection per
        # caller would run into a CI machine's 1024 open files, and redis-py's cluster client
        # leaks the nodes it rebuilds after such an error.
        store = RedisCache(cluster_nodes=request.getfixturevalue("cluster_nodes"), **PATIENT)
    else:
        store = RedisCache(endpoints().redis_url, **PATIENT)
    yield store
    await store.close()


def _namespace(request: pytest.FixtureRequest) -> str:
    return f"test-{os.getpid()}-{request.node.name}"


@pytest.mark.parametrize("falsy", [None, 0, "", [], {}, False])
async def test_falsy_values_round_trip(
    cache: RedisCache, falsy: Any, request: pytest.FixtureRequest
) -> None:
    calls = 0

    @cached(cache, ttl=30, namespace=_namespace(request))
    async def lookup(x: int) -> Any:
        nonlocal calls
        calls += 1
        return falsy

    await lookup.invalidate(1)
    assert [await lookup(1) for _ in range(3)] == [falsy] * 3
    assert calls == 1


@pytest.mark.parametrize("stampede", ["single-flight", "lock", "early-refresh"])
async def test_1000_concurrent_misses_make_one_origin_call(
    cache: RedisCache, stampede: Any, request: pytest.FixtureRequest
) -> None:
    calls = 0

    @cached(cache, ttl=30, stampede=stampede, namespace=_namespace(request))
    async def hot(x: int) -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"x": x}

    await hot.invalidate(1)
    assert await asyncio.gather(*(hot(1) for _ in range(1000))) == [{"x": 1}] * 1000
    # the counters say which path made an extra call (fail-open ones count errors)
    assert calls == 1, (hot.stats.counters(), f"outages={cache.outages}")


async def test_the_lock_admits_one_process_among_several(
    request: pytest.FixtureRequest, redis_up: None
) -> None:
    """Four clients, each with its own connection pool, stand in for four processes."""
    calls = 0
    stores = [RedisCache(endpoints().redis_url, **PATIENT) for _ in range(4)]

    async def origin(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return x

    functions = [cached(s, ttl=30, stampede="lock", namespace=_namespace(request))(origin)
                 for s in stores]  # fmt: skip
    await functions[0].invalidate(9)
    try:
        results = await asyncio.gather(*(f(9) for f in functions for _ in range(250)))
    finally:
        for store in stores:
            await store.close()
    assert results == [9] * 1000 and calls == 1


async def test_lock_is_released_only_by_its_owner(
    cache: RedisCache, request: pytest.FixtureRequest
) -> None:
    key = _namespace(request) + ":lock"
    await cache.delete(key)
    assert await cache.add(key, b"owner", 5) is True
    assert await cache.add(key, b"thief", 5) is False
    assert await cache.delete_if_equal(key, b"thief") is False
    assert await cache.get(key) == b"owner"
    assert await cache.delete_if_equal(key, b"owner") is True
    assert await cache.get(key) is None


async def test_invalidation_by_arguments_and_tag(
    cache: RedisCache, request: pytest.FixtureRequest
) -> None:
    calls = 0
    tag = _namespace(request)

    @cached(cache, ttl=30, namespace=tag, tags=lambda user_id: [f"{tag}:user:{user_id}"])
    async def profile(user_id: int) -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"id": user_id}

    for user in range(20):
        await profile.invalidate(user)
        await profile(user)
    assert calls == 20
    assert await profile.invalidate(3) is True
    assert await cache.invalidate_tags(*(f"{tag}:user:{u}" for u in range(10))) == 9
    for user in range(20):
        await profile(user)
    assert calls == 30


def _command_calls(client: redis.Redis, command: str) -> int:
    stats = client.info("commandstats").get(f"cmdstat_{command}", {})
    return int(stats.get("calls", 0))


async def test_coalescing_sends_one_mget_per_tick(
    request: pytest.FixtureRequest, redis_up: None
) -> None:
    url = endpoints().redis_url
    store = RedisCache(url, coalesce=True)
    probe = redis.Redis.from_url(url)

    @cached(store, ttl=30, namespace=_namespace(request))
    async def item(x: int) -> int:
        return x

    try:
        for x in range(50):
            await item(x)  # one key per call: warm every key
        gets, mgets = _command_calls(probe, "get"), _command_calls(probe, "mget")
        assert await asyncio.gather(*(item(x % 50) for x in range(500))) == [
            x % 50 for x in range(500)
        ]
        assert _command_calls(probe, "mget") - mgets == 1  # 500 lookups, one tick, one MGET
        assert _command_calls(probe, "get") - gets == 0
        assert item.stats.hits == 500
    finally:
        probe.close()
        await store.close()


async def test_coalescing_on_a_cluster_groups_keys_by_slot(
    cluster_nodes: list[str], request: pytest.FixtureRequest
) -> None:
    # Patient: 200 connections opened at once on a slow machine outlast the default 0.5 s
    # connect timeout, and a lookup failed open is an origin call (101 hits of 300 once).
    store = RedisCache(cluster_nodes=cluster_nodes, coalesce=True, max_connections=200,
                       **PATIENT)  # fmt: skip

    @cached(store, ttl=30, namespace=_namespace(request))
    async def item(x: int) -> int:
        return x

    try:
        await asyncio.gather(*(item.invalidate(x) for x in range(300)))
        await asyncio.gather(*(item(x) for x in range(300)))
        assert await asyncio.gather(*(item(x) for x in range(300))) == list(range(300))
        assert (item.stats.hits, item.stats.origin_calls) == (300, 300), (
            f"errors: {item.stats.errors}, outages: {store.outages}"
        )
    finally:
        await store.close()


async def test_a_node_dropped_mid_command_has_its_connection_closed_with_the_store(
    cluster_nodes: list[str],
) -> None:
    # A master killed while a command was on one of its connections: redis-py drops the
    # node from its topology and closes its idle connections, not that one.
    store = RedisCache(cluster_nodes=cluster_nodes, **PATIENT)
    try:
        await store.set("dropped-node-probe", b"1", 30)
        manager = store._client.nodes_manager
        name, node = next(iter(manager.nodes_cache.items()))
        in_use = node.acquire_connection()
        await in_use.connect()
        rest = {n: other for n, other in manager.nodes_cache.items() if n != name}
        manager.set_nodes(manager.nodes_cache, rest, remove_old=True)
        assert name not in manager.nodes_cache and in_use.is_connected
    finally:
        await store.close()
    assert not in_use.is_connected


async def test_tiered_front_tier_answers_without_redis(
    request: pytest.FixtureRequest, redis_up: None
) -> None:
    back = RedisCache(endpoints().redis_url)
    tiered = TieredCache(back, front_ttl_s=30)
    probe = redis.Redis.from_url(endpoints().redis_url)

    @cached(tiered, ttl=30, namespace=_namespace(request))
    async def item(x: int) -> int:
        return x

    try:
        await item.invalidate(1)
        await item(1)
        gets = _command_calls(probe, "get")
        assert [await item(1) for _ in range(100)] == [1] * 100
        assert _command_calls(probe, "get") == gets
        await item.invalidate(1)
        assert tiered.front.get_sync(item.key_for(1)) is None
        assert await back.get(item.key_for(1)) is None
    finally:
        probe.close()
        await tiered.close()


def test_sync_function_over_redis(request: pytest.FixtureRequest, redis_up: None) -> None:
    store = RedisCache(endpoints().redis_url)
    calls = 0

    @cached(store, ttl=30, namespace=_namespace(request))
    def square(x: int) -> int:
        nonlocal calls
        calls += 1
        return x * x

    square.invalidate_sync(4)
    assert [square(4) for _ in range(5)] == [16] * 5
    assert calls == 1
    asyncio.run(store.close())


# --- outages ----------------------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path, redis_up: None) -> Iterator[ScratchRedis]:
    server = ScratchRedis(7201, tmp_path)
    server.start()
    yield server
    server.stop()


def _client_connections(scratch: ScratchRedis) -> int:
    """Connections the scratch server holds, its own probe's left out."""
    probe = redis.Redis.from_url(scratch.url)
    try:
        return len(probe.client_list()) - 1
    finally:
        probe.close()


async def test_callers_beyond_max_connections_wait_their_turn(scratch: ScratchRedis) -> None:
    """200 callers while the server is frozen: 2 commands go out on 2 connections, the
    rest wait for a slot (no 'too many connections'), and all are answered after."""
    store = RedisCache(scratch.url, max_connections=2, pool_timeout_s=5, op_timeout_s=5)
    try:
        scratch.freeze()
        calls = [asyncio.create_task(store.get(f"absent-{i}")) for i in range(200)]
        await asyncio.sleep(0.2)
        assert store._in_flight == 2 and not any(call.done() for call in calls)
        scratch.thaw()
        assert await asyncio.gather(*calls) == [None] * 200
        assert _client_connections(scratch) == 2
        assert store._in_flight == 0 and not store._slot_waiters
    finally:
        scratch.thaw()
        await store.close()


async def test_pool_timeout_is_an_error_not_an_outage(scratch: ScratchRedis) -> None:
    store = RedisCache(scratch.url, max_connections=1, pool_timeout_s=0.05, op_timeout_s=5)
    try:
        await store.get("warm")  # the one connection is open
        scratch.freeze()
        first = asyncio.create_task(store.get("a"))
        await asyncio.sleep(0.05)
        with pytest.raises(CacheBackendError, match="no connection free"):
            await store.get("b")
        scratch.thaw()
        assert await first is None and store.outages == 0
    finally:
        scratch.thaw()
        await store.close()


async def test_fail_open_while_redis_is_down_and_recovery(scratch: ScratchRedis) -> None:
    store = RedisCache(scratch.url, retry_after_s=0.2, op_timeout_s=0.2)
    calls = 0

    @cached(store, ttl=30)
    async def item(x: int) -> int:
        nonlocal calls
        calls += 1
        return x

    try:
        assert await item(1) == 1 and await item(1) == 1 and calls == 1
        scratch.stop()
        assert [await item(1) for _ in range(20)] == [1] * 20  # no exception reaches us
        assert calls == 21 and item.stats.errors == 20
        assert store.outages >= 1
        scratch.start()
        await asyncio.sleep(0.3)  # past retry_after_s: the next call reconnects
        await item(1)
        before = calls
        assert [await item(1) for _ in range(5)] == [1] * 5
        assert calls == before and item.stats.hits >= 5
    finally:
        await store.close()


async def test_fail_open_while_redis_is_frozen(scratch: ScratchRedis) -> None:
    """SIGSTOP: connections stay open but nothing answers; the op timeout bounds the wait."""
    store = RedisCache(scratch.url, op_timeout_s=0.1, retry_after_s=5.0)
    calls = 0

    @cached(store, ttl=30)
    async def item(x: int) -> int:
        nonlocal calls
        calls += 1
        # Longer than the spread of the 50 callers' timeouts: on a slow machine they spread
        # past a 10 ms origin call, and a caller failing open after it ended made a second.
        await asyncio.sleep(0.5)
        return x

    pid = scratch.process.pid()
    assert pid is not None
    try:
        await item(2)
        os.kill(pid, signal.SIGSTOP)
        try:
            assert (
                await asyncio.wait_for(asyncio.gather(*(item(2) for _ in range(50))), 5) == [2] * 50
            )
        finally:
            os.kill(pid, signal.SIGCONT)
        assert item.stats.errors == 50 and store.outages >= 1
        assert calls == 2  # the 50 concurrent callers shared one origin call
    finally:
        await store.close()
