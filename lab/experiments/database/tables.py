"""The database experiment's tables: medians with min-max over repeats, ratios taken
within a repeat, and the Universal Scalability Law fit that recommends a pool size."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lab.experiments.tables import ReportTable, over_a_floor, spread

__all__ = [
    "ACQUIRE_STAGES",
    "TABLES",
    "acquire_stages",
    "acquire_summary",
    "in_list_summary",
    "index_summary",
    "pagination_summary",
    "pool_size_summary",
    "usl_fit",
    "vs_pgbench",
]


def usl_fit(sizes: list[float], rates: list[float]) -> dict[str, float]:
    """X(N) = lambda N / (1 + sigma (N-1) + kappa N (N-1)), fitted by least squares on
    N / X = (1 + sigma (N-1) + kappa N (N-1)) / lambda; the peak is at sqrt((1-sigma)/kappa)."""
    n = np.asarray(sizes, dtype=float)
    x = np.asarray(rates, dtype=float)
    design = np.column_stack([np.ones_like(n), n - 1, n * (n - 1)])
    (a, b, c), *_ = np.linalg.lstsq(design, n / x, rcond=None)
    lam = 1 / a if a > 0 else float("nan")
    sigma, kappa = max(b * lam, 0.0), max(c * lam, 0.0)
    peak = float(np.sqrt((1 - sigma) / kappa)) if kappa > 0 and sigma < 1 else float(n.max())
    return {"lambda": float(lam), "sigma": float(sigma), "kappa": float(kappa), "peak_n": peak}


def pool_size_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Rate and p99 per client count and pool size; per client count, the USL fit over the
    pooled rows, the measured optimum (highest median rate) and the recommendation (the
    measured size nearest the fit's peak); each rate relative to the naive
    connection-per-request service at the same client count, in the same repeat."""
    part = frame[frame.part == "pool_size"].copy()
    if "clients" not in part:
        part["clients"] = 64
    part = part.astype({"clients": int, "pool_size": int})  # NaN elsewhere in the CSV
    naive = part[part.pool_size == 0].set_index(["repeat", "clients"]).rps
    index = pd.MultiIndex.from_frame(part[["repeat", "clients"]])
    part["rps_vs_naive"] = part.rps.to_numpy() / naive.reindex(index).to_numpy()
    keys = ["clients", "variant", "pool_size"]
    table = spread(part, keys, "rps")
    for column in ("p99_ms", "rps_vs_naive"):
        ranges = spread(part, keys, column)
        table[[column, f"{column}_min", f"{column}_max"]] = ranges[
            [column, f"{column}_min", f"{column}_max"]].to_numpy()  # fmt: skip
    tables = [_recommend(group) for _, group in table.groupby("clients")]
    return pd.concat(tables, ignore_index=True) if tables else table


def _recommend(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    pooled = table[table.pool_size > 0]
    table["recommended"], table["measured_best"] = False, False
    if len(pooled) >= 3:
        fit = usl_fit(list(pooled.pool_size), list(pooled.rps))
        sizes = list(pooled.pool_size)
        recommended = min(sizes, key=lambda n: abs(np.log(n) - np.log(max(fit["peak_n"], 1))))
        table["usl_sigma"], table["usl_kappa"] = fit["sigma"], fit["kappa"]
        table["usl_peak_n"] = fit["peak_n"]
        table["recommended"] = table.pool_size == recommended
        best = pooled.sort_values("rps").pool_size.iloc[-1]
        table["measured_best"] = table.pool_size == best
    return table


def vs_pgbench(frame: pd.DataFrame) -> pd.DataFrame:
    part = frame[frame.part == "vs_pgbench"].copy()
    reference = part[part.variant == "pgbench -S -M simple"].set_index("repeat").qps
    part["ratio_vs_pgbench_simple"] = (
        part.qps.to_numpy() / reference.reindex(part.repeat).to_numpy()
    )
    table = spread(part, ["variant", "connections"], "qps")
    ranges = spread(part, ["variant", "connections"], "ratio_vs_pgbench_simple")
    cols = ["ratio_vs_pgbench_simple", "ratio_vs_pgbench_simple_min", "ratio_vs_pgbench_simple_max"]
    table[cols] = ranges[cols].to_numpy()
    return table


#: A pooled query's path against pgbench's, stage by stage (the vs_pgbench part's variants).
QUERY_STAGES = {
    "pgbench -S -M simple": "pgbench -S -M simple: C client (the floor)",
    "DatabasePool lean reset=none": "DatabasePool, lean engine, no reset",
    "DatabasePool asyncpg reset=none": "DatabasePool, asyncpg's pool, no reset",
    "DatabasePool lean reset=full": "DatabasePool, lean engine, reset on release",
    "DatabasePool asyncpg reset=full": "DatabasePool, asyncpg's pool, reset on release",
}


def query_stages(frame: pd.DataFrame) -> pd.DataFrame:
    """Where a pooled query's time goes: microseconds per query (1 / throughput, 10
    connections) per engine and reset, and what each adds to pgbench's in the same repeat."""
    rows = frame[frame.part == "vs_pgbench"]
    rows = rows.assign(us_per_query=1e6 / rows.qps)
    return over_a_floor(rows, "variant", QUERY_STAGES, "pgbench -S -M simple", "us_per_query")


#: The stages of acquire+release (``acquire_stages``), floor first, as the report names them.
ACQUIRE_STAGES = {
    "asyncpg pool": "asyncpg's pool: acquire, then release (the floor)",
    "async with": "a lease object with async with, nothing else",
    "async with, wait timed": "the same, timing the wait into a histogram",
    "DatabasePool": "DatabasePool: also counts waiters, checks for a lost connection",
    "DatabasePool, lean engine": "DatabasePool over its lean engine instead of asyncpg's pool",
}
#: What acquire_summary sets against asyncpg's pool: DatabasePool over each engine.
POOLED = ("DatabasePool", "DatabasePool, lean engine")


def acquire_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """DatabasePool's acquire+release, over asyncpg's pool and over its lean engine,
    against asyncpg's pool: microseconds and the ratio of the repeats' medians (the stages
    between them: ``acquire_stages``). Runs stored before the lean engine was measured
    here have the asyncpg engine only."""
    part = frame[frame.part == "acquire"]
    part = part[part.variant.isin(["asyncpg pool", *POOLED])]
    per_repeat = part.groupby(["repeat", "variant"]).us_per_acquire_release.median().unstack()
    table = spread(part, ["variant"], "us_per_acquire_release")
    table["ratio_vs_asyncpg"] = table["ratio_min"] = table["ratio_max"] = 1.0
    for pooled in POOLED:
        if pooled in per_repeat:
            ratio = per_repeat[pooled] / per_repeat["asyncpg pool"]
            mine = table.variant == pooled
            table.loc[mine, "ratio_vs_asyncpg"] = ratio.median()
            table.loc[mine, "ratio_min"] = ratio.min()
            table.loc[mine, "ratio_max"] = ratio.max()
    return table


def acquire_stages(frame: pd.DataFrame) -> pd.DataFrame:
    """Where the acquire+release time goes: each stage's microseconds and what it adds to
    asyncpg's pool alone in the same round, median [min-max] over every round of every
    repeat (a round measures each stage once, back to back). Runs stored before the
    stages were measured have the floor and DatabasePool only."""
    part = frame[frame.part == "acquire"]
    nth = part.groupby(["repeat", "variant"]).cumcount()  # the round, in the order run
    paired = part.assign(repeat=part.repeat.astype(int) * 1000 + nth)
    return over_a_floor(paired, "variant", ACQUIRE_STAGES, "asyncpg pool",
                        "us_per_acquire_release")  # fmt: skip


def pagination_summary(frame: pd.DataFrame) -> pd.DataFrame:
    return spread(frame[frame.part == "pagination"], ["page", "method"], "ms_per_page")


def in_list_summary(frame: pd.DataFrame) -> pd.DataFrame:
    part = frame[frame.part == "in_list"]
    table = spread(part, ["max_length", "form"], "ms_per_query")
    table["distinct_statements"] = (
        part.groupby(["max_length", "form"]).distinct_statements.max().to_numpy()
    )
    return table


def index_summary(frame: pd.DataFrame) -> pd.DataFrame:
    part = frame[frame.part == "indexes"]
    table = spread(part, ["query", "phase"], "execution_ms")
    first = part.groupby(["query", "phase"]).agg(
        uses_index=("uses_index", "all"), plan=("plan", "first")
    )
    return table.merge(first.reset_index(), on=["query", "phase"])


TABLES = (
    ReportTable(
        "Throughput and p99 against pool size (closed loop), with the USL fit",
        pool_size_summary,
        part="pool_size",
    ),
    ReportTable(
        "Pool queries/s against pgbench -S at equal connections, same repeat",
        vs_pgbench,
        part="vs_pgbench",
    ),
    ReportTable(
        "Where a pooled query's time goes: microseconds per query by engine and reset, and "
        "what each adds to pgbench -S -M simple in the same repeat",
        query_stages,
        part="vs_pgbench",
    ),
    ReportTable(
        "What DatabasePool adds to asyncpg's acquire+release", acquire_summary, part="acquire"
    ),
    ReportTable(
        "Where acquire+release's time goes: microseconds by stage, and what each adds to "
        "asyncpg's pool alone in the same repeat",
        acquire_stages,
        part="acquire",
    ),
    ReportTable(
        "OFFSET against keyset, time per page at depth", pagination_summary, part="pagination"
    ),
    ReportTable(
        "Expanded IN against = ANY: time per query, statements prepared",
        in_list_summary,
        part="in_list",
    ),
    ReportTable(
        "The seed's queries before and after the seed's indexes", index_summary, part="indexes"
    ),
)
