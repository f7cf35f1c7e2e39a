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
# # Baseline: what does one round trip cost from Python?
#
# Before any pattern is worth measuring, we need the floor: how fast Redis,
# PostgreSQL and Kafka answer a Python asyncio client on this machine, and how
# much of each server's capacity that client can use. Each Python measurement is
# paired, in the same repeat, with the server's own benchmark tool
# (`redis-benchmark`, `pgbench -S -M prepared`, Kafka's `ProducerPerformance`).
# Read the **ratio**: absolute rates move with the machine's load, ratios from one
# run do not move much.
#
# Needs the servers: `lab services up`. The same numbers come from
# `lab run baseline`, `asv run --python=same --bench Baseline` and
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
from lab.experiments.baseline import tables
from lab.experiments.stored import open_or_measure

frame = open_or_measure("baseline", run=run, quick=quick, changes=changes)
table = tables.ratios(frame)
table

# %% [markdown]
# ## Python / native throughput
#
# A bar at 1.0 would mean the Python client drives the server as hard as its own
# tool. The whisker spans the repeats (min to max); `runs` in the table says how
# many there were.

# %%
ratio_figure, latency_figure = EXPERIMENTS["baseline"].figures(frame)
ratio_figure

# %% [markdown]
# ## Round-trip latency, p50 and p99
#
# From HdrHistograms recorded per worker and merged. At concurrency 32 the
# latency is mostly queueing in the client's event loop, not the server.

# %%
latency_figure

# %% [markdown]
# ## What this shows
#
# Ratios well below 1.0 at concurrency 32 mean the Python process, not the server,
# is the bottleneck: one core of event loop against a server written in C or on
# the JVM. That is the headroom the later patterns (pipelining, batching, pools)
# work with. Kafka `roundtrip` has no native counterpart, so it has no ratio.
