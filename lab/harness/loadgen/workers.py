"""``--workers N``: the same load split over N processes, their results merged exactly."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
from typing import Any

from lab.harness.aio import new_runner
from lab.harness.loadgen.result import LoadResult, merge_results
from lab.harness.loadgen.runner import LoadSettings, run_load
from lab.harness.loadgen.schedule import Schedule, Stage

__all__ = ["run_in_workers", "split_settings"]


def split_settings(settings: LoadSettings, workers: int, index: int) -> LoadSettings:
    """One worker's share: 1/N of the rate (or users) and of the connections."""

    def share(total: int) -> int:
        return total // workers + (1 if index < total % workers else 0)

    if settings.mix is not None:  # each worker its own draw of the same mix
        settings = dataclasses.replace(
            settings, mix=dataclasses.replace(settings.mix, seed=settings.mix.seed + index)
        )
    if settings.mode == "closed":
        return dataclasses.replace(settings, users=max(1, share(settings.users)))
    assert settings.schedule is not None
    schedule = Schedule(
        tuple(Stage(s.duration_s, s.target_rps / workers) for s in settings.schedule.stages),
        start_rps=settings.schedule.start_rps / workers,
    )
    return dataclasses.replace(
        settings, schedule=schedule, connections=max(1, share(settings.connections))
    )


def _run_one(settings: LoadSettings) -> dict[str, Any]:
    with new_runner() as runner:
        return runner.run(run_load(settings)).to_json()


def run_in_workers(settings: LoadSettings, workers: int) -> LoadResult:
    context = multiprocessing.get_context("spawn")
    shares = [split_settings(settings, workers, i) for i in range(workers)]
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        parts = [LoadResult.from_json(data) for data in pool.map(_run_one, shares)]
    merged = merge_results(parts)
    merged.settings = {**settings.describe(), "workers": workers}
    return merged
