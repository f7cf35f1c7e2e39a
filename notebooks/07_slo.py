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
# # The SLO dashboard: the reference service under the seed's load
#
# `lab serve` is the seed's user service built from the lab's patterns: cached
# profiles, a connection pool with safe queries, a summary that calls a
# followers service through a circuit breaker, registrations published to
# Kafka through an outbox, an adaptive concurrency limit and request metrics.
# Here it is driven by the lab's open-loop generator on the same machine, with
# more than 500 connections and a mix of profiles, post pages and summaries,
# up to the target rate and beyond; then with every pattern switched off
# (naive); then through a failing downstream and a Redis restart. Every line
# of `slo.yaml` is judged over the hold window. The same numbers come from
# `lab run service`, `asv run --bench ServiceBehaviour` and
# `pytest --benchmark-only tests/bench/test_service_bench.py`.

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
from lab.experiments.service import tables
from lab.experiments.stored import open_or_measure

frame = open_or_measure("service", run=run, quick=quick, changes=changes)
tables.targets(frame)

# %% [markdown]
# ## Every SLO line, optimized and naive
#
# The median over repeats with its min-max, the margin to the target (positive
# is inside), and how many repeats passed.

# %%
tables.verdicts(frame)

# %%
figures = EXPERIMENTS["service"].figures(frame)
figures[0]

# %% [markdown]
# ## How far each goes
#
# A bisection over constant rates: the largest one at which every latency,
# error and resource line still holds.

# %%
tables.search_summary(frame)

# %% [markdown]
# ## A failing downstream and a Redis restart
#
# The followers service answers 500 for a while (the breaker opens and
# summaries degrade to `followers: null`), then Redis is stopped and started
# (profiles fail open to PostgreSQL). The error budget is 1 % of requests,
# spent by errors and by answers slower than the p99 line.

# %%
figures[1] if len(figures) > 1 else None

# %%
tables.verdicts(frame, "fault")

# %%
tables.error_budget(frame)
