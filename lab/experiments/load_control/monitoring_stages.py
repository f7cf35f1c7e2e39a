"""Where a request's metrics cost goes, in process: nanoseconds per request for each
stage of the aiohttp request path the metrics touch, beside the path without them.

Each stage runs ``ops`` times over one prepared request (its creation is not timed) and
the best of ``rounds`` is kept (the least disturbed by a neighbour). ``app._handle`` is
aiohttp's own entry for a parsed request: routing, the middleware chain, the handler.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import test_utils, web

from lab.patterns.monitoring import (
    RequestMetrics,
    aiohttp_metrics_handler,
    aiohttp_metrics_middleware,
    aiohttp_recorder,
    aiohttp_route_templates,
)
from lab.patterns.monitoring_access_log import ACCESS_LOG, metrics_access_logger

__all__ = ["STAGES", "stage_costs"]

STAGES = (
    "aiohttp request path, no middleware",
    "aiohttp request path, empty middleware",
    "aiohttp request path, metrics middleware",
    "aiohttp request path, metrics around the server handler",
    "metrics access-log record (per response)",
    "route template from match_info (kept per route)",
    "aiohttp recorder, a routed request (its counters kept per route and status)",
    "RequestMetrics, start and finish (the ASGI middleware's)",
    "time.perf_counter, twice",
)


@web.middleware
async def _empty(request: web.Request, handler: Any) -> web.StreamResponse:
    return await handler(request)  # type: ignore[no-any-return]


def _app(middlewares: list[Any]) -> web.Application:
    app = web.Application(middlewares=middlewares)
    reply = web.Response(body=b'{"id":"7"}')

    async def item(request: web.Request) -> web.Response:
        return reply

    app.router.add_get("/items/{id}", item)
    app.freeze()
    return app


def _drive(coroutine: Coroutine[Any, Any, Any]) -> None:
    """Run a coroutine that never suspends, without an event loop's scheduling."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise RuntimeError("a stage suspended: it cannot be timed this way")


def _best_ns(body: Callable[[], None], ops: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter_ns()
        body()
        best = min(best, (time.perf_counter_ns() - began) / ops)
    return best


def _path_ns(
    app: web.Application, ops: int, rounds: int, handler: Callable[[Any], Any] | None = None
) -> float:
    """``app``'s request path, entered through ``handler`` (by default ``app._handle``,
    where aiohttp's server enters it)."""
    # One request, handled again and again: routing runs each time; a mocked request
    # per iteration would record every call on shared mocks and slow down as it goes.
    request = test_utils.make_mocked_request("GET", "/items/7", app=app)
    enter = handler or app._handle

    def handle() -> None:
        for _ in range(ops):
            _drive(enter(request))

    return _best_ns(handle, ops, rounds)


async def _routed(app: web.Application) -> web.Request:
    request = test_utils.make_mocked_request("GET", "/items/7", app=app)
    match_info = await app.router.resolve(request)
    match_info.add_app(app)
    request._match_info = match_info  # what app._handle does before the handler
    return request


def stage_costs(ops: int = 20_000, rounds: int = 3) -> dict[str, float]:
    """Nanoseconds per request for each of :data:`STAGES` (in an event loop of its own:
    aiohttp's request path asks for the running loop)."""
    return asyncio.run(_stage_costs(ops, rounds))


async def _stage_costs(ops: int, rounds: int) -> dict[str, float]:
    metrics = RequestMetrics()
    plain = _app([])
    served = plain._handle  # what the server calls, as record_requests finds it
    costs = {
        STAGES[0]: _path_ns(plain, ops, rounds),
        STAGES[1]: _path_ns(_app([_empty]), ops, rounds),
        STAGES[2]: _path_ns(_app([aiohttp_metrics_middleware(metrics)]), ops, rounds),
        STAGES[3]: _path_ns(plain, ops, rounds, aiohttp_metrics_handler(served, metrics)),  # type: ignore[arg-type]
    }
    request = await _routed(plain)
    response = web.Response(body=b"{}")
    logger = metrics_access_logger(metrics)(ACCESS_LOG, "")
    metrics.started("GET")

    def log() -> None:
        for _ in range(ops):
            logger.log(request, response, 0.001)

    template = aiohttp_route_templates()

    def route() -> None:
        for _ in range(ops):
            template(request.match_info)

    record = aiohttp_recorder(metrics)

    def recorded() -> None:
        match_info = request.match_info
        for _ in range(ops):
            record("GET", match_info, 200, 0.001)

    def observe() -> None:
        for _ in range(ops):
            metrics.in_progress["GET"] += 1
            metrics.observe("GET", "/items/{id}", 200, 0.001)

    def clock() -> None:
        perf_counter = time.perf_counter
        for _ in range(ops):
            perf_counter()
            perf_counter()

    for name, body in zip(STAGES[4:], (log, route, recorded, observe, clock), strict=True):
        costs[name] = _best_ns(body, ops, rounds)
    return costs
