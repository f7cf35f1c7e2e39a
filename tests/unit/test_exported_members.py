"""Public names are a decision: renaming one must change this test too."""

from __future__ import annotations

import lab.errors
import lab.harness.services
import lab.patterns


def test_error_hierarchy() -> None:
    assert set(lab.errors.__all__) == {
        "LabError", "ConfigError", "ServiceUnavailableError", "CircuitOpenError",
        "LimitExceededError", "PoolTimeoutError",
    }  # fmt: skip
    for name in lab.errors.__all__:
        assert issubclass(getattr(lab.errors, name), lab.errors.LabError)
    assert issubclass(lab.errors.ConfigError, ValueError)
    assert issubclass(lab.errors.PoolTimeoutError, TimeoutError)


def test_services_surface() -> None:
    assert set(lab.harness.services.__all__) == {
        "SERVICES", "Health", "ServiceStatus", "down", "parse_only", "probe", "status", "up",
    }  # fmt: skip


def test_patterns_surface() -> None:
    assert set(lab.patterns.__all__) == set()
