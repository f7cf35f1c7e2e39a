"""The reference service against the SLO: optimized and naive."""

from __future__ import annotations

from lab.experiments.experiment import Experiment, headline

__all__ = ["EXPERIMENT"]

#: A search whose every probe failed found no rate, not a rate of 0.
ZERO_RATE = "none: it failed a line at the lowest rate probed"

EXPERIMENT = Experiment(
    name="service",
    title="The reference service against the SLO: optimized and naive",
    question="Does the service built from every pattern meet each slo.yaml line at the seed's "
    "1000 requests/s with more than 500 connections, with the load generator on the "
    "same 2-core machine, and what does the naive one (no cache, pool, breaker or "
    "limiter) show beside it? How far does each go before the SLO breaks, and what do "
    "a failing downstream and a Redis restart cost?",
    services=("redis", "postgres", "kafka"),
    reading="The timelines show the hold window of each variant against every slo.yaml line: "
    "a line is met when the observed series stays on the good side of its target for "
    "the whole window in every repeat. The bars show the largest constant rate at "
    "which each variant still meets every latency, error and resource line (found by "
    "bisection); the fault run shows what a failing downstream and a Redis restart "
    "cost in SLO terms and in error budget.",
    headlines=(
        headline(
            "SLO lines met in every repeat, optimized, at the target rate",
            "Target",
            "lines_passed_every_repeat",
            variant="optimized",
        ),
        headline(
            "SLO lines met in every repeat, naive",
            "Target",
            "lines_passed_every_repeat",
            variant="naive",
        ),
        headline(
            "largest rate meeting the SLO, optimized (requests/s)",
            "Largest",
            "max_rate_meeting_slo",
            zero=ZERO_RATE,
            variant="optimized",
        ),
        headline(
            "largest rate meeting the SLO, naive (requests/s)",
            "Largest",
            "max_rate_meeting_slo",
            zero=ZERO_RATE,
            variant="naive",
        ),
        headline(
            "p99 in the hold window, optimized (ms)",
            "Every slo.yaml line",
            "measured",
            variant="optimized",
            metric="latency_p99_ms",
        ),
        headline(
            "Prometheus' p99 in the hold, buckets from HdrHistogram's, optimized (largest)",
            "The hold's lines from Prometheus",
            "buckets_apart_max",
            variant="optimized",
            metric="latency_p99_ms",
        ),
        headline(
            "seconds every SLO line took to be met again after the 3x overload",
            "Overload",
            "every_line_back_s",
            missing="not met again before the run ended",
        ),
        headline("limiter refusals in the 3x overload", "Overload", "limiter_refusals"),
        headline(
            "optimized service CPU per request at the target rate (us)",
            "Where the optimized service's CPU goes at the target rate",
            "cpu_us_per_request",
            variant="optimized",
            event_loop="uvloop",
            switch="none",
        ),
        headline(
            "optimized service CPU per request, asyncio's own loop / uvloop (same repeat)",
            "Where the optimized service's CPU goes at the target rate",
            "cpu_vs_uvloop",
            variant="optimized",
            event_loop="asyncio",
            switch="none",
        ),
        headline(
            "fast-burn alert after the overload's first failures (s, windows scaled)",
            "Burn-rate alerts",
            "fired_after_failures_s",
            run="overload",
            missing="did not fire",
        ),
        headline(
            "seconds the fast-burn alert fired in a clean run (optimized ramp; counted only "
            "where Prometheus evaluated the rules over it)",
            "Burn-rate alerts",
            "fast_burn_seconds",
            run="ramp, optimized",
            not_run="not measured (no Prometheus of lab services up, or it had not evaluated "
            "the alert rules over the ramp)",
        ),
        headline(
            "requests answered in the fault run (what its error budgets are shares of)",
            "Fault run: error budget",
            "requests",
            objective="availability",
        ),
        headline(
            "availability error budget spent in the fault run",
            "Fault run: error budget",
            "budget_spent",
            missing="not measured (the fault run answered no request)",
            objective="availability",
        ),
        headline(
            "latency error budget spent in the fault run",
            "Fault run: error budget",
            "budget_spent",
            missing="not measured (the fault run answered no request)",
            objective="latency",
        ),
    ),
)
