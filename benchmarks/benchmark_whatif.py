"""asv: how long each notebook "what if" takes to answer with its defaults (#19's goal:
at most 2 s on this machine). No server. ``asv run --python=same --bench WhatIf``."""

from __future__ import annotations

from lab.experiments.caching.whatif import what_if as caching_what_if
from lab.experiments.load_control.whatif import what_if as limiter_what_if
from lab.experiments.resilience.whatif import replay as breaker_replay


class WhatIfAnswer:
    """Seconds per answer: the table and the figure a notebook's what-if cell shows."""

    timeout = 120
    repeat = 5
    number = 1

    def time_load_control_limiters(self) -> None:
        limiter_what_if()

    def time_caching_hit_ratio(self) -> None:
        caching_what_if()

    def time_resilience_breaker_replay(self) -> None:
        breaker_replay()
