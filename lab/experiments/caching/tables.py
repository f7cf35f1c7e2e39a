"""The caching experiment's tables: what the report, asv and the notebooks show."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lab.experiments.caching.failover import BUCKET_S
from lab.experiments.tables import ReportTable, over_a_floor, spread, spread_columns

__all__ = [
    "TABLES",
    "cost_summary",
    "failover_repeats",
    "failover_summary",
    "hit_ratio_summary",
    "outage_summary",
    "stampede_summary",
    "stampede_totals",
]


def hit_ratio_summary(frame: pd.DataFrame) -> pd.DataFrame:
    part = frame[frame.part == "hit_ratio"]
    keys = ["distribution", "skew", "size_fraction", "cache_size", "ttl_s"]
    table = spread(part, keys, "hit_ratio")
    best = part.groupby(keys, dropna=False).best_ratio
    table["best_ratio"] = best.median().to_numpy()
    return table


def stampede_summary(frame: pd.DataFrame) -> pd.DataFrame:
    part = frame[frame.part == "stampede"]
    keys = ["callers", "mode", "wave"]
    part = part.astype({"callers": int})  # the CSV holds NaN for other parts: floats
    table = spread(part, keys, "origin_calls")
    table["p99_ms"] = part.groupby(keys).p99_ms.median().to_numpy()
    table["max_ms"] = part.groupby(keys).max_ms.max().to_numpy()
    return table


def stampede_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Origin calls over both waves of a repeat, per mode and callers. Exactly one expiry
    falls between the first wave and the end of the second, whichever wave meets it (on a
    loaded machine the first wave of 1000 callers can straddle the expiry), so a mode that
    stops stampedes makes exactly 1."""
    part = frame[frame.part == "stampede"].astype({"callers": int})
    per_repeat = part.groupby(["mode", "callers", "repeat"]).origin_calls.sum().reset_index()
    return spread(per_repeat, ["mode", "callers"], "origin_calls")


def cost_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Rate per variant with the per-repeat ratio to redis-py (time per call relative to a
    bare GET: 1.10 = 10 % slower) and, at the top concurrency, to redis-benchmark."""
    part = frame[frame.part == "cost"].copy()
    bare = part[part.variant == "redis-py GET"].set_index(["repeat", "workload", "concurrency"])
    ceiling = part[part.variant == "redis-benchmark -P 1"].set_index("repeat").ops_s
    index = pd.MultiIndex.from_frame(part[["repeat", "workload", "concurrency"]])
    part["cost_vs_redis_py"] = bare.ops_s.reindex(index).to_numpy() / part.ops_s.to_numpy()
    part["rate_vs_redis_benchmark"] = (
        part.ops_s.to_numpy() / ceiling.reindex(part.repeat).to_numpy()
    )
    keys = ["workload", "concurrency", "variant", "backend"]
    part = part.astype({"concurrency": int})  # the CSV holds NaN for other parts: floats
    table = spread(part, keys, "ops_s")
    for column in ("cost_vs_redis_py", "rate_vs_redis_benchmark"):
        ranges = spread(part, keys, column)
        table[[column, f"{column}_min", f"{column}_max"]] = ranges[
            [column, f"{column}_min", f"{column}_max"]].to_numpy()  # fmt: skip
    table["us_per_call"] = 1e6 / table.ops_s  # wall time per call: 1 / throughput
    return table


#: A Redis hit's path, stage by stage (the cost part's variants that build on each other).
HIT_STAGES = {
    "redis-py GET": "redis-py GET + orjson.loads: the floor (one round trip, one decode)",
    "lab memory": "@cached over MemoryCache: key, lookup, no network",
    "lab redis": "@cached over Redis: key, GET, decode",
    "lab redis coalesced": "@cached over Redis, coalesced: the callers of one tick share an MGET",
    "redis-benchmark -P 1": "redis-benchmark -P 1: C, no Python, GET only",
}


def hit_stages(frame: pd.DataFrame) -> pd.DataFrame:
    """Where a hit's time goes: microseconds per call (1 / throughput, so at 50 callers the
    wall time per call shared by all) per stage of the path, and what each adds to a bare
    redis-py GET in the same repeat; negative where batching or no network beats it."""
    part = frame[(frame.part == "cost") & (frame.workload == "hit")]
    part = part.assign(us_per_call=1e6 / part.ops_s).astype({"concurrency": int})
    return over_a_floor(part, "variant", HIT_STAGES, "redis-py GET", "us_per_call",
                        keys=["concurrency"])  # fmt: skip


def outage_summary(frame: pd.DataFrame) -> pd.DataFrame:
    part = frame[frame.part == "outage"].copy()
    if part.empty:
        return part
    down = np.where(part.t_s < part.fault_end_s, "redis down", "after restart")
    part["phase"] = np.where(part.t_s < part.fault_start_s, "before", down)
    grouped = part.groupby(["phase", "outcome"])
    return pd.DataFrame({
        "calls": grouped.size(), "p50_ms": grouped.latency_ms.median(),
        "p99_ms": grouped.latency_ms.quantile(0.99), "max_ms": grouped.latency_ms.max(),
    }).reset_index()  # fmt: skip


#: Back "within 5 % of before": the hit ratio of every later bucket is at least this share
#: of the hit ratio before the kill.
RECOVERED_SHARE = 0.95


def _one_failover(buckets: pd.DataFrame) -> dict[str, float]:
    """One variant's repeat: what its callers saw around the kill."""
    kill, promoted = buckets.kill_s.iloc[0], buckets.promoted_s.iloc[0]
    before = buckets[buckets.t_s + BUCKET_S <= kill]
    after = buckets[buckets.t_s + BUCKET_S > kill]
    ratio_before = 1 - before.origin_calls.sum() / max(1, before.calls.sum())
    hit = 1 - after.origin_calls / after.calls.clip(lower=1)
    short = np.flatnonzero((hit < RECOVERED_SHARE * ratio_before).to_numpy())
    if not len(short):
        back_at = kill
    elif short[-1] + 1 < len(after):
        back_at = float(after.t_s.iloc[short[-1] + 1])
    else:
        back_at = np.nan  # still short at the end of the run
    settled = buckets[buckets.t_s >= promoted + 0.5]  # NaN promoted: no row
    return {
        "caller_exceptions": int(buckets.raised.sum()),
        "cache_errors": int(buckets.cache_errors.sum()),
        "promoted_after_s": promoted - kill,
        "hit_ratio_before": ratio_before,
        "hit_ratio_back_after_s": max(0.0, back_at - kill),
        "origin_calls_until_back": int(after[after.t_s < back_at].origin_calls.sum())
        if back_at == back_at else int(after.origin_calls.sum()),
        "cache_errors_after_promotion": int(settled.cache_errors.sum()),
        "calls": int(buckets.calls.sum()),
    }  # fmt: skip


def failover_repeats(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per coverage rule, variant and repeat (a "not run" row says why it did not run)."""
    part = frame[frame.part == "failover"]
    if (part.variant == "not run").all():
        return part[["variant", "detail"]].drop_duplicates().reset_index(drop=True)
    part = part[part.variant != "not run"].astype({"full_coverage": bool})
    keys = ["full_coverage", "variant", "repeat"]
    rows = [
        dict(zip(keys, key, strict=True)) | _one_failover(buckets)
        for key, buckets in part.groupby(keys, sort=False)
    ]
    return pd.DataFrame(rows)


def failover_summary(frame: pd.DataFrame) -> pd.DataFrame:
    table = failover_repeats(frame)
    if "detail" in table:
        return table
    columns = [c for c in table.columns if c not in ("full_coverage", "variant", "repeat")]
    return spread_columns(table, ["full_coverage", "variant"], columns)


TABLES = (
    ReportTable(
        "Cost of a hit and a miss, against a bare redis-py GET in the same repeat",
        cost_summary,
        part="cost",
    ),
    ReportTable(
        "Where a hit's time goes: microseconds per call by stage, and what each adds to a "
        "bare redis-py GET in the same repeat",
        hit_stages,
        part="cost",
    ),
    ReportTable(
        "Origin calls per expiry, both waves together (1 is ideal; N callers, no protection)",
        stampede_totals,
        part="stampede",
    ),
    ReportTable(
        "Origin calls and caller waits when N callers meet one expiry",
        stampede_summary,
        part="stampede",
    ),
    ReportTable(
        "LRU hit ratio against the best any cache of that size can do",
        hit_ratio_summary,
        part="hit_ratio",
    ),
    ReportTable(
        "Callers while Redis is stopped and started again (fail-open)",
        outage_summary,
        part="outage",
    ),
    ReportTable(
        "Callers while a Redis Cluster master is killed and its replica promoted",
        failover_summary,
        part="failover",
    ),
)
