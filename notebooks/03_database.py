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
# # Database: the pool size a service wants, and what queries cost
#
# The seed opens an asyncpg pool of fixed size with no view of waiting,
# builds SQL with f-strings, expands `IN` lists into one placeholder per value
# and pages with `OFFSET`. Here: an aiohttp endpoint backed by
# `lab.patterns.pool.DatabasePool` is driven by the lab's load generator at
# each pool size, against the naive connection-per-request service; the pool
# is set against `pgbench -S` at equal connections; and the query builder's
# `= ANY` and keyset pages against expanded `IN` and `OFFSET`. The same numbers
# come from `lab run database`, `asv run --bench DatabaseBehaviour` and
# `pytest --benchmark-only tests/bench`.

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
from lab.experiments.database import tables
from lab.experiments.stored import open_or_measure

frame = open_or_measure("database", run=run, quick=quick, changes=changes)
sizes_figure, pgbench_figure = EXPERIMENTS["database"].figures(frame)

# %% [markdown]
# ## Pool size
#
# Requests per second relative to the naive service at the same number of
# closed-loop users (16 and 64; 64 only in quick mode). `recommended` is the
# measured size nearest the peak of a Universal Scalability Law fit over that
# row's pool sizes; `measured_best` the size with the highest median rate.

# %%
sizes_figure

# %%
tables.pool_size_summary(frame)

# %% [markdown]
# ### What if: your own pool-size measurements
#
# The Universal Scalability Law fitted to the stored run's pool sizes (or to
# yours: `measurements="1:500, 4:1800, 16:3000, 64:2500"`, pool size:requests
# per second, at least three): contention `sigma`, coherency `kappa`, the peak
# when there is one, and the recommended size, the smallest that reaches
# `enough_percent` of the best the curve reaches over the measured sizes,
# never past the peak. No server; instant.

# %%
from lab.experiments.database.whatif import show, sliders_for

show(frame)  # at the most users the run measured; clients=16 for another count

# %%
sliders_for(frame)

# %% [markdown]
# ## The pool against pgbench
#
# Ten workers through a pool of ten against `pgbench -S` with ten
# connections, in the same repeat. The release reset (`RESET ALL` and
# friends) is a second round trip per lease; the `lean` engine hands a
# released connection straight to the next caller without asyncpg's task per
# lease.

# %%
pgbench_figure

# %%
tables.vs_pgbench(frame)

# %%
tables.acquire_summary(frame)

# %% [markdown]
# Where acquire+release's time goes: the same lease built up in stages over
# one asyncpg pool, each stage measured beside the pool in every round
# (`lab/experiments/database/acquire_stages.py`); the last stage is the same
# lease over the lean engine, which hands a released connection on without
# asyncpg's task per release.

# %%
tables.acquire_stages(frame)

# %% [markdown]
# ## Pages, IN lists and indexes
#
# `OFFSET` reads and discards every row before the page; a keyset page seeks
# to it. An expanded `IN` is a new statement (and plan) for every list length;
# `= ANY($1)` is one.

# %%
tables.pagination_summary(frame)

# %%
tables.in_list_summary(frame)

# %%
tables.index_summary(frame)
