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
# # Adaptive concurrency limits and request metrics
#
# A server can serve C requests at once; the rest wait in a queue that an
# unprotected server lets grow without bound. Callers arrive open-loop, so
# when the load goes past C the queue, and every caller's wait, grows until
# they time out. A concurrency limiter in front of the server refuses what it
# cannot serve (a fast 503), but only if its limit is near C, and nobody tells
# it C: AIMD, Vegas and Gradient2 (Netflix's concurrency-limits) and the seed's
# latency-target rule each estimate it from round-trip times.
#
# First in virtual time (a deterministic model of the server; the limiters are
# the real code on a clock that jumps), under a load step, a ramp and a drop of
# the capacity to half. Then over real HTTP, with the limiter as aiohttp
# middleware. Then what the limiter and the request metrics cost. The same
# numbers come from `lab run load_control`, `asv run --bench LimiterBehaviour`
# and `pytest --benchmark-only tests/bench/test_load_control_bench.py`.

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
from lab.experiments.load_control import tables
from lab.experiments.stored import open_or_measure

frame = open_or_measure("load_control", run=run, quick=quick, changes=changes)
tables.targets(frame)

# %% [markdown]
# ## Where each limit settles
#
# The dashed line is the capacity C. A limit above it lets a queue build (the
# wait grows); below it, the server idles while callers are refused.

# %%
limits, p99, middleware = EXPERIMENTS["load_control"].figures(frame)
limits

# %%
columns = [
    "scenario",
    "variant",
    "runs",
    "limit_steady",
    "capacity",
    "steady_error",
    "settle_s",
    "goodput_share",
    "p99_ratio",
    "rejected_share",
    "timed_out_share",
]
tables.convergence_summary(frame)[columns]

# %% [markdown]
# ## What if: your capacity, your overload, your limiters
#
# The convergence part again, made small: the same limiters and the same
# simulated server, in virtual time, so it needs no server and answers in a
# second or two. Change the arguments, or use the sliders below in JupyterLab.

# %%
from lab.experiments.load_control.whatif import LIMITERS, show
from lab.harness.sliders import sliders

show(capacity=20, overload=2.0, scenario="step")

# %%
choices = {"all five": LIMITERS, "aimd and gradient2": ("aimd", "gradient2")}
sliders(show, capacity=(5, 100, 5), overload=(0.5, 5.0, 0.25),
        scenario=["step", "ramp", "drop"], limiters=choices)  # fmt: skip

# %% [markdown]
# ## What callers wait under overload
#
# The p99 of answered requests in the second half of the overload, over the
# p99 under light load. Without a limiter nothing is answered in time (see
# `timed_out_share` above), so it has no bar.

# %%
p99

# %% [markdown]
# ## Over real HTTP
#
# A simulated server on 127.0.0.1 (capacity 8, 50 ms per request) with the
# limiter as aiohttp middleware, driven from light load into 2x overload.

# %%
tables.overload_summary(frame)

# %% [markdown]
# ## What it costs
#
# The limiter's uncontended `async with` against a bare `asyncio.Semaphore`,
# in the same run; and the server CPU per request that the request-metrics
# middleware adds to a minimal aiohttp and FastAPI endpoint (each in its own
# process; in each round a stack's endpoints are served at once, at one rate,
# so a neighbour's burst hits all of them alike; the order they start in turns
# each round). "empty middleware" is what aiohttp charges for any middleware at
# all; "metrics server handler" records what the middleware records, around the
# server's request handler instead of in the middleware chain
# (`lab.patterns.monitoring.record_requests`); "metrics access log" records the
# same metrics through aiohttp's access-log hook, with no middleware
# (`lab.patterns.monitoring_access_log`).

# %%
tables.overhead_summary(frame)

# %%
middleware

# %%
tables.monitoring_summary(frame)

# %% [markdown]
# ## Percentiles from Prometheus buckets
#
# A dashboard computes p95 and p99 from histogram buckets by interpolation.
# Here the same requests are timed twice on the server: into the buckets and
# into an HdrHistogram. Where latencies fall in a wide bucket, the dashboard's
# figure is off by the share shown.

# %%
tables.quantile_summary(frame)
