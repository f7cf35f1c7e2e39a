"""The lab's load generator: open-loop HTTP/1.1 load that never hides a stall."""

from lab.harness.loadgen.mix import RequestMix, parse_mix
from lab.harness.loadgen.result import LoadResult, merge_results
from lab.harness.loadgen.runner import (
    LoadSettings,
    parse_status_ranges,
    run_load,
    run_load_until_stopped,
)
from lab.harness.loadgen.schedule import (
    Schedule,
    Stage,
    parse_duration,
    parse_segment,
    parse_stages,
)
from lab.harness.loadgen.workers import run_in_workers

__all__ = [
    "LoadResult",
    "LoadSettings",
    "RequestMix",
    "Schedule",
    "Stage",
    "merge_results",
    "parse_duration",
    "parse_mix",
    "parse_segment",
    "parse_stages",
    "parse_status_ranges",
    "run_in_workers",
    "run_load",
    "run_load_until_stopped",
]
