"""Experiments: one module per pattern, each a function that returns a tidy DataFrame.

The registry below is what ``lab run``, the report, asv and the notebooks look up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments import (
    baseline,
    caching,
    cdn,
    cdn_tables,
    database,
    database_tables,
    load_control,
    load_control_tables,
    loadgen,
    messaging,
    messaging_tables,
    resilience,
    service,
    service_tables,
)
from lab.harness import plots

__all__ = ["EXPERIMENTS", "Experiment"]


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    question: str
    run: Callable[..., pd.DataFrame]  # run(quick=..., progress=...)
    summary: Callable[[pd.DataFrame], pd.DataFrame]
    figures: Callable[[pd.DataFrame], list[Figure]]
    slo_metrics: Callable[[pd.DataFrame], dict[str, float]]
    services: tuple[str, ...]
    #: Captioned tables for the report; by default the summary alone.
    report_tables: Callable[[pd.DataFrame], list[tuple[str, pd.DataFrame]]] | None = None

    def tables(self, frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
        if self.report_tables is not None:
            return self.report_tables(frame)
        return [("", self.summary(frame))]


def _baseline_figures(frame: pd.DataFrame) -> list[Figure]:
    table = baseline.ratios(frame)
    compared = table[table.runs > 0]
    return [
        plots.ratio_bars(
            compared,
            label_columns=["service", "operation", "concurrency"],
            title="Python client throughput / native tool throughput (median, min-max)",
        ),
        plots.latency_bars(
            table,
            label_columns=["service", "operation", "concurrency"],
            title="Python client round-trip latency, p50 and p99",
        ),
    ]


def _loadgen_figures(frame: pd.DataFrame) -> list[Figure]:
    table = loadgen.summary(frame)
    figures = []
    compared = table[table.scenario == "saturation"]
    if "rate_vs_wrk" in compared:  # absent when wrk is not installed
        saturation = compared[compared.rate_vs_wrk.notna()]
        figures.append(
            plots.ratio_bars(
                saturation,
                label_columns=["tool"],
                ratio="rate_vs_wrk",
                low="rate_vs_wrk_min",
                high="rate_vs_wrk_max",
                xlabel="requests/s as a share of wrk's (1.0 = wrk)",
                title="Saturation: rate against one server process, relative to wrk",
            )
        )
    stall = table[table.scenario.isin(["accuracy", "stall"])]
    figures.append(
        plots.latency_bars(
            stall,
            label_columns=["scenario", "tool"],
            title="What each tool reports: p50 and p99 (stall = server frozen periodically)",
        )
    )
    return figures


def _resilience_figures(frame: pd.DataFrame) -> list[Figure]:
    table = resilience.breaker_summary(frame)
    overhead = resilience.overhead_summary(frame)
    overhead = overhead[overhead.variant != "bare await"].assign(
        ratio=lambda t: t.overhead_ns / 1000, ratio_min=lambda t: t.overhead_ns_min / 1000,
        ratio_max=lambda t: t.overhead_ns_max / 1000,
    )  # fmt: skip
    return [
        plots.outcome_timeline(
            frame[frame.part.isin(["outage", "partial", "slowdown"])],
            title="Calls by outcome over time (shaded: the fault); one row per breaker",
        ),
        plots.ratio_bars(
            table[table.scenario == "outage"].assign(
                ratio=lambda t: t.reached_during_fault, ratio_min=lambda t: t.reached_during_fault,
                ratio_max=lambda t: t.reached_max,
            ),
            label_columns=["variant"], xlabel="calls that reached the failing downstream",
            reference=None,
            title="Outage: calls that still hit the downstream while it was down",
        ),
        plots.ratio_bars(
            overhead, label_columns=["variant"], xlabel="microseconds added per call",
            reference=None,
            title="Cost per call against a bare await (median, min-max)",
        ),
    ]  # fmt: skip


def _caching_figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    cost = caching.cost_summary(frame) if (frame.part == "cost").any() else None
    if cost is not None:
        hits = cost[(cost.workload == "hit") & (cost.backend == "redis")
                    & (cost.variant != "redis-benchmark -P 1")]  # fmt: skip
        figures.append(plots.ratio_bars(
            hits.assign(ratio=hits.cost_vs_redis_py, ratio_min=hits.cost_vs_redis_py_min,
                        ratio_max=hits.cost_vs_redis_py_max),
            label_columns=["variant", "concurrency"],
            xlabel="time per hit relative to a bare redis-py GET + orjson (1.0)",
            title="Cost of a Redis-backed hit (median, min-max)",
        ))  # fmt: skip
    if (frame.part == "stampede").any():
        table = caching.stampede_summary(frame)
        after = table[table.wave == "after expiry"]
        figures.append(plots.ratio_bars(
            after.assign(ratio=after.origin_calls, ratio_min=after.origin_calls_min,
                         ratio_max=after.origin_calls_max),
            label_columns=["mode", "callers"], reference=None,
            xlabel="origin calls (1 is ideal)",
            title="N callers meet an expired hot key: origin calls per stampede mode",
        ))  # fmt: skip
    return figures


def _database_figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    if (frame.part == "pool_size").any():
        table = database.pool_size_summary(frame)
        figures.append(plots.ratio_bars(
            table.assign(ratio=table.rps_vs_naive, ratio_min=table.rps_vs_naive_min,
                         ratio_max=table.rps_vs_naive_max,
                         size=table.pool_size.map(lambda n: f"pool {n}" if n else "naive"),
                         users=table.clients.map(lambda n: f"{n} users")),
            label_columns=["users", "size"],
            xlabel="requests/s relative to a connection per request (1.0)",
            title="Throughput against pool size, closed loop (median, min-max)",
        ))  # fmt: skip
    if (frame.part == "vs_pgbench").any():
        table = database_tables.vs_pgbench(frame)
        figures.append(plots.ratio_bars(
            table.assign(ratio=table.ratio_vs_pgbench_simple,
                         ratio_min=table.ratio_vs_pgbench_simple_min,
                         ratio_max=table.ratio_vs_pgbench_simple_max),
            label_columns=["variant"], xlabel="queries/s relative to pgbench -S -M simple",
            title="A pool of 10 against pgbench with 10 connections, same repeat",
        ))  # fmt: skip
    return figures


def _load_control_figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    points = frame[(frame.part == "convergence") & (frame.kind == "timeline")]
    if len(points):
        figures.append(plots.limit_timeline(
            points, title="The limit each algorithm settles on, against the capacity C"
        ))  # fmt: skip
    conv = load_control_tables.convergence_summary(frame)
    if len(conv):
        limited = conv[conv.variant != "no limiter"]
        figures.append(plots.ratio_bars(
            limited.assign(ratio=limited.p99_ratio, ratio_min=limited.p99_ratio_min,
                           ratio_max=limited.p99_ratio_max),
            label_columns=["scenario", "variant"], reference=2.0,
            xlabel="p99 in overload / p99 under light load (target: at most 2)",
            title="What callers wait under overload, by limiter (median, min-max)",
        ))  # fmt: skip
    mon = load_control_tables.monitoring_summary(frame)
    if len(mon):
        added = mon[mon.variant != "plain"]
        figures.append(plots.ratio_bars(
            added.assign(ratio=added.added_cpu_percent, ratio_min=added.added_cpu_percent_min,
                         ratio_max=added.added_cpu_percent_max),
            label_columns=["stack", "variant"], reference=5.0,
            xlabel="server CPU per request added, % (target: at most 5)",
            title="What request metrics cost a minimal handler (median, min-max)",
        ))  # fmt: skip
    return figures


def _messaging_figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    produce = messaging_tables.produce_summary(frame)
    if len(produce):
        lab = produce[produce.tool == "aiokafka"]
        figures.append(plots.ratio_bars(
            lab.assign(ratio=lab.vs_java, ratio_min=lab.vs_java_min, ratio_max=lab.vs_java_max),
            label_columns=["case"], reference=0.3,
            xlabel="aiokafka messages/s / ProducerPerformance's, same settings (target 0.3)",
            title="Producing from Python, as a share of Kafka's own producer (median, min-max)",
        ))  # fmt: skip
    consume = messaging_tables.consume_summary(frame)
    if len(consume):
        python = consume[~consume.tool.str.startswith("ConsumerPerformance")]
        figures.append(plots.ratio_bars(
            python.assign(ratio=python.vs_java, ratio_min=python.vs_java_min,
                          ratio_max=python.vs_java_max),
            label_columns=["tool"], reference=0.3,
            xlabel="messages/s / ConsumerPerformance fetch.nMsg.sec (target 0.3)",
            title="Consuming from Python, as a share of Kafka's own consumer (median, min-max)",
        ))  # fmt: skip
    scale = messaging_tables.scale_summary(frame)
    if len(scale):
        figures.append(plots.ratio_bars(
            scale.assign(ratio=scale.vs_one, ratio_min=scale.vs_one_min,
                         ratio_max=scale.vs_one_max, label=scale.workers.map(
                             lambda n: f"{n} worker{'s' if n > 1 else ''}")),
            label_columns=["label"], xlabel="messages/s relative to one worker",
            title="Scale-out on 8 partitions (median, min-max)",
        ))  # fmt: skip
    return figures


def _cdn_figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    table = cdn_tables.browser_summary(frame)
    if len(table):
        first = table[table.visit == "first"]
        figures.append(plots.ratio_bars(
            first.assign(ratio=first.vs_unoptimized, ratio_min=first.vs_unoptimized_min,
                         ratio_max=first.vs_unoptimized_max),
            label_columns=["profile", "variant"], reference=0.5,
            xlabel="bytes of a first visit / the unoptimized page's (target for all: < 0.5)",
            title="First visit in Chromium: what each optimization saves (median, min-max)",
        ))  # fmt: skip
        repeat = table[table.visit == "repeat"]
        figures.append(plots.ratio_bars(
            repeat.assign(ratio=repeat.vs_own_first, ratio_min=repeat.vs_own_first_min,
                          ratio_max=repeat.vs_own_first_max),
            label_columns=["profile", "variant"], reference=0.05,
            xlabel="bytes of a repeat visit / the same page's first visit (target: < 0.05)",
            title="Repeat visit, same browser cache (median, min-max)",
        ))  # fmt: skip
        figures.append(plots.latency_bars(
            first, label_columns=["profile", "variant"], columns=("load_ms", "lcp_ms"),
            title="First visit: load event and Largest Contentful Paint, ms (median)",
        ))  # fmt: skip
    rates = cdn_tables.throughput_summary(frame)
    if len(rates):
        figures.append(plots.ratio_bars(
            rates.assign(ratio=rates.vs_aiohttp, ratio_min=rates.vs_aiohttp_min,
                         ratio_max=rates.vs_aiohttp_max),
            label_columns=["case", "server"],
            xlabel="requests/s relative to aiohttp's add_static in the same round",
            title="Static handler throughput, one asset, 16 connections (median, min-max)",
        ))  # fmt: skip
    return figures


def _service_figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    lines = {"p99": 1000.0, "cpu": 70.0}
    for part, title in (
        ("ramp", "Ramp to the target rate and beyond, optimized and naive"),
        ("fault", "Followers service down, then Redis restarted (optimized)"),
    ):
        seconds = service_tables.timeline(frame, part)
        if len(seconds):
            figures.append(plots.slo_timeline(seconds, lines=lines, title=title))
    search = service_tables.search_summary(frame)
    if len(search):
        figures.append(plots.ratio_bars(
            search.assign(ratio=search.max_rate_meeting_slo,
                          ratio_min=search.max_rate_meeting_slo_min,
                          ratio_max=search.max_rate_meeting_slo_max),
            label_columns=["variant"], reference=1000.0,
            xlabel="largest requests/s meeting every latency, error and resource line",
            title="How far each variant goes before the SLO breaks (median, min-max)",
        ))  # fmt: skip
    return figures


EXPERIMENTS: dict[str, Experiment] = {
    "service": Experiment(
        name="service",
        title="The reference service against the SLO: optimized and naive",
        question=(
            "Does the service built from every pattern meet each slo.yaml line at the seed's "
            "1000 requests/s with more than 500 connections, with the load generator on the "
            "same 2-core machine, and what does the naive one (no cache, pool, breaker or "
            "limiter) show beside it? How far does each go before the SLO breaks, and what do "
            "a failing downstream and a Redis restart cost?"
        ),
        run=service.run,
        summary=service_tables.summary,
        figures=_service_figures,
        slo_metrics=service_tables.slo_metrics,
        services=service.SERVICES,
        report_tables=service_tables.report_tables,
    ),
    "baseline": Experiment(
        name="baseline",
        title="Baseline: one round trip to each service from Python",
        question=(
            "How much of each server's capacity can a Python asyncio client use? "
            "Each Python measurement is paired with the server's own tool in the same repeat."
        ),
        run=baseline.run,
        summary=baseline.ratios,
        figures=_baseline_figures,
        slo_metrics=baseline.slo_metrics,
        services=baseline.SERVICES,
    ),
    "loadgen": Experiment(
        name="loadgen",
        title="Load generators: accuracy, stalls, and the cost of a request",
        question=(
            "Does the lab's open-loop generator report what the server did, including a "
            "stall that closed-loop tools hide, and is it ever the bottleneck? Measured "
            "against a simulated server in its own process, beside wrk and Locust."
        ),
        run=loadgen.run,
        summary=loadgen.summary,
        figures=_loadgen_figures,
        slo_metrics=lambda frame: {},
        services=(),
    ),
    "caching": Experiment(
        name="caching",
        title="Caching: hit ratio, stampedes, the cost of a hit, and a Redis outage",
        question=(
            "What does a @cached hit cost next to a bare redis-py GET, cashews and aiocache; "
            "how many origin calls do N callers make when a hot key expires, per stampede "
            "mode; how close does an LRU come to the best hit ratio under skew; and what do "
            "callers see while Redis restarts?"
        ),
        run=caching.run,
        summary=caching.summary,
        figures=_caching_figures,
        slo_metrics=lambda frame: {},
        services=caching.SERVICES,
        report_tables=caching.report_tables,
    ),
    "cdn": Experiment(
        name="cdn",
        title="Static assets: fingerprints, compression, WebP/AVIF and lazy loading in Chromium",
        question=(
            "What does each optimization save a real browser on a first and a repeat visit, "
            "throttled and not: bytes, requests, load event and Largest Contentful Paint? "
            "How many bytes does each image format and text encoding save, and how fast is "
            "the lab's static handler against aiohttp's own?"
        ),
        run=cdn.run,
        summary=cdn_tables.summary,
        figures=_cdn_figures,
        slo_metrics=lambda frame: {},
        services=(),
        report_tables=cdn_tables.report_tables,
    ),
    "database": Experiment(
        name="database",
        title="Database: pool size, the pool against pgbench, pagination, IN lists, indexes",
        question=(
            "What pool size does a service want (measured, and by a Universal Scalability "
            "Law fit)? How close does a Python pool get to pgbench -S, and what does the "
            "release reset cost? What do OFFSET pages, expanded IN lists and missing indexes "
            "cost against keyset pages, = ANY and the seed's indexes?"
        ),
        run=database.run,
        summary=database.summary,
        figures=_database_figures,
        slo_metrics=lambda frame: {},
        services=database.SERVICES,
        report_tables=database.report_tables,
    ),
    "load_control": Experiment(
        name="load_control",
        title="Load control: adaptive concurrency limits and request metrics",
        question=(
            "Does each limit algorithm (AIMD, Vegas, Gradient2, the seed's latency-target "
            "rule) find a server's capacity after a load step, a ramp and a capacity drop, "
            "and keep callers' p99 bounded where an unprotected server's grows? What do the "
            "limiter and the metrics middleware cost, and how far is a p99 computed from "
            "Prometheus buckets from the exact one?"
        ),
        run=load_control.run,
        summary=load_control_tables.summary,
        figures=_load_control_figures,
        slo_metrics=lambda frame: {},
        services=(),
        report_tables=load_control_tables.report_tables,
    ),
    "messaging": Experiment(
        name="messaging",
        title="Messaging: Kafka from Python, at least once, with a dead-letter topic",
        question=(
            "How many messages per second do aiokafka's producer and consumer reach against "
            "Kafka's ProducerPerformance and ConsumerPerformance with the same settings, and "
            "by batch size, linger, compression and record size? Does the batch processor "
            "lose anything when killed, how many duplicates does a crash cost, where do "
            "poison messages go, and does it scale with members?"
        ),
        run=messaging.run,
        summary=messaging_tables.summary,
        figures=_messaging_figures,
        slo_metrics=lambda frame: {},
        services=messaging.SERVICES,
        report_tables=messaging_tables.report_tables,
    ),
    "resilience": Experiment(
        name="resilience",
        title="Resilience: circuit breakers under an outage and a slow-down, bounded processing",
        question=(
            "How fast does each breaker open when the downstream fails, how many calls still "
            "reach it, how soon does it let traffic back, and what does it cost per call? "
            "And does bounded processing follow Little's law with flat memory?"
        ),
        run=resilience.run,
        summary=resilience.summary,
        figures=_resilience_figures,
        slo_metrics=lambda frame: {},
        services=(),
        report_tables=resilience.report_tables,
    ),
}
