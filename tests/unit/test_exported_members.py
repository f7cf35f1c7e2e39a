"""Public names are a decision: renaming one must change this test too."""

from __future__ import annotations

import lab.errors
import lab.harness.services
import lab.patterns


def test_error_hierarchy() -> None:
    """Every exception the lab raises on purpose is in lab.errors, under LabError."""
    assert lab.errors.__all__ == [
        "BadRequest", "CacheBackendError", "CircuitOpenError", "ConfigError",
        "DocumentNameError", "EmailTaken", "LabError",
        "LimitExceededError", "PoolTimeoutError", "ProtocolError", "RangeNotSatisfiable",
        "RetryableStatusError", "ServiceUnavailableError",
    ]  # fmt: skip
    for name in lab.errors.__all__:
        assert issubclass(getattr(lab.errors, name), lab.errors.LabError)
    assert issubclass(lab.errors.ConfigError, ValueError)
    assert issubclass(lab.errors.BadRequest, ValueError)
    assert issubclass(lab.errors.PoolTimeoutError, TimeoutError)
    assert issubclass(lab.errors.DocumentNameError, ImportError)


def test_no_exception_class_outside_lab_errors() -> None:
    """An exception class defined anywhere else in the package is a second hierarchy."""
    import ast
    from pathlib import Path

    package = Path(lab.errors.__file__).parent
    found = []
    for path in package.rglob("*.py"):
        if path.name == "errors.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            bases = [ast.unparse(b) for b in getattr(node, "bases", [])]
            if isinstance(node, ast.ClassDef) and any(
                b.endswith(("Error", "Exception")) for b in bases
            ):
                found.append(f"{path.relative_to(package)}: {node.name}")
    assert found == []


def test_services_surface() -> None:
    assert set(lab.harness.services.__all__) == {
        "SERVICES", "Health", "ServiceStatus", "down", "parse_only", "probe", "status", "up",
    }  # fmt: skip


def test_patterns_surface() -> None:
    assert set(lab.patterns.__all__) == {
        "BreakerMetrics", "BreakerStats", "CircuitBreaker", "CircuitState",
        "ConsecutiveFailures", "FailureRate", "SlowCallRate", "TripPolicy",
        "ItemResult", "RateLimiter", "bounded_map",
        "HttpResponse", "ResilientHTTPClient", "fetch_many",
        "cached", "Cached", "CacheBackendError", "MemoryCache", "RedisCache", "TieredCache",
        "AdaptiveLimiter", "FixedLimit", "AIMD", "Vegas", "Gradient2", "LatencyTarget",
        "aiohttp_limiter_middleware", "LimiterASGIMiddleware",
        "RequestMetrics", "RequestCollector", "aiohttp_metrics_middleware",
        "MetricsASGIMiddleware", "record_requests",
    }  # fmt: skip
    for name in lab.patterns.__all__:
        assert getattr(lab.patterns, name) is not None


def test_caching_surface() -> None:
    import lab.patterns.caching

    assert set(lab.patterns.caching.__all__) == {
        "CacheBackend", "CacheBackendError", "CacheCollector", "CacheStats", "Cached",
        "KeyBuilder", "MemoryCache", "MsgpackSerializer", "OrjsonSerializer",
        "PickleSerializer", "RedisCache", "Serializer", "Stampede", "TieredCache", "cached",
        "serializer_named",
    }  # fmt: skip
    assert issubclass(lab.patterns.caching.CacheBackendError, lab.errors.LabError)


def test_patterns_import_no_experiment_and_no_cli() -> None:
    import subprocess
    import sys

    code = (
        "import sys, lab.patterns; "
        "bad = [m for m in sys.modules if m.startswith(('lab.experiments', 'lab.cli', "
        "'lab.harness'))]; print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_cdn_surface() -> None:
    import lab.patterns.cdn

    assert set(lab.patterns.cdn.__all__) == {
        "IMMUTABLE", "LAZY_LOADER_JS", "REVALIDATE", "AssetEntry", "Manifest",
        "PipelineSettings", "RewriteSettings", "StaticASGIApp", "StaticFiles", "StaticResponse",
        "Variant", "add_static_route", "available_image_formats", "build_assets", "rewrite_html",
    }  # fmt: skip


def test_service_surface() -> None:
    import lab.service

    assert set(lab.service.__all__) == {"PATTERNS", "ServiceSettings", "build_app", "serve"}
