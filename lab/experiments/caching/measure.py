"""Caching: hit ratio under skew, origin calls in a stampede, the cost of a hit and a
miss beside redis-py, cashews and aiocache, and what callers see while Redis restarts.

Parts (the ``part`` column of the frame):

``hit_ratio``  an LRU of several sizes under Zipf keys (skew 0.6 to 1.2) and uniform keys,
               with and without a TTL, in virtual time, next to the best ratio any cache of
               that size can reach (the top-k popularity mass);
``stampede``   one hot key on Redis: N callers arrive just before expiry and at it, for
               each stampede mode; origin calls and caller latency per wave (the origin
               and TTL are sized from how long N lookups take here, and the origin does
               not answer before the wave's last caller has looked up, so a wave meets
               one expiry on a slow machine too; a mode whose first wave outlasted its
               lead is run again with twice the span, ``attempts`` and
               ``first_wave_fitted`` say so);
``cost``       hits and misses per second, each variant in the same repeat as a bare
               redis-py GET (+ orjson) and, at concurrency 50, as ``redis-benchmark``;
``outage``     callers at a fixed rate while a scratch Redis is stopped and started again;
``failover``   callers at a fixed rate through the Redis Cluster profile while a master is
               SIGKILLed and its replica promoted (``failover.py``; one "not run" row
               when ``lab services up --redis-cluster`` has not started it).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import redis.asyncio

from lab.config import endpoints
from lab.errors import ServiceUnavailableError
from lab.experiments.caching.failover import failover
from lab.experiments.caching.peers import peers
from lab.experiments.driver import Part, Progress, Row, chosen_settings, drive
from lab.harness import native
from lab.harness.aio import outside_event_loop
from lab.harness.services import probe
from lab.harness.services.redis_scratch import ScratchRedis
from lab.patterns.caching import MemoryCache, RedisCache, TieredCache, cached
from lab.patterns.caching.stats import CacheStats

__all__ = ["SERVICES", "CachingSettings", "quick_settings", "run"]

SERVICES = ("redis",)
Call = Callable[[int], Awaitable[Any]]


@dataclass(frozen=True)
class CachingSettings:
    repeats: int = 3
    keyspace: int = 10_000
    requests: int = 200_000
    skews: tuple[float, ...] = (0.6, 0.8, 1.0, 1.2)
    size_fractions: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2)
    ttl_s: tuple[float, ...] = (float("inf"), 5.0)  # virtual seconds, 1000 requests/s
    callers: tuple[int, ...] = (10, 100, 1000)
    stampede_ttl_s: float = 2.0
    early_beta: float = 5.0  # XFetch's beta: > 1 refreshes earlier, see _stampede
    origin_s: float = 0.05
    hit_ops: int = 5_000
    memory_ops: int = 50_000
    rounds: int = 5  # cost: variants take turns this many times per repeat
    concurrencies: tuple[int, ...] = (1, 50)
    native_requests: int = 100_000
    outage_rate: float = 300.0
    outage_s: tuple[float, float, float] = (1.0, 1.0, 1.5)  # before, down, after restart
    failover_rate: float = 400.0  # calls per second through the cluster
    failover_keys: int = 300
    failover_before_s: float = 2.0
    failover_after_s: float = 3.0  # after the promotion
    failover_give_up_s: float = 20.0  # no promotion within this: the rows say so
    failover_full_coverage: tuple[bool, ...] = (True, False)  # Redis's default first
    parts: tuple[str, ...] = ("hit_ratio", "stampede", "cost", "outage", "failover")

    @classmethod
    def quick(cls) -> CachingSettings:
        return cls(
            repeats=2, keyspace=2_000, requests=40_000, skews=(0.6, 1.0, 1.2),
            size_fractions=(0.01, 0.1), hit_ops=1_500, memory_ops=20_000,
            native_requests=20_000, outage_s=(0.5, 0.7, 0.8), stampede_ttl_s=1.0,
            callers=(10, 1000), failover_rate=200.0, failover_before_s=1.0,
            failover_after_s=1.5,
        )  # fmt: skip


# --- hit ratio: pure LRU simulation in virtual time --------------------------------------


def _popularity(keyspace: int, skew: float | None) -> np.ndarray:
    if skew is None:
        return np.full(keyspace, 1.0 / keyspace)
    weights = 1.0 / np.arange(1, keyspace + 1) ** skew
    return weights / weights.sum()  # type: ignore[no-any-return]


def _hit_ratio(s: CachingSettings, repeat: int) -> list[Row]:
    rows = []
    for skew in (*s.skews, None):
        probabilities = _popularity(s.keyspace, skew)
        draws = np.random.default_rng(repeat).choice(s.keyspace, s.requests, p=probabilities)
        keys = [str(k) for k in draws]
        best_mass = np.cumsum(np.sort(probabilities)[::-1])
        for fraction in s.size_fractions:
            size = max(1, int(s.keyspace * fraction))
            for ttl in s.ttl_s:
                now = [0.0]
                cache = MemoryCache(size, clock=lambda now=now: now[0])  # type: ignore[misc]
                hits, warm = 0, len(keys) // 5  # the first fifth warms the cache
                for i, key in enumerate(keys):
                    now[0] = i / 1000.0
                    if cache.get_sync(key) is not None:
                        hits += i >= warm
                    else:
                        cache.set_sync(key, b"1", ttl)
                rows.append({"part": "hit_ratio", "repeat": repeat,
                             "distribution": "uniform" if skew is None else "zipf",
                             "skew": skew, "size_fraction": fraction, "cache_size": size,
                             "ttl_s": ttl,
                             "hit_ratio": hits / (len(keys) - warm),
                             "best_ratio": float(best_mass[size - 1])})  # fmt: skip
    return rows


# --- stampede: waves of callers around one expiry ----------------------------------------


async def _lookup_span(store: RedisCache, callers: int) -> float:
    """Seconds ``callers`` concurrent hits on one key take here, first to last. A wave
    meets one expiry only if every caller looks the key up within one origin call; a
    slow machine launches callers slowly, so the origin and the TTL are sized from this
    (a fixed 50 ms origin gave 11 to 1000 unprotected calls for 1000 callers, #23). It
    also opens the store's sockets, so the waves do not pay for them."""

    @cached(store, ttl=60.0, namespace=f"stampede-span-{uuid.uuid4().hex}")
    async def warm(x: int) -> int:
        return x

    await warm(1)
    await asyncio.gather(*(warm(1) for _ in range(callers)))
    began = time.perf_counter()
    await asyncio.gather(*(warm(1) for _ in range(callers)))
    return time.perf_counter() - began


async def _stampede(s: CachingSettings, repeat: int, url: str) -> list[Row]:
    """Per caller count: the lookup span sizes the wave (origin at least 3 spans and until
    the wave's last caller has looked up, first wave starting at least 3 spans before
    expiry); per mode: one write, a wave of hits before expiry (where early refresh
    acts), a wave at expiry. XFetch's delta is the first write's 50 ms, so its lead
    (beta 5: 0.25 s on average) does not grow with the origin; a refresh takes the longer
    origin, so early refresh may refresh once per wave."""
    rows: list[Row] = []
    for callers in s.callers:
        # Patient: a reply read (or a connect) late on a loaded machine must not fail open
        # into an origin call of its own (single-flight made 2 calls in a wave with the
        # 0.25 s default, a fresh-clone make test at 9cf6820); this part counts
        # stampedes, not timeouts.
        store = RedisCache(url, max_connections=64, op_timeout_s=5.0, connect_timeout_s=5.0,
                           pool_timeout_s=10.0)  # fmt: skip
        try:
            span = await _lookup_span(store, callers)
            for mode in ("none", "single-flight", "lock", "early-refresh"):
                rows += await _fitted_waves(s, repeat, store, mode, callers, span)
        finally:
            await store.close()
    return rows


#: Times a mode's waves are run when the wave meant for before expiry outlasted it.
WAVE_ATTEMPTS = 3


async def _fitted_waves(
    s: CachingSettings, repeat: int, store: RedisCache, mode: str, callers: int, span: float
) -> list[Row]:
    """The mode's waves, run again (up to ``WAVE_ATTEMPTS`` in all) until the first one
    fitted before expiry, each attempt sized from twice the last one's span: one span
    measured in a quick moment sized a lead the waves never fitted in (97 ms for 1,000
    callers; single-flight's and lock's first waves met the expiry in all three
    attempts, an `alone` test run at 961c767). The rows say how many attempts it took,
    whether it fitted, and the span it was sized from."""
    made: list[Row] = []
    fitted, attempt = False, 0
    while not fitted and attempt < WAVE_ATTEMPTS:
        attempt += 1
        made, fitted = await _waves(s, repeat, store, mode, callers, span * 2 ** (attempt - 1))
    return [{**row, "attempts": attempt, "first_wave_fitted": fitted} for row in made]


async def _waves(
    s: CachingSettings, repeat: int, store: RedisCache, mode: str, callers: int, span: float
) -> tuple[list[Row], bool]:
    """The mode's two waves, and whether the first one's last lookup came before expiry.
    A stall on a loaded machine can stretch that wave past its 3-span lead (the lock
    mode's made an origin call before expiry, a make test at 9cf6820): its counts then
    belong to neither wave, so the caller runs the mode again."""
    origin_s = max(s.origin_s, 3 * span)
    # 3 spans: a wave of 1,000 hits took 0.7 to 1.7 measured spans on a quiet machine
    # (145-367 ms against 207, 14:15 on 2026-12-01), so a 2-span lead was often outlasted
    # on a busier one, and each attempt after it is twice as long
    lead_s = max(0.2 * s.stampede_ttl_s, 3 * span)
    ttl_s = max(s.stampede_ttl_s, 2 * lead_s)
    latency = [s.origin_s]  # the first write's, then the waves'
    gate = _WaveGate()

    @cached(store, ttl=ttl_s, ttl_jitter=0.0, stampede=mode,  # type: ignore[arg-type]
            namespace=f"stampede-{uuid.uuid4().hex}", rng=random.Random(repeat),
            early_beta=s.early_beta)  # fmt: skip
    async def hot(x: int) -> dict[str, int]:
        await asyncio.sleep(latency[0])
        await gate.passed(timeout_s=10 * origin_s)
        return {"x": x}

    earliest_expiry = time.monotonic() + ttl_s  # the write lands after this call starts
    await hot(1)
    written, written_calls = time.monotonic(), hot.stats.origin_calls
    fitted = True
    latency[0] = origin_s
    rows: list[Row] = []
    for wave, at in (("before expiry", ttl_s - lead_s), ("after expiry", ttl_s)):
        await asyncio.sleep(max(0.0, written + at - time.monotonic()))
        if wave == "after expiry" and hot.stats.origin_calls == written_calls:
            # still the first write (no refresh, no miss in the first wave): meet its expiry
            await _until_expired(store, hot.key_for(1))
        before = hot.stats.origin_calls
        async with gate.until(hot.stats, callers):
            waits = await asyncio.gather(*(_timed(hot) for _ in range(callers)))
        if wave == "before expiry":
            fitted = gate.looked_up_at < earliest_expiry
        await asyncio.sleep(origin_s * 1.5)  # let a background refresh land
        waits_ms = np.array(waits) * 1000
        rows.append({"part": "stampede", "repeat": repeat, "mode": mode,
                     "callers": callers, "wave": wave,
                     "origin_calls": hot.stats.origin_calls - before,
                     "lookup_span_ms": span * 1000, "origin_ms": origin_s * 1000,
                     "stampede_ttl_s": ttl_s,
                     "p50_ms": float(np.percentile(waits_ms, 50)),
                     "p99_ms": float(np.percentile(waits_ms, 99)),
                     "max_ms": float(waits_ms.max())})  # fmt: skip
    return rows, fitted


class _WaveGate:
    """Holds the origin's answer until every caller of the wave has looked the key up, so
    a wave meets one expiry by construction: the origin's 3 lookup spans only estimated
    it, and a loaded machine stretched a wave past them (375 of 1,000 unprotected callers
    reached the origin, a fresh-clone make test at 5669c2b). One watcher polls the cache's
    lookup count; the origin calls wait on one event, so a thousand of them poll nothing.
    Outside a wave (the first write) the gate is open."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self.looked_up_at = math.inf  # monotonic time the last wave's last lookup was seen

    async def passed(self, timeout_s: float) -> None:
        if not self._open.is_set():
            with contextlib.suppress(TimeoutError):  # a late lookup never hangs the run
                await asyncio.wait_for(self._open.wait(), timeout_s)

    @contextlib.asynccontextmanager
    async def until(self, stats: CacheStats, callers: int) -> AsyncIterator[None]:
        """Closed until ``callers`` more lookups (hits or misses) are counted in ``stats``."""
        self._open.clear()
        self.looked_up_at = math.inf
        count = stats.hits + stats.misses + callers

        async def watch() -> None:
            for _ in range(30_000):  # the stats are plain counters: polled, for 60 s at most
                if stats.hits + stats.misses >= count:
                    self.looked_up_at = time.monotonic()
                    break
                await asyncio.sleep(0.002)
            self._open.set()

        watcher = asyncio.create_task(watch())
        try:
            yield
        finally:
            watcher.cancel()
            if stats.hits + stats.misses >= count:  # a wave of hits can end before a poll
                self.looked_up_at = min(self.looked_up_at, time.monotonic())
            self._open.set()


async def _until_expired(store: RedisCache, key: str, within_s: float = 2.0) -> None:
    """Wait until Redis has expired ``key``: its clock, not ours, decides when. A wave
    sent at our ``written + ttl`` met a live key once (no origin call from 10 unprotected
    callers, a make test at 2b63280); the server's wall clock can lag the monotonic one."""
    for _ in range(int(within_s / 0.005)):
        if await store.get(key) is None:
            return
        await asyncio.sleep(0.005)


async def _timed(call: Callable[[int], Awaitable[Any]]) -> float:
    began = time.perf_counter()
    await call(1)
    return time.perf_counter() - began


# --- cost: hits and misses per second, same repeat, several implementations ---------------


async def _elapsed(call: Call, ops: int, concurrency: int, first_key: int | None) -> float:
    """Seconds for ``ops`` calls by ``concurrency`` workers: worker w asks for key w (hits,
    ``first_key=None``) or for keys never asked before, from ``first_key`` on (misses)."""
    per = max(1, ops // concurrency)

    async def worker(w: int) -> None:
        for i in range(per):
            await call(w if first_key is None else first_key + w * per + i)

    began = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return time.perf_counter() - began


async def _origin(x: int) -> dict[str, int]:
    return {"id": x, "score": x * 7}


def _variants(url: str, redis_client: Any, namespace: str) -> tuple[dict[str, Any], list[Any]]:
    """label -> (backend, call); and what to close afterwards."""
    value = orjson.dumps({"id": 1, "score": 7})
    closers: list[Any] = []

    async def bare_get(x: int) -> Any:
        return orjson.loads(await redis_client.get(f"{namespace}:bare:{x}") or value)

    async def bare_miss(x: int) -> Any:
        found = await redis_client.get(f"{namespace}:miss:{x}")
        if found is None:
            await redis_client.set(f"{namespace}:miss:{x}", value, px=60_000)
        return found

    stores: dict[str, Any] = {
        "lab redis": RedisCache(url), "lab redis coalesced": RedisCache(url, coalesce=True),
        "lab tiered": TieredCache(RedisCache(url)), "lab memory": MemoryCache(100_000),
    }  # fmt: skip
    closers += [store.close for store in stores.values()]
    variants: dict[str, Any] = {"redis-py GET": ("redis", bare_get, bare_miss)}
    for label, store in stores.items():
        lab_fn: Call = cached(store, ttl=60, namespace=f"{namespace}:{label}")(_origin)
        variants[label] = ("memory" if label == "lab memory" else "redis", lab_fn, lab_fn)
    for backend, where in (("redis", url), ("memory", None)):
        for label, make in peers(where).items():
            decorate, close = make()
            closers.append(close)
            fn = decorate(_origin)
            variants[f"{label} {backend}"] = (backend, fn, fn)
    return variants, closers


async def _cost(s: CachingSettings, repeat: int, url: str) -> list[Row]:
    rows: list[Row] = []
    client = redis.asyncio.Redis.from_url(url)
    try:
        for concurrency in s.concurrencies:
            variants, closers = _variants(url, client, f"cost-{uuid.uuid4().hex}")
            try:
                with warnings.catch_warnings():  # aiocache calls redis-py's deprecated setex
                    warnings.simplefilter("ignore", DeprecationWarning)
                    rows += await _interleaved(variants, s, repeat, concurrency)
            finally:
                for close in closers:
                    await close()
        ep = endpoints().redis
        ceiling = await asyncio.to_thread(native.redis_benchmark, ep.host, ep.port, "get",
                                          max(s.concurrencies), s.native_requests)  # fmt: skip
        rows.append({"part": "cost", "repeat": repeat, "workload": "hit",
                     "variant": "redis-benchmark -P 1", "backend": "redis",
                     "concurrency": max(s.concurrencies),
                     "ops_s": ceiling.throughput_ops_s})  # fmt: skip
    finally:
        await client.aclose()
    return rows


async def _interleaved(variants: dict[str, Any], s: CachingSettings, repeat: int,
                       concurrency: int) -> list[Row]:  # fmt: skip
    """Every variant runs a slice of its calls in turn, ``s.rounds`` times, so a noisy
    neighbour on this shared machine slows all of them alike."""
    rows = []
    for _, hit, _ in variants.values():
        await _elapsed(hit, concurrency, concurrency, None)  # write the keys hits will read
    for workload in ("hit", "miss"):
        spent: dict[str, float] = dict.fromkeys(variants, 0.0)
        done: dict[str, int] = dict.fromkeys(variants, 0)
        for round_ in range(s.rounds):
            for label, (backend, hit, miss) in variants.items():
                if workload == "miss" and backend == "memory":
                    continue  # a memory miss is the origin call itself
                ops = (s.memory_ops if backend == "memory" else s.hit_ops) // s.rounds
                ops *= max(1, concurrency // 10)  # slices long enough that starting 50
                # workers is not what is timed
                first = None if workload == "hit" else (round_ + 1) * 10_000_000
                spent[label] += await _elapsed(hit if workload == "hit" else miss, ops,
                                               concurrency, first)  # fmt: skip
                done[label] += max(1, ops // concurrency) * concurrency
        for label, (backend, _, _) in variants.items():
            if done[label] and spent[label]:
                rows.append({"part": "cost", "repeat": repeat, "workload": workload,
                             "variant": label, "backend": backend, "concurrency": concurrency,
                             "ops_s": done[label] / spent[label]})  # fmt: skip
    return rows


# --- outage: a scratch Redis stopped and started again under steady calls -----------------


async def _outage(s: CachingSettings, repeat: int) -> list[Row]:
    before_s, down_s, after_s = s.outage_s
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lab-outage-") as folder:
        server = ScratchRedis(7301, Path(folder))
        await asyncio.to_thread(server.start)
        store = RedisCache(server.url, op_timeout_s=0.1, retry_after_s=0.25)

        @cached(store, ttl=60, namespace=f"outage-{repeat}")
        async def item(x: int) -> int:
            await asyncio.sleep(0.005)  # the origin: 5 ms
            return x

        began = time.monotonic()

        async def one(due: float) -> None:
            errors = item.stats.errors
            t0 = time.perf_counter()
            try:
                await item(int(due * 1000) % 20)
                outcome = "served" if item.stats.errors == errors else "served (fail-open)"
            except Exception as error:  # what a caller would see; the pattern promises none
                outcome = f"raised {type(error).__name__}"
            rows.append({"part": "outage", "repeat": repeat, "t_s": due,
                         "latency_ms": (time.perf_counter() - t0) * 1000, "outcome": outcome,
                         "fault_start_s": before_s, "fault_end_s": before_s + down_s})  # fmt: skip

        tasks, stopped, restarted = [], False, False
        total = before_s + down_s + after_s
        for k in range(int(total * s.outage_rate)):
            due = k / s.outage_rate
            now = time.monotonic() - began
            if not stopped and now >= before_s:
                await asyncio.to_thread(server.stop)
                stopped = True
            if not restarted and now >= before_s + down_s:
                await asyncio.to_thread(server.start)
                restarted = True
            await asyncio.sleep(max(0.0, due - (time.monotonic() - began)))
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
        await store.close()
        await asyncio.to_thread(server.stop)
    return rows


# --- the run and its tables ------------------------------------------------------------


@outside_event_loop
def run(
    *,
    quick: bool = False,
    settings: CachingSettings | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Every part, ``repeats`` times; needs Redis (``lab services up --only redis``)."""
    s = chosen_settings(CachingSettings, settings, quick)
    url = endpoints().redis_url
    if {"stampede", "cost", "outage"} & set(s.parts):
        health = probe("redis", endpoints())
        if not health.healthy:
            hint = "start it with `lab services up --only redis`"
            raise ServiceUnavailableError("redis", health.detail, hint)
    parts: dict[str, Part[CachingSettings]] = {
        "hit_ratio": _hit_ratio,
        "stampede": lambda s, repeat: _stampede(s, repeat, url),
        "cost": lambda s, repeat: _cost(s, repeat, url),
        "outage": _outage,
        "failover": failover,
    }
    return drive("caching", s, s.parts, parts, progress)


def quick_settings(**changes: Any) -> CachingSettings:
    return replace(CachingSettings.quick(), **changes)
