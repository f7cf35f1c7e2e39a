"""Resilience: circuit breakers under an outage and a slow-down, bounded processing."""

from __future__ import annotations

from lab.experiments.experiment import Experiment, headline

__all__ = ["EXPERIMENT"]

EXPERIMENT = Experiment(
    name="resilience",
    title="Resilience: circuit breakers under an outage and a slow-down, bounded processing",
    question="How fast does each breaker open when the downstream fails, how many calls still "
    "reach it, how soon does it let traffic back, and what does it cost per call? "
    "And does bounded processing follow Little's law with flat memory?",
    services=(),
    reading="The timelines show each breaker's calls by outcome through the fault (shaded). "
    "A good breaker lets few calls reach a dead downstream, opens fast, and closes "
    "soon after the downstream recovers; its cost per call on the happy path is "
    "compared with pybreaker and purgatory against a bare await.",
    headlines=(
        headline(
            "calls reaching a dead downstream, consecutive(5) breaker",
            "Outage",
            "reached_during_fault",
            variant="consecutive(5)",
        ),
        headline(
            "calls reaching a dead downstream, no breaker",
            "Outage",
            "reached_during_fault",
            variant="no breaker",
        ),
        headline(
            "seconds to open, consecutive(5)", "Outage", "time_to_open_s", variant="consecutive(5)"
        ),
        headline(
            "seconds to recover, consecutive(5)",
            "Outage",
            "time_to_recover_s",
            variant="consecutive(5)",
        ),
        headline(
            "lab breaker overhead per call (ns)",
            "Cost per call",
            "overhead_ns",
            variant="lab CLOSED",
        ),
        headline(
            "pybreaker's overhead per call / the lab breaker's",
            "Cost per call",
            "overhead_ns",
            "pybreaker",
            variant="pybreaker CLOSED",
            over={"variant": "lab CLOSED"},
        ),
        headline(
            "purgatory's overhead per call / the lab breaker's",
            "Cost per call",
            "overhead_ns",
            "purgatory",
            variant="purgatory CLOSED",
            over={"variant": "lab CLOSED"},
        ),
    ),
)
