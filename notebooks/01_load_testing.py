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
# # Load testing that never hides a stall
#
# A closed-loop load tester (each user waits for an answer, then sends again)
# sends *less* when the server stalls, so the stall barely shows in its
# percentiles: coordinated omission. The lab's generator is open-loop: requests
# are due on a fixed schedule and latency runs from the time each was *due*.
#
# This notebook runs the same simulated server (in its own process) under the
# lab's open loop, the seed's closed loop (20 users thinking 100 ms), `wrk` and
# Locust, in one run, and asks three questions: does the open loop report the
# server's 20 ms accurately; what does each tool say about a stall; and is the
# lab's generator ever the bottleneck? The same numbers come from
# `lab run loadgen`, `asv run --bench GeneratorComparison` and
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
from lab.experiments.loadgen import tables
from lab.experiments.stored import open_or_measure

frame = open_or_measure("loadgen", run=run, quick=quick, changes=changes)
table = tables.summary(frame)
table

# %% [markdown]
# ## Is the lab's generator ever the bottleneck?
#
# Against one server process, each tool's requests per second as a share of
# `wrk`'s in the same repeat (whisker: min to max over the repeats). The table's
# `cpu_vs_locust` column is the lab's CPU per request as a share of Locust's.

# %%
figures = EXPERIMENTS["loadgen"].figures(frame)
figures[0]

# %% [markdown]
# ## What each tool reports for the same stall
#
# The server answers nothing for a while every few seconds (`stall` rows). The
# open loop's p99 holds most of the stall; the closed loops report a p99 near
# their normal latency or a lower rate instead.

# %%
figures[-1]

# %% [markdown]
# ## What if: your stall, your loads
#
# The same two loops against a model server in virtual time: `workers`
# serving requests in arrival order for `service_ms` each, and one stall of
# `stall_s` at second 5 of 10. The open loop sends `rate` requests per second
# on schedule; the closed loop has `users` who each wait for an answer before
# sending again. Each row says what that tool would report. No server;
# well under a second.

# %%
from lab.experiments.loadgen.whatif import show, sliders_here

show(stall_s=1.0, rate=200.0, users=2, service_ms=10.0, workers=4)

# %%
sliders_here()

# %% [markdown]
# ## What this shows
#
# A percentile from a closed-loop tool describes the requests the tool chose to
# send, not the users who would have arrived. Judge an SLO only on open-loop
# numbers; use closed loops to find a maximum rate.
