"""Baseline: one round trip to each service from Python."""

from __future__ import annotations

from lab.experiments.experiment import Experiment, headline

__all__ = ["EXPERIMENT"]

EXPERIMENT = Experiment(
    name="baseline",
    title="Baseline: one round trip to each service from Python",
    question="How much of each server's capacity can a Python asyncio client use? "
    "Each Python measurement is paired with the server's own tool in the same repeat.",
    services=("redis", "postgres", "kafka"),
    reading="Each bar is the Python client's throughput divided by the native tool's "
    "(redis-benchmark, pgbench, Kafka's ProducerPerformance) in the same repeat: "
    "1.0 means Python costs nothing, and everything else in this report is bounded "
    "by these ceilings. The latency bars are one round trip from Python.",
    headlines=(
        headline(
            "redis-py GET, 32 concurrent / redis-benchmark",
            "",
            "ratio",
            "redis-benchmark",
            service="redis",
            operation="get",
            concurrency=32,
        ),
        headline(
            "asyncpg primary-key lookup, 32 concurrent / pgbench",
            "",
            "ratio",
            "pgbench",
            service="postgres",
            operation="pk_lookup",
            concurrency=32,
        ),
        headline(
            "aiokafka produce, 32 concurrent / ProducerPerformance",
            "",
            "ratio",
            "Kafka's perf tools",
            service="kafka",
            operation="produce",
            concurrency=32,
        ),
    ),
)
