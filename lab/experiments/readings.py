"""How to read each experiment's plots: what is compared with what, and which way is good.

The figures themselves are never written here; the report puts the run's headline figures
(:mod:`lab.experiments.headlines`), with their spread, under each reading.
"""

from __future__ import annotations

__all__ = ["READINGS"]

READINGS: dict[str, str] = {
    "service": (
        "The timelines show the hold window of each variant against every slo.yaml line: "
        "a line is met when the observed series stays on the good side of its target for "
        "the whole window in every repeat. The bars show the largest constant rate at "
        "which each variant still meets every latency, error and resource line (found by "
        "bisection); the fault run shows what a failing downstream and a Redis restart "
        "cost in SLO terms and in error budget."
    ),
    "baseline": (
        "Each bar is the Python client's throughput divided by the native tool's "
        "(redis-benchmark, pgbench, Kafka's ProducerPerformance) in the same repeat: "
        "1.0 means Python costs nothing, and everything else in this report is bounded "
        "by these ceilings. The latency bars are one round trip from Python."
    ),
    "loadgen": (
        "The stall scenario freezes the server periodically: an open-loop generator "
        "keeps sending on schedule and its p99 shows the stall, a closed-loop one waits "
        "and hides it (coordinated omission). Saturation compares how many requests/s "
        "each generator gets from one server process and what CPU it spends per request."
    ),
    "resilience": (
        "The timelines show each breaker's calls by outcome through the fault (shaded). "
        "A good breaker lets few calls reach a dead downstream, opens fast, and closes "
        "soon after the downstream recovers; its cost per call on the happy path is "
        "compared with pybreaker and purgatory against a bare await."
    ),
    "caching": (
        "Hit ratio is compared with the best any cache of that size can do on the same "
        "key stream. The stampede plot counts origin calls when N callers meet one "
        "expired key: 1 is ideal, N is no protection. The cost bars divide each cache's "
        "time per hit by a bare redis-py GET in the same repeat (lower is better), so "
        "cashews and aiocache are compared on equal terms."
    ),
    "database": (
        "Throughput against pool size rises and flattens; the recommended size is where "
        "the fitted Universal Scalability Law curve stops paying. The pool is compared "
        "with pgbench at equal connections, OFFSET pagination with keyset at depth, and "
        "the seed's queries before and after their indexes."
    ),
    "load_control": (
        "In virtual time, each algorithm's limit is compared with the true capacity C "
        "after a step, a ramp and a drop: good is close to C, settled fast, with a p99 "
        "under overload near the p99 without. Over real HTTP, goodput and the p99 of "
        "admitted requests show what a limiter buys when offered load exceeds capacity."
    ),
    "messaging": (
        "Producing and consuming are shown as a share of Kafka's own Java perf tools with "
        "the same settings in the same repeat. The crash runs kill the worker mid-stream: "
        "nothing may be lost, and duplicates are bounded by what was in flight."
    ),
    "cdn": (
        "Bytes and requests come from Chromium's own network events, per variant, on a "
        "first and a repeat visit. Each optimization alone is compared with the "
        "unoptimized page; throttled to 10 Mbit/s, the load event and the Largest "
        "Contentful Paint show what the bytes cost a visitor."
    ),
}
