"""The names ``performance-patterns.ja.md`` uses, and what each is called here.

A reader arrives with the document open. ``from lab.patterns import CacheManager`` then
fails with the lab's name for it and the section of ``docs/from-the-document.md`` that
shows the document's example rewritten, instead of a bare ``ImportError``; so does a
method of the document's ``DatabasePool`` called on the lab's.
"""

from __future__ import annotations

from lab.errors import DocumentNameError

__all__ = [
    "CLASSES",
    "GUIDE",
    "POOL_METHODS",
    "DocumentNameError",
    "module_attribute_error",
    "pool_attribute_error",
]

GUIDE = "docs/from-the-document.md"

#: The document's class: (what to use in the lab, the guide's section anchor).
CLASSES: dict[str, tuple[str, str]] = {
    "CacheManager": ("RedisCache (the store) with @cached(store, ttl=...)", "caching"),
    "CDNOptimizer": ("build_assets and rewrite_html from lab.patterns.cdn", "cdn"),
    "QueryOptimizer": (
        "build_select(...) and keyset_page(...) from lab.patterns.query",
        "query-builder",
    ),
    "AsyncProcessor": ("bounded_map(function, items, limit=...)", "async-batches"),
    "PerformantHTTPClient": (
        "ResilientHTTPClient(breaker_factory=...), a CircuitBreaker per host",
        "circuit-breaker",
    ),
    "HighPerformanceMessageProcessor": (
        "KafkaBatchProcessor(bootstrap, topics, group_id, handler) from lab.patterns.messaging",
        "kafka",
    ),
    "PerformanceMonitor": (
        "RequestMetrics with aiohttp_metrics_middleware or MetricsASGIMiddleware",
        "monitoring",
    ),
    "AdaptiveLoadController": ("AdaptiveLimiter(LatencyTarget(...))", "load-control"),
    "LoadControlConfig": (
        "LatencyTarget(target_s, initial, max_limit=..., window_s=...)",
        "load-control",
    ),
    "LoadTester": (
        "run_load(LoadSettings(...)) from lab.harness.loadgen, or `lab loadtest`",
        "load-testing",
    ),
    "LoadTestResult": ("LoadResult", "load-testing"),
}

#: The document's ``DatabasePool`` methods: what to write on the lab's.
POOL_METHODS: dict[str, str] = {
    "create_pool": "`await pool.open()`, or `async with DatabasePool(dsn) as pool:`",
    "acquire_connection": "`async with pool.acquire() as connection:`",
    "execute_query": "`await pool.fetch(sql, *params)`",
    "execute_transaction": "`async with pool.transaction() as connection:` and "
    "`await connection.fetch(sql, *params)` for each statement",
}


def module_attribute_error(module: str, name: str) -> AttributeError | DocumentNameError:
    """The error for ``module.name``: one naming the lab's counterpart when ``name`` is
    one of the document's classes, else Python's usual ``AttributeError``."""
    if name not in CLASSES:
        return AttributeError(f"module {module!r} has no attribute {name!r}", name=name)
    instead, section = CLASSES[name]
    return DocumentNameError(f"{name} is performance-patterns.ja.md's name; in the lab: "
                             f"{instead} (see {GUIDE}#{section})", name=name)  # fmt: skip


def pool_attribute_error(pool: object, name: str) -> AttributeError:
    """The error for ``DatabasePool(...).name``, naming what to write for the document's
    method names."""
    if name not in POOL_METHODS:
        return AttributeError(f"'DatabasePool' object has no attribute {name!r}", name=name,
                              obj=pool)  # fmt: skip
    return AttributeError(f"DatabasePool has no {name} (performance-patterns.ja.md's "
                          f"method); write {POOL_METHODS[name]} (see {GUIDE}#database-pool)",
                          name=name, obj=pool)  # fmt: skip
