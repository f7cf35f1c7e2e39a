"""pytest-benchmark tests: skipped by a plain `pytest`; run by `pytest --benchmark-only`,
and run once each (as a smoke test) by `pytest --benchmark-disable`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from lab.experiments import EXPERIMENTS
from tests.experiment_frames import SessionFrames


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("benchmark_only") or config.getoption("benchmark_disable"):
        return
    skip = pytest.mark.skip(reason="benchmark: run with --benchmark-only")
    for item in items:
        if "benchmark" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture
def quick_frame(benchmark: Any, frames: SessionFrames) -> Callable[[str], pd.DataFrame]:
    """``quick_frame(name)``: with ``--benchmark-only``, a timed quick run of the
    experiment; in ``make test`` (benchmarks disabled), the session's frame, so the
    experiment is not measured a second time."""

    def frame(name: str) -> pd.DataFrame:
        if benchmark.disabled:  # pedantic then calls once, untimed
            session: pd.DataFrame = benchmark.pedantic(frames, args=(name,))
            return session
        measured: pd.DataFrame = benchmark.pedantic(
            EXPERIMENTS[name].run, kwargs={"quick": True}, rounds=1, iterations=1
        )
        return measured

    return frame
