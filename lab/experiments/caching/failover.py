"""The caching experiment's ``failover`` part: callers at a fixed rate through
``RedisCache(cluster_nodes=...)`` on the Redis Cluster profile (3 masters, 3 replicas;
``lab services up --redis-cluster``) while one master is SIGKILLed and its replica is
promoted, for the per-key GET store and the coalesced MGET one, with the cluster's
``cluster-require-full-coverage`` at Redis's default (yes: while any slot has no master,
every node refuses every command) and at no (the other masters keep serving theirs).

Each row is a 100 ms bucket of one variant's calls: how many, how many raised (the pattern
promises none), how many cache operations failed, how many reached the origin, and their
latency. The kill, the promotion (a surviving node sees no master missing for any slot)
and the victim's return as a replica are times on the same clock. After each variant the
victim is started again, and the cluster is whole again before the next one begins.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lab.config import lab_home
from lab.experiments.driver import Row
from lab.experiments.failure_parts import why_not_run
from lab.harness.services.redis_cluster import (
    CLUSTER_ENV,
    MASTERS,
    cluster_health,
    cluster_nodes,
    node_client,
    profile_node,
    topology,
    wait_until_healthy,
)
from lab.patterns.caching import RedisCache, cached

if TYPE_CHECKING:
    from lab.experiments.caching.measure import CachingSettings

__all__ = ["BUCKET_S", "failover"]

BUCKET_S = 0.1
VARIANTS = (("per-key GET", False), ("coalesced MGET", True))


def _not_run(repeat: int, why: str) -> Row:
    return {"part": "failover", "repeat": repeat, "variant": "not run", "detail": why}


async def failover(s: CachingSettings, repeat: int) -> list[Row]:
    """Each coverage rule with each store once; one row saying why not when the profile's
    cluster is not up."""
    nodes = cluster_nodes()
    why = await why_not_run("Redis Cluster", CLUSTER_ENV, lambda: cluster_health(nodes),
                            "lab services up --redis-cluster")  # fmt: skip
    if why:
        return [_not_run(repeat, why)]
    rows: list[Row] = []
    try:
        for full_coverage in s.failover_full_coverage:
            for variant, coalesce in VARIANTS:  # set again: a restarted node has the default
                await asyncio.to_thread(_full_coverage, nodes, full_coverage)
                made = await _one_failover(s, repeat, nodes, variant, coalesce)
                rows += [{**row, "full_coverage": full_coverage} for row in made]
    finally:
        await asyncio.to_thread(_full_coverage, nodes, True)  # the profile as started
    return rows


def _full_coverage(nodes: list[str], required: bool) -> None:
    """``CONFIG SET cluster-require-full-coverage`` on every node that answers."""
    for node in topology(nodes):
        if node.failing:
            continue
        client = node_client(node.address, timeout_s=2.0)
        try:
            client.config_set("cluster-require-full-coverage", "yes" if required else "no")
        finally:
            client.close()


@dataclass
class _Bucket:
    calls: int = 0
    cache_errors: int = 0  # cache operations that failed (the caller was served anyway)
    raised: int = 0
    raised_as: list[str] = field(default_factory=list)  # the exceptions' types and messages
    origin_calls: int = 0
    latencies_ms: list[float] = field(default_factory=list)


async def _one_failover(
    s: CachingSettings, repeat: int, nodes: list[str], variant: str, coalesce: bool
) -> list[Row]:
    store = RedisCache(cluster_nodes=nodes, op_timeout_s=0.1, retry_after_s=0.25,
                       coalesce=coalesce)  # fmt: skip
    buckets: dict[int, _Bucket] = {}
    began = time.monotonic()

    def bucket() -> _Bucket:
        return buckets.setdefault(int((time.monotonic() - began) / BUCKET_S), _Bucket())

    @cached(store, ttl=600, namespace=f"failover-{repeat}-{coalesce}-{began}")
    async def item(x: int) -> int:
        bucket().origin_calls += 1
        await asyncio.sleep(0.002)  # the origin: 2 ms
        return x

    for x in range(s.failover_keys):  # every key cached before the clock starts
        await item(x)
    await asyncio.sleep(0.5)  # the masters' replicas have the keys
    buckets.clear()
    began = time.monotonic()

    errors_counted = [item.stats.errors]

    async def one(x: int) -> None:
        t0 = time.perf_counter()
        try:
            await item(x)
        except Exception as error:  # what a caller would see; the pattern promises none
            bucket().raised += 1
            bucket().raised_as.append(f"{type(error).__name__}: {error}"[:200])
        done = bucket()
        done.calls += 1
        done.cache_errors += item.stats.errors - errors_counted[0]
        errors_counted[0] = item.stats.errors
        done.latencies_ms.append((time.perf_counter() - t0) * 1000)

    victim = await asyncio.to_thread(_victim, nodes)
    times: dict[str, float] = {}
    try:
        await _calls_around_the_kill(s, repeat, nodes, victim, began, times, one)
    finally:
        await store.close()
        if "kill_s" in times:
            await asyncio.to_thread(_restart, nodes, victim[1])
    rejoined_s = time.monotonic() - began
    return [
        {"part": "failover", "repeat": repeat, "variant": variant, "t_s": index * BUCKET_S,
         "calls": b.calls, "cache_errors": b.cache_errors, "raised": b.raised,
         "origin_calls": b.origin_calls, "raised_as": "; ".join(b.raised_as),
         "p99_ms": float(np.percentile(b.latencies_ms, 99)) if b.latencies_ms else np.nan,
         "max_ms": max(b.latencies_ms, default=np.nan),
         "kill_s": times["kill_s"], "promoted_s": times.get("promoted_s", np.nan),
         "rejoined_s": rejoined_s, "rate": s.failover_rate, "keys": s.failover_keys}
        for index, b in sorted(buckets.items())
    ]  # fmt: skip


async def _calls_around_the_kill(
    s: CachingSettings,
    repeat: int,
    nodes: list[str],
    victim: tuple[str, int],
    began: float,
    times: dict[str, float],
    one: Callable[[int], Coroutine[Any, Any, None]],
) -> None:
    """Calls at ``failover_rate`` on uniform keys: ``failover_before_s``, then the kill,
    then on until ``failover_after_s`` past the promotion (or ``failover_give_up_s``)."""
    pick = random.Random(repeat)
    tasks: list[asyncio.Task[None]] = []
    watcher: asyncio.Task[None] | None = None
    k = 0
    while True:
        now = time.monotonic() - began
        if "kill_s" not in times and now >= s.failover_before_s:
            await asyncio.to_thread(profile_node(lab_home(), victim[1]).kill)
            times["kill_s"] = time.monotonic() - began
            watcher = asyncio.create_task(_until_promoted(nodes, victim[0], began, times))
        if "promoted_s" in times and now > times["promoted_s"] + s.failover_after_s:
            break
        if "kill_s" in times and now - times["kill_s"] > s.failover_give_up_s:
            break  # never promoted: the rows say so (no promoted_s)
        due = k / s.failover_rate
        await asyncio.sleep(max(0.0, due - (time.monotonic() - began)))
        tasks.append(asyncio.create_task(one(pick.randrange(s.failover_keys))))
        k += 1
    await asyncio.gather(*tasks)
    if watcher is not None:
        watcher.cancel()


def _victim(nodes: list[str]) -> tuple[str, int]:
    """The first master by address (a profile node): its address and port."""
    masters = sorted((n for n in topology(nodes) if n.role == "master" and n.slots),
                     key=lambda n: n.address)  # fmt: skip
    address = masters[0].address
    return address, int(address.rpartition(":")[2])


async def _until_promoted(
    nodes: list[str], victim: str, began: float, times: dict[str, float]
) -> None:
    """Record when a surviving node sees another master serving every slot again."""
    survivors = [node for node in nodes if node != victim]
    while True:
        seen = await asyncio.to_thread(topology, survivors)
        serving = [n for n in seen if n.role == "master" and n.slots and not n.failing]
        if victim not in {n.address for n in serving} and sum(n.slots for n in serving) == 16384:
            times["promoted_s"] = time.monotonic() - began
            return
        await asyncio.sleep(0.05)


def _restart(nodes: list[str], port: int) -> None:
    """Start the killed node again (it rejoins as a replica, with Redis's default coverage
    rule until the next run sets it) and wait for the whole cluster."""
    profile_node(lab_home(), port).start()
    wait_until_healthy(nodes, MASTERS, 1, timeout_s=60.0)
