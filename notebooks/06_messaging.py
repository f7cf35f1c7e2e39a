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
# # Kafka from Python: throughput, and processing at least once
#
# How many messages per second does aiokafka produce and consume here, as a
# share of Kafka's own `ProducerPerformance` and `ConsumerPerformance` run
# with the same payload, acks, batching and compression in the same repeat?
# Then the lab's `KafkaBatchProcessor`: poison records, handlers that fail or
# are slow, a worker killed with SIGKILL while messages flow, and more worker
# processes on an 8-partition topic. The same numbers come from
# `lab run messaging`, `asv run --bench MessagingBehaviour` and
# `pytest --benchmark-only tests/bench/test_messaging_bench.py`.

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
from lab.experiments.messaging import tables
from lab.experiments.stored import open_or_measure

frame = open_or_measure("messaging", run=run, quick=quick, changes=changes)
tables.targets(frame)

# %% [markdown]
# ## Producing
#
# One factor changes at a time from 100-byte records in 16 KiB batches with a
# 5 ms linger and acks=1. The ratio is aiokafka's rate over the Java tool's in
# the same repeat.

# %%
figures = EXPERIMENTS["messaging"].figures(frame)
figures[0]

# %%
tables.produce_summary(frame)

# %% [markdown]
# ## Consuming
#
# `fetch.nMsg.sec` leaves out the group join; the bare aiokafka consumer is
# timed the same way (from its first record), and the batch processor from its
# first handled message.

# %%
figures[1]

# %%
tables.consume_summary(frame)

# %% [markdown]
# ## Poison, failures, slow handlers, crashes
#
# Poison records (not JSON) go to the dead-letter topic at once; a handler that
# keeps failing goes there after 3 attempts; slow handlers delay only their own
# key. Nothing is handled twice unless a worker dies, and then at most what it
# had handled since its last commit.

# %%
tables.end_to_end_summary(frame)

# %%
tables.crash_summary(frame)

# %%
lag = tables.lag_timeline(frame)
lag[lag.repeat == 0].plot(
    x="t_s",
    y=["lag", "handled"],
    secondary_y="handled",
    title="Lag (uncommitted records) and handled, first repeat",
)

# %% [markdown]
# ## More workers
#
# Handlers that wait (I/O-bound, up to 4 ms each, 4 at a time per worker):
# each worker added takes its share of the 8 partitions.

# %%
figures[-1]

# %%
tables.scale_summary(frame)

# %% [markdown]
# ## A broker of three killed
#
# On the replicated Kafka (`lab services up --kafka-brokers 3`): the leader of
# partition 0 is SIGKILLed while an idempotent `acks=all` producer, then an
# `acks=1` one, writes and a `KafkaBatchProcessor` group reads. `lost` counts
# acknowledged messages never handled; the pauses are how long acknowledgements
# and handling stopped. Without the cluster, the table says how to start it.

# %%
tables.broker_failure_summary(frame)
