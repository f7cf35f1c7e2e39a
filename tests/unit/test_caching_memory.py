"""MemoryCache and @cached over it, in virtual time: TTL, LRU, misses told from None,
stampede modes, jitter, early refresh, invalidation, serializers, stats."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from lab.errors import ConfigError
from lab.patterns.caching import (
    CacheCollector,
    MemoryCache,
    MsgpackSerializer,
    OrjsonSerializer,
    PickleSerializer,
    cached,
    serializer_named,
)
from lab.patterns.caching.serializers import pack_entry, unpack_entry


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_ttl_and_lru_bound(clock: Clock) -> None:
    cache = MemoryCache(2, clock=clock)
    cache.set_sync("a", b"1", 10)
    cache.set_sync("b", b"2", 20)
    assert cache.get_sync("a") == b"1"  # a is now the most recently used
    cache.set_sync("c", b"3", 20)
    assert cache.get_sync("b") is None and cache.evictions == 1
    clock.now += 10
    assert cache.get_sync("a") is None and cache.get_sync("c") == b"3"


@pytest.mark.parametrize("falsy", [None, 0, "", [], {}, False])
async def test_falsy_values_are_hits(falsy: Any, clock: Clock) -> None:
    calls = 0

    @cached(MemoryCache(clock=clock), ttl=60, clock=clock)
    async def lookup(x: int) -> Any:
        nonlocal calls
        calls += 1
        return falsy

    assert [await lookup(1) for _ in range(3)] == [falsy] * 3
    assert calls == 1
    assert (lookup.stats.hits, lookup.stats.misses) == (2, 1)


async def test_cache_none_off_and_negative_ttl(clock: Clock) -> None:
    calls = 0
    cache = MemoryCache(clock=clock)

    async def origin(x: int) -> int | None:
        nonlocal calls
        calls += 1
        return None if x < 0 else x

    uncached_none = cached(cache, ttl=60, cache_none=False, clock=clock, namespace="a")(origin)
    await uncached_none(-1)
    await uncached_none(-1)
    assert calls == 2
    short = cached(cache, ttl=60, negative_ttl_s=5, ttl_jitter=0, clock=clock,
                   namespace="b")(origin)  # fmt: skip
    await short(-1), await short(2)
    clock.now += 6  # the clock moves for the store too: the None has expired, the 2 has not
    await short(-1), await short(2)
    assert calls == 2 + 3


async def test_ttl_jitter_spreads_expiries(clock: Clock) -> None:
    cache = MemoryCache(clock=clock)

    @cached(cache, ttl=100, ttl_jitter=0.2, clock=clock, rng=random.Random(1))
    async def item(x: int) -> int:
        return x

    for x in range(200):
        await item(x)
    expiries = [unpack_entry(cache.get_sync(item.key_for(x)) or b"")[0] for x in range(200)]
    ttls = [e - clock.now for e in expiries]
    assert min(ttls) >= 80 and max(ttls) <= 100
    assert len({round(t) for t in ttls}) > 10


@pytest.mark.parametrize(
    ("stampede", "expected"),
    [("none", 100), ("single-flight", 1), ("lock", 1), ("early-refresh", 1)],
)
async def test_concurrent_misses(stampede: Any, expected: int) -> None:
    calls = 0

    @cached(MemoryCache(), ttl=60, stampede=stampede)
    async def slow(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return x * 2

    assert await asyncio.gather(*(slow(21) for _ in range(100))) == [42] * 100
    assert calls == expected
    assert slow.stats.origin_calls == expected


async def test_origin_error_reaches_every_waiter_and_is_not_cached() -> None:
    calls = 0

    @cached(MemoryCache(), ttl=60)
    async def failing(x: int) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise KeyError(x)

    outcomes = await asyncio.gather(*(failing(1) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(o, KeyError) for o in outcomes) and calls == 1
    with pytest.raises(KeyError):
        await failing(1)
    assert calls == 2


async def test_cancelled_first_caller_does_not_cancel_the_others() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    calls = 0

    @cached(MemoryCache(), ttl=60)
    async def slow(x: int) -> int:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        return x

    first = asyncio.create_task(slow(5))
    await started.wait()  # the first caller's flight is running
    second = asyncio.create_task(slow(5))
    await asyncio.sleep(0)  # the second caller joins that flight
    first.cancel()
    release.set()
    assert await second == 5 and calls == 1
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_early_refresh_recomputes_before_expiry_and_serves_the_old_value(
    clock: Clock,
) -> None:
    version = 0

    @cached(MemoryCache(clock=clock), ttl=10, ttl_jitter=0, stampede="early-refresh",
            early_beta=1.0, clock=clock, rng=random.Random(7))  # fmt: skip
    async def config(name: str) -> int:
        nonlocal version
        clock.now += 0.5  # computing takes 0.5 s of virtual time: delta = 0.5
        version += 1
        return version

    assert await config("x") == 1  # stored at t=1000.5, expires at 1010.5
    clock.now = 1001.0  # 19 deltas before expiry: P(refresh) = exp(-19) per hit
    for _ in range(50):
        assert await config("x") == 1
    assert config.stats.early_refreshes == 0
    clock.now = 1010.45  # 0.1 delta before expiry: P(refresh) = exp(-0.1) = 0.9 per hit
    served = [await config("x") for _ in range(100)]
    assert served[0] == 1  # the stale value is served while the refresh runs
    await asyncio.sleep(0)
    assert config.stats.early_refreshes >= 1 and version == 2
    assert config.stats.origin_calls == 2


async def test_invalidation_by_key_arguments_and_tag() -> None:
    cache = MemoryCache()
    calls = 0

    @cached(cache, ttl=60, tags=lambda user_id: [f"user:{user_id}"])
    async def profile(user_id: int) -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"id": user_id}

    await profile(1), await profile(2)
    assert await profile.invalidate(1) is True
    assert await profile.invalidate(1) is False
    await profile(1)
    assert calls == 3
    assert await cache.delete(profile.key_for(2)) == 1
    await profile(2)
    assert calls == 4
    assert await cache.invalidate_tags("user:1", "user:2") == 2
    await profile(1), await profile(2)
    assert calls == 6


async def test_version_bump_starts_afresh() -> None:
    cache = MemoryCache()

    async def origin(x: int) -> int:
        return x

    v1 = cached(cache, ttl=60, version=1)(origin)
    v2 = cached(cache, ttl=60, version=2)(origin)
    await v1(1)
    await v2(1)
    assert (v1.stats.misses, v2.stats.misses) == (1, 1)
    assert v1.key_for(1) != v2.key_for(1)


def test_sync_functions_single_flight_across_threads() -> None:
    import threading
    import time

    calls = 0

    @cached(MemoryCache(), ttl=60)
    def slow(x: int) -> int:
        nonlocal calls
        calls += 1
        time.sleep(0.02)
        return x

    threads = [threading.Thread(target=slow, args=(3,)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == 1 and slow(3) == 3 and slow.invalidate_sync(3)


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ConfigError, match="needs an async function"):
        cached(MemoryCache(), stampede="lock")(lambda x: x)
    with pytest.raises(ConfigError, match="stampede"):
        cached(MemoryCache(), stampede="maybe")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        cached(MemoryCache(), ttl=0)
    with pytest.raises(ConfigError, match="serializer"):
        serializer_named("yaml")


@pytest.mark.parametrize("serializer", [OrjsonSerializer(), MsgpackSerializer(),
                                        PickleSerializer()])  # fmt: skip
def test_serializers_round_trip(serializer: Any) -> None:
    value = {"id": 7, "name": "Ada", "tags": ["a", "b"], "score": 0.5, "none": None}
    data = pack_entry(serializer.dumps(value), 123.5, 0.25)
    expires_at, compute_s, payload = unpack_entry(data)
    assert (expires_at, compute_s, serializer.loads(payload)) == (123.5, 0.25, value)
    with pytest.raises(ValueError, match="not a lab cache entry"):
        unpack_entry(b"plain text")


async def test_foreign_entry_is_a_miss_and_an_error() -> None:
    cache = MemoryCache()

    @cached(cache, ttl=60)
    async def f(x: int) -> int:
        return x

    cache.set_sync(f.key_for(1), b"written by someone else", 60)
    assert await f(1) == 1
    assert (f.stats.misses, f.stats.errors, f.stats.hits) == (1, 1, 0)


async def test_stats_export_to_prometheus() -> None:
    @cached(MemoryCache(), ttl=60, name="profile")
    async def f(x: int) -> int:
        return x

    await f(1), await f(1), await f(2)
    registry = CollectorRegistry()
    registry.register(CacheCollector([f.stats]))
    text = generate_latest(registry).decode()
    assert 'lab_cache_lookups_total{cache="profile",result="hit"} 1.0' in text
    assert 'lab_cache_lookups_total{cache="profile",result="miss"} 2.0' in text
    assert 'lab_cache_events_total{cache="profile",event="origin_calls"} 2.0' in text
    assert 'lab_cache_lookup_seconds_count{cache="profile",result="miss"} 2.0' in text


class StaleFirstReads(MemoryCache):
    """Its first ``stale`` reads answer a miss: callers whose GET left before the leader's
    SET landed (a slow Redis round trip, in a unit test)."""

    def __init__(self, stale: int) -> None:
        super().__init__()
        self.stale = stale

    in_process = False  # every read goes through get(), as with Redis

    async def get(self, key: str) -> bytes | None:
        if self.stale:
            self.stale -= 1
            return None
        return await super().get(key)


async def test_a_caller_that_missed_before_the_flight_stored_makes_no_second_call() -> None:
    calls = 0
    store = StaleFirstReads(stale=3)  # the leader's read and re-read, the late caller's read

    @cached(store, ttl=60, stampede="single-flight")
    async def slow(x: int) -> int:
        nonlocal calls
        calls += 1
        return x

    assert await slow(1) == 1  # the leader: a miss, one call, the value stored
    assert await slow(1) == 1  # missed on a stale read after that flight was gone
    assert calls == 1
