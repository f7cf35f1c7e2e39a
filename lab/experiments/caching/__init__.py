"""Caching: hit ratio, stampedes, the cost of a hit, and a Redis outage."""

from __future__ import annotations

from lab.experiments.experiment import Experiment, headline

CLUSTER_NOT_RUN = "not run (start the cluster with `lab services up --redis-cluster`)"

__all__ = ["EXPERIMENT"]

EXPERIMENT = Experiment(
    name="caching",
    title="Caching: hit ratio, stampedes, the cost of a hit, and a Redis outage",
    question="What does a @cached hit cost next to a bare redis-py GET, cashews and aiocache; "
    "how many origin calls do N callers make when a hot key expires, per stampede "
    "mode; how close does an LRU come to the best hit ratio under skew; and what do "
    "callers see while Redis restarts, or while a Redis Cluster master fails over?",
    services=("redis",),
    reading="Hit ratio is compared with the best any cache of that size can do on the same "
    "key stream. The stampede plot counts origin calls when N callers meet one "
    "expired key: 1 is ideal, N is no protection. The cost bars divide each cache's "
    "time per hit by a bare redis-py GET in the same repeat (lower is better), so "
    "cashews and aiocache are compared on equal terms.",
    headlines=(
        headline(
            "LRU hit ratio, 10 % of keys, Zipf 1.0",
            "LRU hit ratio",
            "hit_ratio",
            distribution="zipf",
            skew=1.0,
            size_fraction=0.1,
        ),
        headline(
            "origin calls, 1000 callers at one expiry, single-flight",
            "Origin calls per expiry",
            "origin_calls",
            callers=1000,
            mode="single-flight",
        ),
        headline(
            "origin calls, 1000 callers at one expiry, unprotected",
            "Origin calls per expiry",
            "origin_calls",
            callers=1000,
            mode="none",
        ),
        headline(
            "lab Redis hit, 50 callers: cost / redis-py GET",
            "Cost of a hit",
            "cost_vs_redis_py",
            workload="hit",
            concurrency=50,
            variant="lab redis",
        ),
        headline(
            "lab Redis hits, 50 callers, coalesced: rate / redis-benchmark -P 1 -c 50",
            "Cost of a hit",
            "rate_vs_redis_benchmark",
            "redis-benchmark",
            workload="hit",
            concurrency=50,
            variant="lab redis coalesced",
        ),
        headline(
            "cashews' Redis hit, 50 callers: cost / the lab's",
            "Cost of a hit",
            "cost_vs_redis_py",
            "cashews",
            workload="hit",
            concurrency=50,
            variant="cashews redis",
            over={"workload": "hit", "concurrency": 50, "variant": "lab redis"},
        ),
        headline(
            "aiocache's Redis hit, 50 callers: cost / the lab's",
            "Cost of a hit",
            "cost_vs_redis_py",
            "aiocache",
            workload="hit",
            concurrency=50,
            variant="aiocache redis",
            over={"workload": "hit", "concurrency": 50, "variant": "lab redis"},
        ),
        headline(
            "caller exceptions while a Redis Cluster master fails over, coalesced",
            "Callers while a Redis Cluster master",
            "caller_exceptions",
            not_run=CLUSTER_NOT_RUN,
            variant="coalesced MGET",
            full_coverage=True,
        ),
        headline(
            "seconds from a master's kill until the hit ratio is back, per-key GET",
            "Callers while a Redis Cluster master",
            "hit_ratio_back_after_s",
            missing="still short of it at the end of the run",
            not_run=CLUSTER_NOT_RUN,
            variant="per-key GET",
            full_coverage=True,
        ),
        headline(
            "origin calls while a Redis Cluster master fails over: coverage not required / "
            "required, per-key GET",
            "Callers while a Redis Cluster master",
            "origin_calls_until_back",
            not_run=CLUSTER_NOT_RUN,
            variant="per-key GET",
            full_coverage=False,
            over={"variant": "per-key GET", "full_coverage": True},
        ),
    ),
)
