"""Each experiment's headline figures: the few cells of its report tables a reader looks
for first (the README's table, the top of the report, ``lab headlines``).

A headline names a cell (:mod:`lab.harness.metric_cells`) by the start of its table's
caption, some of its row's key, and its column; it carries the cell's median, spread and
repeats, so it is never quoted without them. ``peer`` names the tool it is measured
against, for the report's comparison with peers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from lab.harness.metric_cells import Cell, cells

__all__ = ["HEADLINES", "Headline", "HeadlineSpec", "headlines"]


@dataclass(frozen=True)
class HeadlineSpec:
    label: str
    caption: str  # the start of the table's caption ("" matches any)
    where: Mapping[str, Any]
    column: str
    peer: str | None = None
    #: The row to divide by (same table and column): the headline is then a ratio of two
    #: medians of the same repeats, its range the extremes divided (wider than either's).
    over: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Headline:
    experiment: str
    label: str
    cell: Cell
    peer: str | None = None

    def text(self) -> str:
        """The figure with its spread and repeats (a table without a spread for it: the
        figure over its repeats, as the table states it)."""
        c = self.cell
        if math.isnan(c.low) or math.isnan(c.high):
            return f"{_number(c.value)}, {c.runs} runs"
        return f"{_number(c.value)} [{_number(c.low)}-{_number(c.high)}], {c.runs} runs"


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _spec(label: str, caption: str, column: str, peer: str | None = None,
          over: Mapping[str, Any] | None = None, **where: Any) -> HeadlineSpec:  # fmt: skip
    return HeadlineSpec(label, caption, where, column, peer, over)


# fmt: off
HEADLINES: dict[str, list[HeadlineSpec]] = {
    "service": [
        _spec("SLO lines met in every repeat, optimized, at the target rate", "Target",
              "lines_passed_every_repeat", variant="optimized"),
        _spec("SLO lines met in every repeat, naive", "Target", "lines_passed_every_repeat",
              variant="naive"),
        _spec("largest rate meeting the SLO, optimized (requests/s)", "Largest",
              "max_rate_meeting_slo", variant="optimized"),
        _spec("largest rate meeting the SLO, naive (requests/s)", "Largest",
              "max_rate_meeting_slo", variant="naive"),
        _spec("p99 in the hold window, optimized (ms)", "Every slo.yaml line", "measured",
              variant="optimized", metric="latency_p99_ms"),
        _spec("error budget spent in the fault run", "Fault run: error budget", "budget_spent"),
    ],
    "baseline": [
        _spec("redis-py GET, 32 concurrent / redis-benchmark", "", "ratio", "redis-benchmark",
              service="redis", operation="get", concurrency=32),
        _spec("asyncpg primary-key lookup, 32 concurrent / pgbench", "", "ratio", "pgbench",
              service="postgres", operation="pk_lookup", concurrency=32),
        _spec("aiokafka produce, 32 concurrent / ProducerPerformance", "", "ratio",
              "Kafka's perf tools", service="kafka", operation="produce", concurrency=32),
    ],
    "loadgen": [
        _spec("lab's closed-loop rate at saturation / wrk", "", "rate_vs_wrk", "wrk",
              scenario="saturation", tool="lab-closed"),
        _spec("lab's CPU per request / Locust FastHttpUser", "", "cpu_vs_locust", "Locust",
              scenario="saturation", tool="lab-closed"),
    ],
    "resilience": [
        _spec("calls reaching a dead downstream, consecutive(5) breaker", "Outage",
              "reached_during_fault", variant="consecutive(5)"),
        _spec("calls reaching a dead downstream, no breaker", "Outage", "reached_during_fault",
              variant="no breaker"),
        _spec("seconds to open, consecutive(5)", "Outage", "time_to_open_s",
              variant="consecutive(5)"),
        _spec("seconds to recover, consecutive(5)", "Outage", "time_to_recover_s",
              variant="consecutive(5)"),
        _spec("lab breaker overhead per call (ns)", "Cost per call", "overhead_ns",
              variant="lab CLOSED"),
        _spec("pybreaker's overhead per call / the lab breaker's", "Cost per call",
              "overhead_ns", "pybreaker", variant="pybreaker CLOSED",
              over={"variant": "lab CLOSED"}),
        _spec("purgatory's overhead per call / the lab breaker's", "Cost per call",
              "overhead_ns", "purgatory", variant="purgatory CLOSED",
              over={"variant": "lab CLOSED"}),
    ],
    "caching": [
        _spec("LRU hit ratio, 10 % of keys, Zipf 1.0", "LRU hit ratio", "hit_ratio",
              distribution="zipf", skew=1.0, size_fraction=0.1),
        _spec("origin calls, 1000 callers at one expiry, single-flight", "Origin calls",
              "origin_calls", callers=1000, mode="single-flight", wave="after expiry"),
        _spec("origin calls, 1000 callers at one expiry, unprotected", "Origin calls",
              "origin_calls", callers=1000, mode="none", wave="after expiry"),
        _spec("lab Redis hit, 50 callers: cost / redis-py GET", "Cost of a hit",
              "cost_vs_redis_py", workload="hit", concurrency=50, variant="lab redis"),
        _spec("cashews' Redis hit, 50 callers: cost / the lab's", "Cost of a hit",
              "cost_vs_redis_py", "cashews", workload="hit", concurrency=50,
              variant="cashews redis", over={"workload": "hit", "concurrency": 50,
                                             "variant": "lab redis"}),
        _spec("aiocache's Redis hit, 50 callers: cost / the lab's", "Cost of a hit",
              "cost_vs_redis_py", "aiocache", workload="hit", concurrency=50,
              variant="aiocache redis", over={"workload": "hit", "concurrency": 50,
                                              "variant": "lab redis"}),
    ],
    "database": [
        _spec("pool of 16 / a connection per request, 64 clients (requests/s)", "Throughput",
              "rps_vs_naive", clients=64, variant="pool", pool_size=16),
        _spec("DatabasePool acquire+release / asyncpg's", "What DatabasePool adds",
              "ratio_vs_asyncpg", variant="DatabasePool"),
        _spec("DatabasePool (lean, reset=none) queries/s / pgbench -S", "Pool queries/s",
              "ratio_vs_pgbench_simple", "pgbench", variant="DatabasePool lean reset=none"),
        _spec("OFFSET page 10,000 (ms)", "OFFSET against keyset", "ms_per_page", page=10000,
              method="offset"),
        _spec("keyset page 10,000 (ms)", "OFFSET against keyset", "ms_per_page", page=10000,
              method="keyset"),
    ],
    "load_control": [
        _spec("gradient2: seconds to settle after a capacity step", "Convergence", "settle_s",
              scenario="step", variant="gradient2"),
        _spec("gradient2: p99 under overload / p99 without", "Convergence", "p99_ratio",
              scenario="step", variant="gradient2"),
        _spec("goodput over HTTP with gradient2 (requests/s)", "Overload over real HTTP",
              "goodput_rps", variant="gradient2"),
        _spec("goodput over HTTP with no limiter (requests/s)", "Overload over real HTTP",
              "goodput_rps", variant="no limiter"),
        _spec("metrics middleware: added server CPU per request (%, aiohttp)",
              "Metrics middleware", "added_cpu_percent", stack="aiohttp",
              variant="metrics middleware"),
    ],
    "messaging": [
        _spec("aiokafka producer / ProducerPerformance (100 B)", "Producing", "vs_java",
              "Kafka's perf tools", case="100 B, 16 KiB batches, linger 5 ms", tool="aiokafka"),
        _spec("KafkaBatchProcessor (32) / ConsumerPerformance", "Consuming", "vs_java",
              "Kafka's perf tools", tool="KafkaBatchProcessor, concurrency 32"),
        _spec("messages lost when the worker is killed", "The worker killed", "lost"),
        _spec("duplicates per crash", "The worker killed", "duplicates_per_crash"),
        _spec("4 workers / 1 on 8 partitions", "Worker processes", "vs_one", workers=4),
    ],
    "cdn": [
        _spec("first visit, unoptimized page (bytes)", "The demo page", "bytes",
              profile="10 Mbit/s, 40 ms", variant="none", visit="first"),
        _spec("first visit, every optimization on (bytes)", "The demo page", "bytes",
              profile="10 Mbit/s, 40 ms", variant="all", visit="first"),
        _spec("repeat visit, every optimization on (bytes)", "The demo page", "bytes",
              profile="10 Mbit/s, 40 ms", variant="all", visit="repeat"),
        _spec("load event, unoptimized, 10 Mbit/s (ms)", "The demo page", "load_ms",
              profile="10 Mbit/s, 40 ms", variant="none", visit="first"),
        _spec("load event, optimized, 10 Mbit/s (ms)", "The demo page", "load_ms",
              profile="10 Mbit/s, 40 ms", variant="all", visit="first"),
        _spec("StaticFiles / aiohttp add_static, 180 KB photo (requests/s)", "Requests/s",
              "vs_aiohttp", "aiohttp add_static", case="photo, 180 KB", server="lab StaticFiles"),
    ],
}
# fmt: on


def _matches(spec: HeadlineSpec, cell: Cell) -> bool:
    row = dict(cell.row)
    return (cell.column == spec.column and cell.caption.startswith(spec.caption)
            and all(row.get(name) == value for name, value in spec.where.items()))  # fmt: skip


def _plain_cell(experiment: str, spec: HeadlineSpec, tables: list[tuple[str, pd.DataFrame]],
                repeats: int) -> Cell | None:  # fmt: skip
    """A figure the table states without a spread (a median, or a count over repeats);
    ``repeats`` for a table that does not say how many."""
    for caption, table in tables:
        if not caption.startswith(spec.caption) or spec.column not in table:
            continue
        rows = table
        for name, value in spec.where.items():
            rows = rows[rows[name] == value] if name in rows else rows.iloc[0:0]
        if len(rows) == 1:
            row = rows.iloc[0]
            runs = int(row["runs"]) if "runs" in row else repeats
            return Cell(experiment, caption, tuple(spec.where.items()), spec.column,
                        float(row[spec.column]), math.nan, math.nan, runs)  # fmt: skip
    return None


def _find(experiment: str, spec: HeadlineSpec, found: list[Cell],
          tables: list[tuple[str, pd.DataFrame]]) -> Cell | None:  # fmt: skip
    match = next((cell for cell in found if _matches(spec, cell)), None)
    if match is None:
        repeats = max((cell.runs for cell in found), default=1)
        match = _plain_cell(experiment, spec, tables, repeats)
    return match


def _ratio(top: Cell, bottom: Cell) -> Cell | None:
    if not bottom.value or not bottom.low:
        return None
    return Cell(top.experiment, top.caption, top.row, f"{top.column} ratio",
                top.value / bottom.value, top.low / bottom.high if bottom.high else math.nan,
                top.high / bottom.low, min(top.runs, bottom.runs))  # fmt: skip


def headlines(experiment: str, tables: list[tuple[str, pd.DataFrame]]) -> list[Headline]:
    """The experiment's headlines found in these tables (a quick run may lack some)."""
    found = cells(experiment, tables)
    picked = []
    for spec in HEADLINES.get(experiment, []):
        match = _find(experiment, spec, found, tables)
        if match is not None and spec.over is not None:
            bottom = _find(experiment, replace(spec, where=spec.over, over=None), found, tables)
            match = _ratio(match, bottom) if bottom is not None else None
        if match is not None:
            picked.append(Headline(experiment, spec.label, match, spec.peer))
    return picked
