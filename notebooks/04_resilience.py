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
# # Circuit breakers and bounded processing
#
# A downstream service fails for a few seconds (every answer is a 500), fails
# partly (30 % of answers are 500s), or slows down. Callers keep calling at a
# fixed rate. Without a breaker, every call reaches the failing service; with
# one, calls are refused at once while it is down, and a few trial calls probe
# for recovery.
#
# Each breaker variant (the seed's consecutive-failure rule, failure rate over
# the last calls or the last second, slow-call rate, and pybreaker and
# purgatory when installed) faces a simulated server of its own with the same
# fault at the same moment; the variants run side by side. Then: what a
# breaker costs per call against a bare await, and bounded processing against
# Little's law. The same numbers come from
# `lab run resilience`, `asv run --bench BreakerBehaviour` and
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
from lab.experiments.resilience import tables
from lab.experiments.stored import open_or_measure

frame = open_or_measure("resilience", run=run, quick=quick, changes=changes)
tables.breaker_summary(frame)

# %% [markdown]
# ## Calls by outcome over time
#
# Green succeeded, red failed, grey was refused by the breaker. The shaded band
# is the fault. A good breaker turns the band grey quickly and green again soon
# after it ends.

# %%
timeline, reached, overhead = EXPERIMENTS["resilience"].figures(frame)
timeline

# %% [markdown]
# The lab breakers' transitions, in order (seconds from the start):

# %%
timeline_table = tables.state_timeline(frame)
timeline_table[timeline_table.repeat == 0]

# %%
reached

# %% [markdown]
# ## What if: your policy, your thresholds, your fault
#
# The lab's breaker replayed over a failure trace in virtual time: calls at a
# fixed rate, the downstream's answers from the trace (an outage, 30 % of calls
# failing, or every call slow), calls in flight overlapping as they do against
# a real server. No server; well under a second. Change the arguments, or use
# the sliders below in JupyterLab; `replay(trace=Trace(...))` takes a trace of
# your own.

# %%
from lab.experiments.resilience.whatif import Trace, replay, show  # noqa: F401
from lab.harness.sliders import sliders

show(kind="outage", fault_for_s=4.0, threshold=5, window=20, recovery_s=2.0)

# %%
sliders(show, kind=["outage", "partial", "slowdown"], fault_for_s=(1.0, 10.0, 0.5),
        threshold=(1, 20, 1), rate_percent=(10.0, 100.0, 5.0), window=(5, 100, 5),
        recovery_s=(0.5, 10.0, 0.5))  # fmt: skip

# %% [markdown]
# ## What a breaker costs per call
#
# Microseconds added to a call that does nothing, measured against a bare await
# in the same run.

# %%
overhead

# %%
tables.overhead_summary(frame)

# %% [markdown]
# ## Bounded processing
#
# With a downstream that takes 10 ms, throughput should follow
# limit / latency (Little's law) until something else limits it; peak memory of
# `bounded_map` should not grow with the number of items, unlike gathering one
# task per item.

# %%
summary = tables.summary(frame)
summary[summary.scenario.isin(["bounded", "memory"])].dropna(axis=1, how="all")
