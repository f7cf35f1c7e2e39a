"""The aiohttp app both forms of request metrics are tested against (the middleware in
test_monitoring_middleware.py, the access log in test_monitoring_access_log.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from lab.patterns.monitoring import RequestCollector, RequestMetrics, metrics_handler

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def registry_of(metrics: RequestMetrics) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(RequestCollector(metrics))
    return registry


def samples_of(text: str) -> Samples:
    """A scrape's samples by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _user(request: web.Request) -> web.Response:
    return web.json_response({"id": int(request.match_info["id"])})


async def _crash(request: web.Request) -> web.Response:
    raise RuntimeError("a bug")


async def _teapot(request: web.Request) -> web.Response:
    raise web.HTTPTooManyRequests()


def metrics_app(metrics: RequestMetrics, middlewares: list[object] | None = None
                ) -> web.Application:  # fmt: skip
    """``/api/users/{id}`` (200), ``/crash`` (an exception), ``/busy`` (429) and
    ``/metrics`` serving ``metrics``."""
    app = web.Application(middlewares=middlewares or [])  # type: ignore[arg-type]
    app.router.add_get("/api/users/{id}", _user)
    app.router.add_get("/crash", _crash)
    app.router.add_get("/busy", _teapot)
    app.router.add_get("/metrics", metrics_handler(registry_of(metrics)))
    return app


async def routed_and_junk(get: Callable[[str], Awaitable[None]], requests: int) -> None:
    """``requests`` GETs, 250 at a time: odd numbers to ``/api/users/{n}``, even ones to
    ``/junk/{n}`` (no route): as many paths as requests, two routes."""
    for start in range(0, requests, 250):
        await asyncio.gather(*(get(f"/api/users/{n}" if n % 2 else f"/junk/{n}")
                               for n in range(start, min(start + 250, requests))))  # fmt: skip
