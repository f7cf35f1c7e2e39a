"""The reference service: every pattern of the lab in one aiohttp app.

aiohttp rather than FastAPI: the breaker client, the limiter and the request metrics all
have aiohttp integrations, and on this 2-core machine a bare aiohttp handler costs the
server less CPU per request than FastAPI on uvicorn (``lab run load_control`` measures
both stacks' middleware).

``build_app(settings, followers_url)`` returns the app; its resources
(:mod:`lab.service.resources`) open on startup and close on cleanup. Its request metrics
(``app[METRICS]``) are recorded around the server's request handler, not by a middleware:
:func:`lab.service.serve.serve` calls :func:`lab.patterns.monitoring.record_requests` on
its runner (``lab run load_control`` measured that form at about half the middleware's
added CPU per request).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import orjson
import psutil
from aiohttp import web

from lab.patterns.caching import CacheBackendError
from lab.patterns.limit_algorithms import Gradient2
from lab.patterns.limiter import AdaptiveLimiter
from lab.patterns.limiter_middleware import aiohttp_limiter_middleware
from lab.patterns.monitoring import RequestMetrics
from lab.service.handlers import errors_as_json, json_response
from lab.service.openapi import openapi_document
from lab.service.resources import Resources, open_resources
from lab.service.settings import ServiceSettings

__all__ = ["EXEMPT", "METRICS", "RESOURCES", "build_app"]

#: Paths the limiter lets through: scrapes and health checks must work under overload.
EXEMPT = frozenset({"/metrics", "/healthz", "/api/_stats", "/openapi.json"})
RESOURCES: web.AppKey[Resources] = web.AppKey("lab_service", Resources)
METRICS: web.AppKey[RequestMetrics] = web.AppKey("lab_request_metrics", RequestMetrics)


def _limiter() -> AdaptiveLimiter:
    return AdaptiveLimiter(Gradient2(initial=64, min_limit=16, max_limit=512), mode="queue",
                           max_queue=2_000, queue_timeout_s=1.0, name="service")  # fmt: skip


def build_app(settings: ServiceSettings, followers_url: str, *, multiprocess: bool = False
              ) -> web.Application:  # fmt: skip
    """``multiprocess``: this is one of several workers (``PROMETHEUS_MULTIPROC_DIR`` is
    set); ``/metrics`` then merges every worker's figures."""
    metrics = RequestMetrics()
    limiter = _limiter() if settings.limiter else None
    middlewares: list[Any] = [errors_as_json]
    if limiter is not None:
        middlewares.append(aiohttp_limiter_middleware(limiter, exempt=EXEMPT))
    app = web.Application(middlewares=middlewares)
    app[METRICS] = metrics

    async def resources(app: web.Application) -> AsyncIterator[None]:
        app[RESOURCES] = await open_resources(settings, followers_url, metrics, limiter,
                                              multiprocess=multiprocess)  # fmt: skip
        yield
        await app[RESOURCES].close()

    app.cleanup_ctx.append(resources)

    def route(name: str) -> Any:
        async def handle(request: web.Request) -> web.StreamResponse:
            handler = getattr(request.app[RESOURCES].handlers, name)
            return await handler(request)  # type: ignore[no-any-return]

        return handle

    app.router.add_get("/api/users", route("users"))
    app.router.add_post("/api/users", route("register"))
    app.router.add_get("/api/users/{id}", route("user"))
    app.router.add_get("/api/users/{id}/posts", route("posts"))
    app.router.add_get("/api/users/{id}/summary", route("summary"))
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/api/_stats", _stats)
    document = orjson.dumps(openapi_document(settings.max_per_page))

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(body=document, content_type="application/json")

    app.router.add_get("/openapi.json", openapi)
    return app


async def _metrics(request: web.Request) -> web.Response:
    body, content_type = request.app[RESOURCES].metrics_text(request.headers.get("Accept"))
    return web.Response(body=body, headers={"Content-Type": content_type})


async def _health(request: web.Request) -> web.Response:
    found = request.app[RESOURCES]
    checks = {}
    ok, checks["postgres"] = await found.store.healthy()
    if found.cache is not None:
        try:
            await found.cache.get("lab:healthz")
            checks["redis"] = "redis: ok"
        except CacheBackendError as error:
            ok, checks["redis"] = False, str(error)
    return json_response({"status": "ok" if ok else "failing", "checks": checks},
                         status=200 if ok else 503)  # fmt: skip


async def _stats(request: web.Request) -> web.Response:
    """The counters that show which patterns did the work (tests and experiments read it)."""
    found = request.app[RESOURCES]
    limiter, pool, stats = found.limiter, found.pool, found.cache_stats
    posts = found.posts_cache_stats
    followers, registered = found.followers, found.registrations.counters
    breaker = followers.breaker
    process = psutil.Process()
    cpu = process.cpu_times()
    return json_response({
        "pid": os.getpid(),
        "patterns": found.settings.enabled(),
        "process": {"cpu_s": cpu.user + cpu.system, "rss_bytes": process.memory_info().rss},
        "system": {"cpu_percent": psutil.cpu_percent(interval=None),
                   "memory_percent": psutil.virtual_memory().percent},
        "db": {"queries": found.store.counters.queries,
               "connections_opened": found.store.counters.connections_opened,
               "server_connections_percent": await found.store.connections_percent(),
               "pool": pool.sizes() if pool is not None else None},
        "cache": None if stats is None else {"hits": stats.hits, "misses": stats.misses,
                                             "errors": stats.errors},
        "posts_cache": None if posts is None else {"hits": posts.hits, "misses": posts.misses,
                                                   "errors": posts.errors},
        "followers": {"asked": followers.counters.asked, "failed": followers.counters.failed,
                      "short_circuited": followers.counters.short_circuited,
                      "breaker": breaker.state.value if breaker is not None else None},
        "limiter": None if limiter is None else {
            "limit": limiter.limit, "in_flight": limiter.in_flight,
            "acquired": limiter.stats.acquired, "rejected": limiter.stats.rejected,
            "timed_out": limiter.stats.timed_out},
        "registrations": {"published": registered.published,
                          "publish_failed": registered.publish_failed,
                          "relayed": registered.relayed, "handled": registered.handled,
                          "handled_recent": list(registered.handled_ids)},
    })  # fmt: skip
