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
from lab.patterns.document_names import module_attribute_error
from lab.patterns.http_client import HttpResponse, ResilientHTTPClient, fetch_many
from lab.patterns.limit_algorithms import AIMD, Gradient2, LatencyTarget, Vegas
from lab.patterns.limiter import AdaptiveLimiter, FixedLimit
from lab.patterns.limiter_middleware import LimiterASGIMiddleware, aiohttp_limiter_middleware
from lab.patterns.monitoring import (
    MetricsASGIMiddleware,
    RequestCollector,
    RequestMetrics,
    aiohttp_metrics_middleware,
    record_requests,
)

__all__ = [
    "AIMD",
    "AdaptiveLimiter",
    "BreakerMetrics",
    "BreakerStats",
    "CacheBackendError",
    "Cached",
    "CircuitBreaker",
    "CircuitState",
    "ConsecutiveFailures",
    "FailureRate",
    "FixedLimit",
    "Gradient2",
    "HttpResponse",
    "ItemResult",
    "LatencyTarget",
    "LimiterASGIMiddleware",
    "MemoryCache",
    "MetricsASGIMiddleware",
    "RateLimiter",
    "RedisCache",
    "RequestCollector",
    "RequestMetrics",
    "ResilientHTTPClient",
    "SlowCallRate",
    "TieredCache",
    "TripPolicy",
    "Vegas",
    "aiohttp_limiter_middleware",
    "aiohttp_metrics_middleware",
    "bounded_map",
    "cached",
    "fetch_many",
    "record_requests",
]


def __getattr__(name: str) -> object:
    """The document's class names fail with the lab's name for them."""
    raise module_attribute_error(__name__, name)
