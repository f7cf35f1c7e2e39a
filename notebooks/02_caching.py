# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Caching: what a hit costs, what a stampede costs, and what an outage costs
#
# The seed's `@cached` hashes `repr()` with md5, cannot tell a cached `None`
# from a miss, lets every concurrent miss call the origin, and crashes its
# caller when Redis is down. `lab.patterns.caching` fixes each of those; this
# notebook measures what that buys and what it costs, against a bare redis-py
# `GET`, `redis-benchmark`, cashews and aiocache, all in the same run.
# The same numbers come from `lab run caching`,
# `asv run --bench CachingBehaviour` and `pytest --benchmark-only tests/bench`.

# %% tags=["parameters"]
quick = False
# "newest": your newest stored run of this experiment (results/), else the run committed
# with the repository (reference/): figures in seconds, no server needed.
# "measure": measure now against the servers (`lab services up`), quick or full.
# Or a run's folder, such as "../results/20261129T231200Z-abc1234".
run = "newest"
# With "measure": settings to change by name, such as {"repeats": 1}.
changes: dict = {}

# %%
# %matplotlib inline
from lab.experiments import EXPERIMENTS
from lab.experiments.caching import tables
from lab.experiments.stored import open_or_measure

frame = open_or_measure("caching", run=run, quick=quick, changes=changes)
cost_figure, stampede_figure, *failover_figure = EXPERIMENTS["caching"].figures(frame)

# %% [markdown]
# ## The cost of a hit and a miss
#
# `cost_vs_redis_py` is the time per call relative to a bare redis-py `GET`
# plus `orjson.loads`, in the same repeat (1.10 means 10 % slower). At
# concurrency 50, `rate_vs_redis_benchmark` compares throughput with
# `redis-benchmark -P 1 -c 50`: coalescing the GETs of one event-loop tick
# into one `MGET` is what lets Python approach it.

# %%
cost_figure

# %%
tables.cost_summary(frame)[
    [
        "workload",
        "concurrency",
        "variant",
        "ops_s",
        "cost_vs_redis_py",
        "cost_vs_redis_py_min",
        "cost_vs_redis_py_max",
        "rate_vs_redis_benchmark",
        "runs",
    ]
]

# %% [markdown]
# ## A hot key expires under N concurrent callers
#
# One wave of N callers arrives shortly before expiry, another just after.
# Without protection every caller of the second wave calls the origin; with
# single-flight or the Redis lock, one does. With early refresh (XFetch), a
# caller of the first wave refreshes the value in the background, so the second
# wave finds a fresh value and nobody waits for the origin.

# %%
stampede_figure

# %%
tables.stampede_summary(frame)

# %% [markdown]
# ## Hit ratio under skew
#
# An LRU's hit ratio against the best any cache of that size could reach (the
# probability mass of the most popular keys). Under uniform keys no cache can
# do better than its share of the key space.

# %%
tables.hit_ratio_summary(frame)

# %% [markdown]
# ### What if: your cache size, your skew
#
# The same LRU simulation for the skew and sizes you choose: no server, under
# a second. Change the arguments, or use the sliders below in JupyterLab.

# %%
from lab.experiments.caching.whatif import show as show_hit_ratio
from lab.harness.sliders import sliders

show_hit_ratio(skew=1.0, keyspace=2_000)

# %%
sliders(show_hit_ratio, skew=(0.2, 2.0, 0.1), keyspace=(500, 20_000, 500))

# %% [markdown]
# ## Redis stopped and started again
#
# Callers at a fixed rate; Redis is stopped, then started. While it is down,
# every call goes to the origin (5 ms) and no caller sees an exception; after
# it returns, the store is retried once `retry_after_s` has passed.

# %%
tables.outage_summary(frame)

# %% [markdown]
# ## A Redis Cluster master killed
#
# Callers at a fixed rate through `RedisCache(cluster_nodes=...)` on a cluster of
# three masters with a replica each (`lab services up --redis-cluster`), per-key
# `GET` and coalesced `MGET`. One master is SIGKILLed; its replica is promoted
# after the cluster's node timeout (2 s). `caller_exceptions` should be 0 (the
# cache fails open), `hit_ratio_back_after_s` is how long until every 100 ms of
# calls hits at least 95 % as often as before the kill, and
# `cache_errors_after_promotion` shows whether the client's slot map followed the
# new topology. Without the cluster, the table says how to start it.

# %%
tables.failover_summary(frame)

# %%
failover_figure[0] if failover_figure else "no failover measured in this run"
