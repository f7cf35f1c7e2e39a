"""asv: what the caching experiment found (hit ratio, origin calls, cost ratios) and the
time of hits and misses through ``@cached``. Thin wrappers over ``lab.experiments.caching``
and ``lab.patterns.caching``; Redis must be up (``lab services up --only redis``)."""

from __future__ import annotations

import uuid

import pandas as pd

from benchmarks.common import Cells, ExperimentBehaviour, index_rows, require, tracked
from lab.config import endpoints
from lab.experiments.caching import tables
from lab.harness.aio import new_runner
from lab.patterns.caching import MemoryCache, RedisCache, cached


class CachingBehaviour(ExperimentBehaviour):
    """One quick run of the experiment; tracks hit ratio, origin calls and cost ratios."""

    experiment = "caching"

    @staticmethod
    def cells(frame: pd.DataFrame) -> dict[str, Cells]:
        return {
            "ratio": index_rows(tables.hit_ratio_summary(frame),
                                ["distribution", "skew", "size_fraction", "ttl_s"]),
            "stampede": index_rows(tables.stampede_totals(frame), ["mode", "callers"]),
            "cost": index_rows(tables.cost_summary(frame),
                               ["workload", "concurrency", "variant"]),
        }  # fmt: skip

    def track_hit_ratio(self, cells: dict[str, Cells]) -> float:
        """LRU holding 10 % of the keys under Zipf(1.0), no TTL."""
        return tracked(cells["ratio"], ("zipf", 1.0, 0.1, float("inf")), "hit_ratio")

    track_hit_ratio.unit = "ratio"  # type: ignore[attr-defined]

    def track_origin_calls(self, cells: dict[str, Cells]) -> float:
        """1000 callers meet an expired hot key under single-flight (ideal: 1)."""
        return tracked(cells["stampede"], ("single-flight", 1000), "origin_calls")

    track_origin_calls.unit = "calls"  # type: ignore[attr-defined]

    def track_origin_calls_unprotected(self, cells: dict[str, Cells]) -> float:
        return tracked(cells["stampede"], ("none", 1000), "origin_calls")

    track_origin_calls_unprotected.unit = "calls"  # type: ignore[attr-defined]

    def track_hit_cost_vs_redis_py(self, cells: dict[str, Cells]) -> float:
        return tracked(cells["cost"], ("hit", 1, "lab redis"), "cost_vs_redis_py")

    track_hit_cost_vs_redis_py.unit = "ratio"  # type: ignore[attr-defined]

    def track_coalesced_hits_vs_redis_benchmark(self, cells: dict[str, Cells]) -> float:
        return tracked(cells["cost"], ("hit", 50, "lab redis coalesced"),
                       "rate_vs_redis_benchmark")  # fmt: skip

    track_coalesced_hits_vs_redis_benchmark.unit = "ratio"  # type: ignore[attr-defined]


async def _value(x: int) -> dict[str, int]:
    return {"id": x}


class CachedCalls:
    """Time of 1,000 hits or misses through @cached, per store."""

    params = ["memory", "redis"]
    param_names = ["store"]

    def setup(self, store: str) -> None:
        if store == "redis":
            require("redis")
        self.runner = new_runner()
        self.store = MemoryCache() if store == "memory" else RedisCache(endpoints().redis_url)
        self.function = cached(self.store, ttl=600, namespace=uuid.uuid4().hex)(_value)
        self.runner.run(self.function(1))
        self.next_key = 10

    def teardown(self, store: str) -> None:
        self.runner.run(self.store.close())
        self.runner.close()

    def time_hit(self, store: str) -> None:
        async def hits() -> None:
            for _ in range(1_000):
                await self.function(1)

        self.runner.run(hits())

    def time_miss(self, store: str) -> None:
        first, self.next_key = self.next_key, self.next_key + 1_000

        async def misses() -> None:
            for key in range(first, first + 1_000):
                await self.function(key)

        self.runner.run(misses())
