"""``--workers N``: the same load split over N processes, their results merged exactly."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import multiprocessing
import os
import signal
from collections.abc import Iterator
from typing import Any

from lab.harness.aio import STOP_SIGNALS, new_runner
from lab.harness.loadgen.result import LoadResult, merge_results
from lab.harness.loadgen.runner import LoadSettings, run_load_until_stopped

__all__ = ["run_in_workers", "split_settings"]


def split_settings(settings: LoadSettings, workers: int, index: int) -> LoadSettings:
    """One worker's share: every N-th request of the schedule (or 1/N of the users), and
    1/N of the connections."""

    def share(total: int) -> int:
        return total // workers + (1 if index < total % workers else 0)

    if settings.mix is not None:  # each worker its own draw of the same mix
        settings = dataclasses.replace(
            settings, mix=dataclasses.replace(settings.mix, seed=settings.mix.seed + index)
        )
    if settings.mode == "closed":
        return dataclasses.replace(settings, users=max(1, share(settings.users)))
    assert settings.schedule is not None
    return dataclasses.replace(
        settings, schedule=settings.schedule.share(index, workers),
        connections=max(1, share(settings.connections)),
    )  # fmt: skip


def _run_one(settings: LoadSettings) -> dict[str, Any]:
    # The parent decides when to stop, and says so with SIGTERM: a Ctrl-C that reaches the
    # whole process group, or a SIGTERM after this share has ended, changes nothing here.
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    with new_runner() as runner:
        stoppable = run_load_until_stopped(settings, signals=(signal.SIGTERM,))
        return runner.run(stoppable).to_json()


@contextlib.contextmanager
def _stops_forwarded(pool: concurrent.futures.ProcessPoolExecutor) -> Iterator[None]:
    """While the workers run, SIGINT or SIGTERM here is passed on to them as SIGTERM: each
    ends its share early and returns what ran, and the merge goes on."""

    def forward(signum: int, frame: object) -> None:
        for process in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)

    previous = {signum: signal.signal(signum, forward) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_in_workers(settings: LoadSettings, workers: int) -> LoadResult:
    context = multiprocessing.get_context("spawn")
    shares = [split_settings(settings, workers, i) for i in range(workers)]
    with (
        concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool,
        _stops_forwarded(pool),
    ):
        parts = [LoadResult.from_json(data) for data in pool.map(_run_one, shares)]
    merged = merge_results(parts)
    merged.settings = {**settings.describe(), "workers": workers}
    return merged
