"""Load generators: accuracy, stalls, and the cost of a request."""

from __future__ import annotations

from lab.experiments.experiment import Experiment, headline

__all__ = ["EXPERIMENT"]

EXPERIMENT = Experiment(
    name="loadgen",
    title="Load generators: accuracy, stalls, and the cost of a request",
    question="Does the lab's open-loop generator report what the server did, including a "
    "stall that closed-loop tools hide, and is it ever the bottleneck? Measured "
    "against a simulated server in its own process, beside vegeta, wrk and Locust.",
    services=(),
    reading="The stall scenario freezes the server periodically: an open-loop generator "
    "keeps sending on schedule and its p99 shows the stall, a closed-loop one waits "
    "and hides it (coordinated omission). Saturation compares how many requests/s "
    "each generator gets from one server process and what CPU it spends per request. "
    "vegeta, an independent open-loop generator, is the reference for percentiles and "
    "CPU at the same rate; tls prices https against plain http at one rate.",
    headlines=(
        headline(
            "lab's closed-loop rate at saturation / wrk",
            "",
            "rate_vs_wrk",
            "wrk",
            scenario="saturation",
            tool="lab-closed",
        ),
        headline(
            "lab's CPU per request / Locust FastHttpUser",
            "",
            "cpu_vs_locust",
            "Locust",
            scenario="saturation",
            tool="lab-closed",
        ),
        headline(
            "lab-open's p99 on the stall server / vegeta's",
            "",
            "p99_vs_vegeta",
            "vegeta",
            missing="vegeta is not installed (make tools installs it)",
            scenario="stall",
            tool="lab-open",
        ),
        headline(
            "lab-open's CPU per request / vegeta's, same rate",
            "",
            "cpu_vs_vegeta",
            "vegeta",
            missing="vegeta is not installed (make tools installs it)",
            scenario="accuracy",
            tool="lab-open",
        ),
        headline(
            "lab-open's CPU per request, https / plain http",
            "",
            "cpu_vs_plain_http",
            scenario="tls",
            tool="lab-open https",
        ),
    ),
)
