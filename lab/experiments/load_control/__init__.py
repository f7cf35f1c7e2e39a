"""Load control: adaptive concurrency limits and request metrics."""

from __future__ import annotations

from lab.experiments.experiment import Experiment, headline

__all__ = ["EXPERIMENT"]

EXPERIMENT = Experiment(
    name="load_control",
    title="Load control: adaptive concurrency limits and request metrics",
    question="Does each limit algorithm (AIMD, Vegas, Gradient2, the seed's latency-target "
    "rule) find a server's capacity after a load step, a ramp and a capacity drop, "
    "and keep callers' p99 bounded where an unprotected server's grows? What do the "
    "limiter and the metrics middleware cost, and how far is a p99 computed from "
    "Prometheus buckets from the exact one?",
    services=(),
    reading="In virtual time, each algorithm's limit is compared with the true capacity C "
    "after a step, a ramp and a drop: good is close to C, settled fast, with a p99 "
    "under overload near the p99 without. Over real HTTP, goodput and the p99 of "
    "admitted requests show what a limiter buys when offered load exceeds capacity.",
    headlines=(
        headline(
            "gradient2: seconds to settle after a capacity step",
            "Convergence",
            "settle_s",
            missing="did not settle before the run ended",
            scenario="step",
            variant="gradient2",
        ),
        headline(
            "gradient2: p99 under overload / p99 without",
            "Convergence",
            "p99_ratio",
            scenario="step",
            variant="gradient2",
        ),
        headline(
            "goodput over HTTP with gradient2 (requests/s)",
            "Overload over real HTTP",
            "goodput_rps",
            variant="gradient2",
        ),
        headline(
            "goodput over HTTP with no limiter (requests/s)",
            "Overload over real HTTP",
            "goodput_rps",
            variant="no limiter",
        ),
        headline(
            "metrics middleware: added server CPU per request (%, aiohttp)",
            "Request metrics: server CPU per request",
            "added_cpu_percent",
            stack="aiohttp",
            variant="metrics middleware",
        ),
        headline(
            "request metrics around aiohttp's server handler: added server CPU per request (%)",
            "Request metrics: server CPU per request",
            "added_cpu_percent",
            stack="aiohttp",
            variant="metrics server handler",
        ),
        headline(
            "request metrics through aiohttp's access log: added server CPU per request (%)",
            "Request metrics: server CPU per request",
            "added_cpu_percent",
            stack="aiohttp",
            variant="metrics access log",
        ),
    ),
)
