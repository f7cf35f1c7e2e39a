"""Request metrics through aiohttp's access-log hook, in front of a real aiohttp server:
the same labels as the middleware, and every response counted, whoever made it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import test_utils, web

from lab.patterns.limiter import AdaptiveLimiter, FixedLimit
from lab.patterns.limiter_middleware import aiohttp_limiter_middleware
from lab.patterns.monitoring import UNMATCHED, RequestMetrics
from lab.patterns.monitoring_access_log import ACCESS_LOG, metrics_access_logger
from tests.unit.metrics_app import metrics_app, routed_and_junk, samples_of

Client = test_utils.TestClient[Any, Any]


@asynccontextmanager
async def _served(app: web.Application, metrics: RequestMetrics) -> AsyncIterator[Client]:
    """A test client of ``app`` served with the metrics as its access logger (TestServer
    passes a runner's settings only to ``start_server``)."""
    server = test_utils.TestServer(app)
    await server.start_server(access_log_class=metrics_access_logger(metrics),
                              access_log=ACCESS_LOG)  # fmt: skip
    async with test_utils.TestClient(server) as client:
        yield client


@pytest.fixture
async def client() -> AsyncIterator[tuple[Client, RequestMetrics]]:
    metrics = RequestMetrics()
    async with _served(metrics_app(metrics), metrics) as client:
        yield client, metrics


async def test_labels_routes_statuses_and_exceptions_as_the_middleware_does(
    client: tuple[Client, RequestMetrics],
) -> None:
    http, metrics = client
    for path, status in [("/api/users/1", 200), ("/api/users/2", 200), ("/nowhere", 404),
                         ("/crash", 500), ("/busy", 429)]:  # fmt: skip
        async with http.get(path) as reply:
            assert reply.status == status
    async with http.post("/crash") as reply:
        assert reply.status == 405
    async with http.request("PURGE", "/api/users/1") as reply:
        assert reply.status == 405
    assert metrics.requests == {
        ("GET", "/api/users/{id}", "2xx"): 2, ("GET", UNMATCHED, "4xx"): 1,
        ("GET", "/crash", "5xx"): 1, ("GET", "/busy", "4xx"): 1,
        ("POST", UNMATCHED, "4xx"): 1, ("OTHER", UNMATCHED, "4xx"): 1,
    }  # fmt: skip
    assert metrics.in_progress == {}  # no start event: no in-progress series
    assert sum(d.counts[-1] for d in metrics.durations.values()) == 0  # none above 10 s
    async with http.get("/metrics") as reply:
        text = await reply.text()
    samples = samples_of(text)
    key = (("method", "GET"), ("route", "/api/users/{id}"), ("status", "2xx"))
    assert samples[("http_requests_total", key)] == 2
    count = ("http_request_duration_seconds_count", (("method", "GET"), ("route", "/crash")))
    assert samples[count] == 1


async def test_a_middlewares_refusal_is_counted_with_its_route() -> None:
    """A limiter in front of the handler refuses with 503 before any handler runs: the
    access log still counts it, under the route the request was for."""
    metrics = RequestMetrics()
    limiter = AdaptiveLimiter(FixedLimit(1), mode="reject")
    app = metrics_app(
        metrics, [aiohttp_limiter_middleware(limiter, exempt=frozenset({"/metrics"}))]
    )
    entered, gate = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        entered.set()
        await gate.wait()
        return web.Response(text="done")

    app.router.add_get("/slow", slow)
    async with _served(app, metrics) as http:
        first = asyncio.create_task(http.get("/slow"))
        await entered.wait()  # the first request holds the limiter's one permit
        async with http.get("/slow") as refused:
            assert refused.status == 503
        gate.set()
        async with await first as served:
            assert served.status == 200
    assert metrics.requests == {("GET", "/slow", "5xx"): 1, ("GET", "/slow", "2xx"): 1}


async def test_cardinality_is_bounded_by_routes_not_paths(
    client: tuple[Client, RequestMetrics],
) -> None:
    http, metrics = client

    async def get(path: str) -> None:
        async with http.get(path) as reply:
            await reply.read()

    await routed_and_junk(get, 4_000)
    assert sum(metrics.requests.values()) == 4_000
    assert metrics.series() == 2 + 2  # two (route, status) counters, two routes
