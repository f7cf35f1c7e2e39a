"""Reading py-spy's raw samples: each sample in the stage of its innermost frame."""

from __future__ import annotations

from lab.experiments.service.profile import OTHER, stage_samples

RAW = [
    'process 7:"lab serve";_run_once (asyncio/base_events.py:1922);'
    "data_received (aiohttp/web_protocol.py:380) 40",
    "_run_once (asyncio/base_events.py:1922);_handle (aiohttp/web_app.py:560);"
    "user (lab/service/app.py:88) 25",
    "_run_once (asyncio/base_events.py:1922);user (lab/service/app.py:88);"
    "record (lab/patterns/monitoring.py:230) 10",
    "_run_once (asyncio/base_events.py:1922);get (redis/asyncio/client.py:600) 5",
    "select (selectors.py:468) 3",
    "not a sample line",
]


def test_each_sample_goes_to_the_stage_of_the_code_that_was_running() -> None:
    stages, functions = stage_samples(RAW)
    assert stages == {"aiohttp HTTP: parse, respond": 40, "service handlers": 25,
                      "request metrics": 10, "redis-py": 5, "event loop": 3}  # fmt: skip
    assert OTHER not in stages
    assert functions["user (lab/service/app.py)"] == 25
    assert functions["select (selectors.py)"] == 3
    assert sum(stages.values()) == sum(functions.values()) == 83


def test_a_profiler_error_line_counts_no_samples() -> None:
    assert stage_samples(["error: py-spy could not sample the service: exit 1"]) == ({}, {})
