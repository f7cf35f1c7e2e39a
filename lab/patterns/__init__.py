"""The patterns a user studies and copies: one module each, added issue by issue.

This package is a library first: it imports nothing from experiments or the CLI.
"""

from lab.patterns.breaker import (
    BreakerMetrics,
    BreakerStats,
    CircuitBreaker,
    CircuitState,
    ConsecutiveFailures,
    FailureRate,
    SlowCallRate,
    TripPolicy,
)
from lab.patterns.caching import (
    CacheBackendError,
    Cached,
    MemoryCache,
    RedisCache,
    TieredCache,
    cached,
)
from lab.patterns.concurrency import ItemResult, RateLimiter, bounded_map
from lab.patterns.http_client import HttpResponse, ResilientHTTPClient, fetch_many

__all__ = [
    "BreakerMetrics",
    "BreakerStats",
    "CacheBackendError",
    "Cached",
    "CircuitBreaker",
    "CircuitState",
    "ConsecutiveFailures",
    "FailureRate",
    "HttpResponse",
    "ItemResult",
    "MemoryCache",
    "RateLimiter",
    "RedisCache",
    "ResilientHTTPClient",
    "SlowCallRate",
    "TieredCache",
    "TripPolicy",
    "bounded_map",
    "cached",
    "fetch_many",
]
