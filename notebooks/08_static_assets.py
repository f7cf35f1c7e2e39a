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
# # Static assets: what a browser really fetches
#
# A gallery page (24 photos, a stylesheet, a script) is built six ways by the
# lab's asset pipeline: with nothing, with one optimization at a time
# (content-hash names served `immutable`, br/gzip twins, AVIF/WebP at several
# widths in `<picture>`, `loading="lazy"` below the fold), and with all of
# them. Headless Chromium (Debian's, through Playwright) opens each one twice
# in the same browser cache, throttled to 10 Mbit/s with 40 ms of latency and
# unthrottled; the bytes are what DevTools saw come over the wire. The same
# numbers come from `lab run cdn`, `asv run --bench CdnBehaviour` and
# `pytest --benchmark-only tests/bench/test_cdn_bench.py`.

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
from lab.experiments.cdn import tables
from lab.experiments.stored import open_or_measure

frame = open_or_measure("cdn", run=run, quick=quick, changes=changes)
tables.targets(frame)

# %% [markdown]
# ## First visit
#
# Bytes as a share of the unoptimized page's first visit in the same repeat.
# Lazy loading saves most on a long page: Chromium fetches only the images
# within its distance threshold of the viewport (1250 px or more).

# %%
figures = EXPERIMENTS["cdn"].figures(frame)
figures[0]

# %%
browser = tables.browser_summary(frame)
browser[
    [
        "profile",
        "variant",
        "visit",
        "runs",
        "bytes",
        "bytes_min",
        "bytes_max",
        "requests",
        "images_requested",
        "load_ms",
        "lcp_ms",
    ]
]

# %% [markdown]
# ## Repeat visit
#
# Without hashed names every asset is revalidated (a `304` per request: few
# bytes but a round trip each); with them, the browser takes every asset from
# its cache and asks only for the page.

# %%
figures[1]

# %%
browser[browser.visit == "repeat"][
    ["profile", "variant", "requests", "from_cache", "not_modified", "bytes", "vs_own_first"]
]

# %% [markdown]
# ## Load event and Largest Contentful Paint

# %%
figures[2]

# %% [markdown]
# ## Bytes per format and encoding
#
# Every photo summed per representation, and each text asset per encoding.
# The photos are synthetic (smooth fields with noise) and the stylesheet is
# generated; the script is real (matplotlib's web backend). Savings depend on
# content: measure your own with `lab assets build SRC OUT`.

# %%
tables.savings_summary(frame)

# %% [markdown]
# ## The handler against aiohttp's static route
#
# One server process, the same files; requests/s in the same round, closed
# loop with 16 connections. `StaticFiles` holds files up to 1 MiB in memory;
# the "from disk" row reads them per request, as aiohttp does.

# %%
figures[3] if len(figures) > 3 else None

# %%
tables.throughput_summary(frame)
