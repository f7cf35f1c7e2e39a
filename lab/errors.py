"""The lab's exceptions: one hierarchy, each carrying a sentence a user can act on.

::

    LabError
    ├── ConfigError(ValueError)          bad slo.yaml, bad URL, bad CLI value
    ├── ServiceUnavailableError          a server cannot be reached or started
    ├── CacheBackendError                a cache store failed or was too slow
    ├── CircuitOpenError                 a breaker refuses a call (carries retry_after)
    ├── RetryableStatusError             a 5xx or 429 answer, for a breaker to count
    ├── LimitExceededError               a limiter refuses a call
    ├── PoolTimeoutError(TimeoutError)   no connection could be had in time
    ├── ProtocolError                    a server's answer is not HTTP/1.1
    ├── RangeNotSatisfiable              a byte range wholly past the end (HTTP 416)
    ├── BadRequest(ValueError)           a request the reference service refuses (400, 409, 422)
    ├── EmailTaken                       a registration of an email a user has (a 409)
    └── DocumentNameError(ImportError)   an import of performance-patterns.ja.md's name

The CLI prints ``str(error)`` and exits non-zero; it never shows a traceback for these.
The patterns re-export the ones they raise (``lab.patterns.caching.CacheBackendError``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab.patterns.http_client import HttpResponse

__all__ = [
    "BadRequest",
    "CacheBackendError",
    "CircuitOpenError",
    "ConfigError",
    "DocumentNameError",
    "EmailTaken",
    "LabError",
    "LimitExceededError",
    "PoolTimeoutError",
    "ProtocolError",
    "RangeNotSatisfiable",
    "RetryableStatusError",
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


class CacheBackendError(LabError):
    """The cache store failed or was too slow; the message names the store and the cause.
    ``cached`` survives it by calling the origin directly."""


class RetryableStatusError(LabError):
    """A response whose status means 'try again later' (5xx, 429). The HTTP client raises
    it only inside, so its breaker counts it; callers get the final response back."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(f"HTTP {response.status}")
        self.response = response


class ProtocolError(LabError):
    """The server sent something that is not an HTTP/1.1 response."""


class RangeNotSatisfiable(LabError):
    """A well-formed single byte range that lies wholly past the end: answer 416."""


class BadRequest(LabError, ValueError):
    """A request the reference service refuses; ``status`` is 400, 409 or 422. ``details``
    go into the JSON error beside the message (a 409 carries the existing user's id)."""

    def __init__(self, message: str, status: int = 400, **details: object) -> None:
        super().__init__(message)
        self.status = status
        self.details = details


class EmailTaken(LabError):
    """A registration of an email (in any case) that the user ``existing_id`` has."""

    def __init__(self, existing_id: int | None) -> None:
        super().__init__(f"the email is registered already (user {existing_id})")
        self.existing_id = existing_id


class DocumentNameError(LabError, ImportError):
    """An import of one of ``performance-patterns.ja.md``'s names; the message names the
    lab's counterpart. An ``ImportError``, so that ``from lab.patterns import
    CacheManager`` shows this message rather than a generic one."""
