"""pytest-benchmark tests: skipped by a plain `pytest`; run by `pytest --benchmark-only`,
and run once each (as a smoke test) by `pytest --benchmark-disable`."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("benchmark_only") or config.getoption("benchmark_disable"):
        return
    skip = pytest.mark.skip(reason="benchmark: run with --benchmark-only")
    for item in items:
        if "benchmark" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)
