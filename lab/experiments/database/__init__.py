"""Database: pool size, the pool against pgbench, pagination, IN lists, indexes."""

from __future__ import annotations

from lab.experiments.experiment import Experiment, headline

__all__ = ["EXPERIMENT"]

EXPERIMENT = Experiment(
    name="database",
    title="Database: pool size, the pool against pgbench, pagination, IN lists, indexes",
    question="What pool size does a service want (measured, and by a Universal Scalability "
    "Law fit)? How close does a Python pool get to pgbench -S, and what does the "
    "release reset cost? What do OFFSET pages, expanded IN lists and missing indexes "
    "cost against keyset pages, = ANY and the seed's indexes?",
    services=("postgres",),
    reading="Throughput against pool size rises and flattens; the recommended size is where "
    "the fitted Universal Scalability Law curve stops paying. The pool is compared "
    "with pgbench at equal connections, OFFSET pagination with keyset at depth, and "
    "the seed's queries before and after their indexes.",
    headlines=(
        headline(
            "pool of 16 / a connection per request, 64 clients (requests/s)",
            "Throughput",
            "rps_vs_naive",
            clients=64,
            variant="pool",
            pool_size=16,
        ),
        headline(
            "DatabasePool acquire+release / asyncpg's",
            "What DatabasePool adds",
            "ratio_vs_asyncpg",
            variant="DatabasePool",
        ),
        headline(
            "DatabasePool (lean engine) acquire+release / asyncpg's",
            "What DatabasePool adds",
            "ratio_vs_asyncpg",
            variant="DatabasePool, lean engine",
        ),
        headline(
            "DatabasePool (lean, reset=none) queries/s / pgbench -S",
            "Pool queries/s",
            "ratio_vs_pgbench_simple",
            "pgbench",
            variant="DatabasePool lean reset=none",
        ),
        headline(
            "OFFSET page 10,000 (ms)",
            "OFFSET against keyset",
            "ms_per_page",
            page=10000,
            method="offset",
        ),
        headline(
            "keyset page 10,000 (ms)",
            "OFFSET against keyset",
            "ms_per_page",
            page=10000,
            method="keyset",
        ),
    ),
)
