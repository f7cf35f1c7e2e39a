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
# (naive); then through a failing downstream and a Redis restart; then at 3x
# the target rate for a minute. Every line of `slo.yaml` is judged over the
# hold window, and Prometheus (`lab services up` runs one) judges the same
# lines from the service's own metrics and fires the objectives' burn-rate
# alerts. The same numbers come from
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
# ### The same lines from Prometheus
#
# PromQL over the service's request histogram and counter, beside the load
# generator's HdrHistogram. The service times a request from when its handler
# starts; the generator from when it was due, queueing in front of the service
# included. `buckets_apart_max`: how many of the histogram's buckets lie
# between the two figures, at most over the repeats.

# %%
tables.prometheus_beside(frame)

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
# (profiles fail open to PostgreSQL). The error budget is each objective's of
# `slo.yaml` (99.9 % not 5xx, 99 % within 1 s): the share of it these requests
# spent.

# %%
from lab.harness import plots


def timeline(part: str, title: str) -> object:
    seconds = tables.timeline(frame, part)
    if len(seconds) == 0:
        return f"This run has no {part} part (it may predate it: pick a newer run)."
    return plots.slo_timeline(seconds, lines={"p99": 1000.0, "cpu": 70.0}, title=title)


timeline("fault", "Followers down, then Redis restarted")

# %%
tables.verdicts(frame, "fault")

# %%
tables.error_budget(frame)

# %% [markdown]
# ## Overload: 3x the target rate for a minute, then the target rate
#
# Enough connections that the overload reaches the service. Its adaptive limit
# and bounded queue shed what it cannot serve with 503s, instead of queueing
# without bound. The question is whether it stays up, how much memory it takes,
# and how soon every line is met again after the drop.

# %%
timeline("overload", "3x the target rate, then the target rate")

# %%
tables.overload_summary(frame)

# %% [markdown]
# What the generator saw and what Prometheus counted at the service. They agree
# on the 5xx; the generator also counts requests it gave up on (timeouts),
# which the service answered later.

# %%
tables.counts_beside(frame)

# %% [markdown]
# ### Burn-rate alerts
#
# The objectives' multi-window, multi-burn-rate alerts (`lab slo rules`), loaded
# into Prometheus for each service with every window divided by 60: the fast
# burn reads 1 min and 5 s instead of 1 h and 5 min. It must stay silent in the
# optimized service's clean ramp, and fire soon after the overload's first
# failures.

# %%
tables.burn_alerts(frame)

# %% [markdown]
# ### Where the service's CPU goes
#
# The optimized service at the target rate while py-spy samples its process, on
# uvloop and on asyncio's own loop (`lab serve --loop`): its CPU per request and
# that CPU against uvloop's in the same repeat, then its samples by the stage of
# the code running (the innermost Python frame) and the functions running most
# often. A profiler error in the first table says why py-spy could not sample
# (it needs ptrace); the CPU per request is measured either way.

# %%
tables.profile_summary(frame)

# %%
tables.profile_shares(frame, "stage")

# %%
tables.profile_shares(frame, "function").groupby("event_loop", sort=False).head(8)

# %% [markdown]
# ## What if: your targets
#
# The stored run re-judged against other targets: each line's hold figure per
# repeat against the value you give, and the fault run's error budget for
# other objectives. No server; instant. The largest rate meeting the SLO is not
# re-judged: it was a bisection whose next rate depended on each verdict, so
# other targets need `lab run service` again.

# %%
from lab.experiments.service.whatif import show, sliders_for

show(frame, p99_ms=250.0, availability_percent=99.99)

# %%
sliders_for(frame)
