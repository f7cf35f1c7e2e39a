"""Request metrics and the limiter in front of real aiohttp servers and a FastAPI app."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import test_utils, web
from fastapi import FastAPI, HTTPException

from lab.patterns.limiter import AdaptiveLimiter, FixedLimit
from lab.patterns.limiter_middleware import LimiterASGIMiddleware, aiohttp_limiter_middleware
from lab.patterns.monitoring import (
    UNMATCHED,
    MetricsASGIMiddleware,
    RequestMetrics,
    aiohttp_metrics_middleware,
    histogram_quantile,
    metrics_asgi_app,
    record_requests,
)
from tests.polling import eventually_async
from tests.unit.metrics_app import metrics_app, registry_of, routed_and_junk, samples_of

# --- aiohttp ------------------------------------------------------------------------------


FORMS = ("middleware", "server handler")


async def _started(app: web.Application, metrics: RequestMetrics, form: str,
                   **server: object) -> test_utils.TestServer:  # fmt: skip
    """``app`` served, its requests recorded as a middleware (added here) or around the
    server's handler (``record_requests``)."""
    if form == "middleware":
        app.middlewares.insert(0, aiohttp_metrics_middleware(metrics))
    started = test_utils.TestServer(app, **server)  # type: ignore[arg-type]
    await started.start_server()
    if form == "server handler":
        assert started.runner is not None
        record_requests(started.runner, metrics)
    return started


@pytest.fixture(params=FORMS)
async def aiohttp_app(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[test_utils.TestClient, RequestMetrics]]:
    metrics = RequestMetrics()
    server = await _started(metrics_app(metrics), metrics, request.param)
    async with test_utils.TestClient(server) as client:
        yield client, metrics


async def test_aiohttp_labels_routes_statuses_and_exceptions(
    aiohttp_app: tuple[test_utils.TestClient, RequestMetrics],
) -> None:
    client, metrics = aiohttp_app
    for path, status in [("/api/users/1", 200), ("/api/users/2", 200), ("/nowhere", 404),
                         ("/crash", 500), ("/busy", 429)]:  # fmt: skip
        async with client.get(path) as reply:
            assert reply.status == status
    assert metrics.requests == {
        ("GET", "/api/users/{id}", "2xx"): 2, ("GET", UNMATCHED, "4xx"): 1,
        ("GET", "/crash", "5xx"): 1, ("GET", "/busy", "4xx"): 1,
    }  # fmt: skip
    assert metrics.in_progress == {"GET": 0}
    async with client.get("/metrics") as reply:
        samples = samples_of(await reply.text())
    key = (("method", "GET"), ("route", "/api/users/{id}"), ("status", "2xx"))
    assert samples[("http_requests_total", key)] == 2
    count = ("http_request_duration_seconds_count", (("method", "GET"), ("route", "/crash")))
    assert samples[count] == 1


async def test_aiohttp_cardinality_is_bounded_by_routes_not_paths(
    aiohttp_app: tuple[test_utils.TestClient, RequestMetrics],
) -> None:
    client, metrics = aiohttp_app

    async def get(path: str) -> None:
        async with client.get(path) as reply:
            await reply.read()

    await routed_and_junk(get, 2_000)
    assert sum(metrics.requests.values()) == 2_000
    assert metrics.series() == 2 + 2 + 1  # two (route, status) counters, two routes, GET


@pytest.mark.parametrize("form", FORMS)
async def test_aiohttp_counts_a_request_its_client_hung_up_on_as_499(form: str) -> None:
    """With aiohttp's handler_cancellation, a client that hangs up cancels its handler:
    the request is counted once, as a 4xx (499), not as a server error, and is no longer
    in progress."""
    metrics, entered = RequestMetrics(), asyncio.Event()

    async def never(request: web.Request) -> web.Response:
        entered.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_get("/never", never)
    server = await _started(app, metrics, form, handler_cancellation=True)
    async with test_utils.TestClient(server) as client:
        asked = asyncio.create_task(client.get("/never"))
        await entered.wait()
        asked.cancel()  # the client gives up and closes its connection
        with pytest.raises(asyncio.CancelledError):
            await asked
        assert await eventually_async(lambda: sum(metrics.requests.values()) == 1)
    assert metrics.requests == {("GET", "/never", "4xx"): 1}
    assert metrics.in_progress == {"GET": 0}


async def test_aiohttp_server_handler_counts_what_the_middlewares_answered() -> None:
    """Around the server's handler, the metrics are outside every middleware: a request
    a middleware turned away (here a 401, before routing's handler ran) is counted under
    its route, as the first middleware in the chain would count it."""
    metrics = RequestMetrics()

    @web.middleware
    async def locked(request: web.Request, handler: object) -> web.StreamResponse:
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized()
        return await handler(request)  # type: ignore[operator,no-any-return]

    app = metrics_app(metrics, [locked])
    server = await _started(app, metrics, "server handler")
    async with test_utils.TestClient(server) as client:
        for path in ("/api/users/1", "/busy", "/api/users/2"):
            async with client.get(path) as reply:
                await reply.read()
    assert metrics.requests == {("GET", "/api/users/{id}", "4xx"): 2, ("GET", "/busy", "4xx"): 1}


def test_record_requests_needs_a_runner_that_is_set_up() -> None:
    runner = web.AppRunner(web.Application())
    with pytest.raises(RuntimeError, match=r"runner\.setup"):
        record_requests(runner, RequestMetrics())


# --- ASGI (FastAPI) -----------------------------------------------------------------------


def _fastapi(metrics: RequestMetrics) -> FastAPI:
    api = FastAPI()

    @api.get("/api/users/{user_id}")
    async def user(user_id: int) -> dict[str, int]:
        if user_id == 0:
            raise HTTPException(status_code=404, detail="no such user")
        return {"id": user_id}

    @api.get("/crash")
    async def crash() -> None:
        raise RuntimeError("a bug")

    api.mount("/metrics", metrics_asgi_app(registry_of(metrics)))
    return api


async def test_asgi_labels_route_templates_and_counts_an_exception_as_500() -> None:
    metrics = RequestMetrics()
    app = MetricsASGIMiddleware(_fastapi(metrics), metrics)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://lab") as client:
        assert (await client.get("/api/users/7")).status_code == 200
        assert (await client.get("/api/users/0")).status_code == 404
        assert (await client.get("/api/users/x")).status_code == 422
        assert (await client.get("/nowhere/at/all")).status_code == 404
        assert (await client.get("/crash")).status_code == 500
        for n in range(2_000):
            await client.get(f"/random/{n}")
        samples = samples_of((await client.get("/metrics/")).text)
    assert metrics.requests[("GET", "/api/users/{user_id}", "2xx")] == 1
    assert metrics.requests[("GET", "/api/users/{user_id}", "4xx")] == 2
    assert metrics.requests[("GET", UNMATCHED, "4xx")] == 2_001
    assert metrics.requests[("GET", "/crash", "5xx")] == 1
    key = (("method", "GET"), ("route", "/crash"), ("status", "5xx"))
    assert samples[("http_requests_total", key)] == 1
    assert set(metrics.durations) == {("GET", "/api/users/{user_id}"), ("GET", UNMATCHED),
                                      ("GET", "/crash"), ("GET", "/metrics")}  # fmt: skip
    assert metrics.requests[("GET", "/metrics", "2xx")] == 1
    assert len(metrics.requests) == 5  # 2,000 distinct paths added one series in all


# --- quantiles from buckets ---------------------------------------------------------------


def test_histogram_quantile_interpolates_as_prometheus_does() -> None:
    buckets = [(0.1, 50.0), (0.2, 90.0), (0.5, 100.0), (math.inf, 100.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert histogram_quantile(0.7, buckets) == pytest.approx(0.15)  # 20 of 40 into (0.1, 0.2]
    assert histogram_quantile(0.25, buckets) == pytest.approx(0.05)  # first bucket from 0
    assert histogram_quantile(0.99, [(0.1, 10.0), (math.inf, 20.0)]) == 0.1  # in +Inf
    assert math.isnan(histogram_quantile(0.5, [(0.1, 0.0), (math.inf, 0.0)]))
    with pytest.raises(ValueError):
        histogram_quantile(1.5, buckets)


def test_request_metrics_quantile_matches_the_observations() -> None:
    metrics = RequestMetrics(buckets=(0.01, 0.02, 0.05))
    method = metrics.started("GET")
    for _ in range(10):
        metrics.started("GET")
        metrics.observe(method, "/x", 200, 0.015)
    metrics.observe(method, "/x", 200, 0.015)
    assert metrics.cumulative("GET", "/x") == [(0.01, 0), (0.02, 11), (0.05, 11),
                                               (math.inf, 11)]  # fmt: skip
    assert 0.01 < metrics.quantile(0.5, "GET", "/x") <= 0.02
    assert metrics.started("BREW") == "OTHER"


# --- the limiter as middleware ------------------------------------------------------------


async def test_aiohttp_limiter_sheds_with_503_and_retry_after() -> None:
    limiter = AdaptiveLimiter(FixedLimit(2), mode="reject")
    gate, both_in = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        if limiter.in_flight == 2:
            both_in.set()
        await gate.wait()
        return web.Response(text="done")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(middlewares=[
        aiohttp_limiter_middleware(limiter, retry_after_s=2.5, exempt=frozenset({"/healthz"}))
    ])  # fmt: skip
    app.router.add_get("/slow", slow)
    app.router.add_get("/healthz", health)
    async with test_utils.TestClient(test_utils.TestServer(app)) as client:
        held = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
        await both_in.wait()
        async with client.get("/slow") as refused:
            assert refused.status == 503
            assert refused.headers["Retry-After"] == "3"
            assert "limit of 2" in (await refused.json())["error"]
        async with client.get("/healthz") as exempt:
            assert exempt.status == 200
        gate.set()
        for reply in await asyncio.gather(*held):
            assert reply.status == 200
            reply.release()
    assert (limiter.stats.acquired, limiter.stats.rejected, limiter.in_flight) == (2, 1, 0)


async def test_asgi_limiter_counts_a_handler_503_as_a_drop() -> None:
    api = FastAPI()

    @api.get("/overloaded")
    async def overloaded() -> None:
        raise HTTPException(status_code=503, detail="downstream full")

    limiter = AdaptiveLimiter(FixedLimit(1), mode="reject")
    transport = httpx.ASGITransport(app=LimiterASGIMiddleware(api, limiter))
    async with httpx.AsyncClient(transport=transport, base_url="http://lab") as client:
        assert (await client.get("/overloaded")).status_code == 503
        await limiter.acquire()  # the only slot is taken: the next request is shed
        refused = await client.get("/overloaded")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert (limiter.stats.dropped, limiter.stats.rejected) == (1, 1)
