"""asv: how long each notebook "what if" takes to answer with its defaults (#19's goal:
at most 2 s on this machine). No server. ``asv run --python=same --bench WhatIf``."""

from __future__ import annotations

from lab.experiments.caching.whatif import what_if as caching_what_if
from lab.experiments.database.whatif import stored_measurements
from lab.experiments.database.whatif import what_if as usl_what_if
from lab.experiments.load_control.whatif import what_if as limiter_what_if
from lab.experiments.loadgen.whatif import what_if as loops_what_if
from lab.experiments.resilience.whatif import replay as breaker_replay
from lab.experiments.service.whatif import budget, rejudge
from lab.experiments.stored import REFERENCE
from lab.harness.results import Run


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

    def time_loadgen_open_and_closed_loops(self) -> None:
        loops_what_if()


class StoredRunWhatIfAnswer:
    """Seconds per answer of the what-ifs that start from the committed reference run
    (read in setup): ``07_slo``'s re-judge against other targets and objectives, and
    ``03_database``'s USL fit over the stored pool sizes."""

    timeout = 120
    repeat = 5
    number = 1

    def setup(self) -> None:
        self.frame = Run(REFERENCE).read_frame("service")
        self.pool_sizes = stored_measurements(Run(REFERENCE).read_frame("database"))

    def time_slo_rejudge_stored_run(self) -> None:
        rejudge(self.frame, {"latency_p99_ms": 250.0})
        budget(self.frame, availability_percent=99.99)

    def time_database_usl_fit(self) -> None:
        usl_what_if(self.pool_sizes)
