"""The lab's exceptions: one hierarchy, each carrying a sentence a user can act on.

::

    LabError
    ├── ConfigError(ValueError)          bad slo.yaml, bad URL, bad CLI value
    ├── ServiceUnavailableError          a server cannot be reached or started
    ├── CircuitOpenError                 a breaker refuses a call (carries retry_after)
    ├── LimitExceededError               a limiter refuses a call
    └── PoolTimeoutError(TimeoutError)   no connection could be had in time

The CLI prints ``str(error)`` and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations

__all__ = [
    "CircuitOpenError",
    "ConfigError",
    "LabError",
    "LimitExceededError",
    "PoolTimeoutError",
    "ServiceUnavailableError",
]


class LabError(Exception):
    """Root of every error the lab raises on purpose."""


class ConfigError(LabError, ValueError):
    """A setting, file or argument a user gave is wrong; the message says which and why."""


class ServiceUnavailableError(LabError):
    """A server the lab needs is not there; the message names it and how to start it."""

    def __init__(self, service: str, detail: str, hint: str | None = None) -> None:
        self.service = service
        self.detail = detail
        self.hint = hint or "start it with `lab services up`"
        super().__init__(f"{service} is unavailable: {detail}; {self.hint}")


class CircuitOpenError(LabError):
    """A circuit breaker refused the call; try again after ``retry_after`` seconds."""

    def __init__(self, name: str, retry_after: float) -> None:
        self.name = name
        self.retry_after = retry_after
        super().__init__(f"circuit {name!r} is open; retry after {retry_after:.3f} s")


class LimitExceededError(LabError):
    """A concurrency or rate limiter refused the call."""


class PoolTimeoutError(LabError, TimeoutError):
    """No pooled connection became free within the acquire timeout."""
