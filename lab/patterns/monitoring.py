"""Request metrics that do not lie, as aiohttp and ASGI middleware (or, in aiohttp, around
the server's request handler: :func:`record_requests`), and ``/metrics``.

What each request records, and why:

* the status is the one actually sent (an ``HTTPException`` is its own status; any other
  exception before the response started is a 500); a request cancelled because its
  client hung up (aiohttp's ``handler_cancellation``) is 499, nginx's "client closed
  request": nothing was sent, and it is the client's leaving, not a server error;
* the route label is the route's template (``/api/users/{id}``); a path that matched no
  route is ``<unmatched>``, and a method outside the standard ones is ``OTHER``, so the
  number of series is fixed by the app's routes, not by its traffic;
* durations go into buckets that include the SLO thresholds (``slo.yaml``), so a
  dashboard's ``histogram_quantile`` is exact at the lines that matter.

Counting is plain dict and list arithmetic on the request path (one event loop, no lock);
prometheus_client reads it only when scraped (:class:`RequestCollector`).
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping, Sequence
from functools import partial
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

__all__ = [
    "REQUEST_BUCKETS_S",
    "UNMATCHED",
    "MetricsASGIMiddleware",
    "RequestCollector",
    "RequestMetrics",
    "aiohttp_metrics_handler",
    "aiohttp_metrics_middleware",
    "aiohttp_recorder",
    "aiohttp_route_templates",
    "exposition",
    "histogram_quantile",
    "metrics_asgi_app",
    "metrics_handler",
    "record_requests",
]

#: Upper bounds in seconds: the SLO lines (p50 < 200 ms, p95 < 500 ms, p99 < 1 s)
#: are bucket edges, with finer steps below them.
REQUEST_BUCKETS_S: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    10.0,
)
UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


RequestKey = tuple[str, str, str]  # method, route template, status class


def _method(method: str) -> str:
    return method if method in _METHODS else "OTHER"


class _Durations:
    __slots__ = ("counts", "total_s")

    def __init__(self, size: int) -> None:
        self.counts = [0] * size
        self.total_s = 0.0


class RequestMetrics:
    """Counts by (method, route, status class), durations by (method, route), in progress
    by method. ``observe`` is the whole cost on the request path."""

    def __init__(self, buckets: Sequence[float] = REQUEST_BUCKETS_S, prefix: str = "http") -> None:
        self.bounds = tuple(sorted(buckets))
        self.prefix = prefix
        self.requests: dict[RequestKey, int] = {}
        self.durations: dict[tuple[str, str], _Durations] = {}
        self.in_progress: dict[str, int] = {}

    def started(self, method: str) -> str:
        method = _method(method)
        self.in_progress[method] = self.in_progress.get(method, 0) + 1
        return method

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """One finished request (``method`` as returned by :meth:`started`)."""
        self.in_progress[method] -= 1
        self.finished(method, route, status, seconds)

    def finished(self, method: str, route: str, status: int, seconds: float) -> None:
        """One finished request whose start was not counted (an access log has none)."""
        key, durations = self.counters(method, route, status)
        self.requests[key] += 1
        durations.counts[bisect_left(self.bounds, seconds)] += 1
        durations.total_s += seconds

    def counters(self, method: str, route: str, status: int) -> tuple[RequestKey, _Durations]:
        """Where a request of ``method``, ``route`` and ``status`` is counted: its key in
        ``requests`` (present from now on) and its route's durations. A caller that keeps
        the pair per route and status records a request with three additions."""
        key = (method, route, _CLASSES[status // 100 - 1] if 100 <= status < 600 else "5xx")
        self.requests.setdefault(key, 0)
        durations = self.durations.get((method, route))
        if durations is None:
            durations = self.durations[(method, route)] = _Durations(len(self.bounds) + 1)
        return key, durations

    def cumulative(self, method: str, route: str) -> list[tuple[float, int]]:
        """``(upper bound, cumulative count)`` pairs ending with +Inf, as Prometheus has them."""
        durations = self.durations.get((method, route)) or _Durations(len(self.bounds) + 1)
        running, pairs = 0, []
        for bound, count in zip((*self.bounds, float("inf")), durations.counts, strict=True):
            running += count
            pairs.append((bound, running))
        return pairs

    def quantile(self, q: float, method: str, route: str) -> float:
        return histogram_quantile(q, self.cumulative(method, route))

    def series(self) -> int:
        """How many label sets are exported (what cardinality costs Prometheus)."""
        return len(self.requests) + len(self.durations) + len(self.in_progress)


class RequestCollector(Collector):
    """``registry.register(RequestCollector(metrics))``: the metrics as Prometheus sees them."""

    def __init__(self, metrics: RequestMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        m, prefix = self.metrics, self.metrics.prefix
        total = CounterMetricFamily(
            f"{prefix}_requests",
            "Requests by method, route template and status class",
            labels=["method", "route", "status"],
        )
        for (method, route, status), count in sorted(m.requests.items()):
            total.add_metric([method, route, status], count)
        seconds = HistogramMetricFamily(
            f"{prefix}_request_duration_seconds",
            "Time from request to response",
            labels=["method", "route"],
        )
        for method, route in sorted(m.durations):
            buckets = [(_bucket_label(le), n) for le, n in m.cumulative(method, route)]
            seconds.add_metric([method, route], buckets, m.durations[(method, route)].total_s)
        progress = GaugeMetricFamily(
            f"{prefix}_requests_in_progress", "Requests being served", labels=["method"]
        )
        for method, count in sorted(m.in_progress.items()):
            progress.add_metric([method], count)
        yield from (total, seconds, progress)


def _bucket_label(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


def histogram_quantile(q: float, cumulative: Sequence[tuple[float, float]]) -> float:
    """Prometheus's ``histogram_quantile``: linear interpolation inside the bucket holding
    the q-th observation; the first bucket starts at 0; an answer in the +Inf bucket is the
    largest finite bound. NaN when there are no observations."""
    if not 0 <= q <= 1:
        raise ValueError("q must be between 0 and 1")
    if not cumulative or cumulative[-1][1] == 0:
        return float("nan")
    total = cumulative[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            if count == lower_count:
                return bound
            share = (rank - lower_count) / (count - lower_count)
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound


# --- aiohttp ------------------------------------------------------------------------------


def aiohttp_route_templates() -> Callable[[web.UrlMappingMatchInfo], str]:
    """``template(match_info)``: the matched route's template (``/users/{id}``), found
    once per route and then read from a dict; ``<unmatched>`` where no route matched."""
    templates: dict[object, str] = {}

    def template(match_info: web.UrlMappingMatchInfo) -> str:
        route = match_info.route
        found = templates.get(route)
        if found is None:
            resource = route.resource if route is not None else None
            if resource is None or match_info.http_exception is not None:
                return UNMATCHED  # not kept: a 404's route is a new object each time
            found = templates[route] = resource.canonical
        return found

    return template


def aiohttp_recorder(
    metrics: RequestMetrics,
) -> Callable[[str, web.UrlMappingMatchInfo | None, int, float], None]:
    """``record(method, match_info, status, seconds)``: one finished aiohttp request into
    ``metrics`` (``match_info`` None: the request did not parse).

    A routed request's counters are found with one dict lookup, by (method, route,
    status), and kept; what has no route to key on (a 404, a request that did not parse)
    or a non-standard method takes the longer way each time, so junk cannot grow the
    cache."""
    route_template = aiohttp_route_templates()
    requests, bounds = metrics.requests, metrics.bounds
    known: dict[tuple[str, object, int], tuple[RequestKey, _Durations]] = {}

    def counters(
        method: str, match_info: web.UrlMappingMatchInfo | None, status: int
    ) -> tuple[RequestKey, _Durations]:
        standard = method in _METHODS
        template = UNMATCHED if match_info is None else route_template(match_info)
        found = metrics.counters(method if standard else "OTHER", template, status)
        if standard and template != UNMATCHED:  # a 404's route is new each time: not kept
            known[(method, match_info.route, status)] = found  # type: ignore[union-attr]
        return found

    def record(
        method: str, match_info: web.UrlMappingMatchInfo | None, status: int, seconds: float
    ) -> None:
        route = None if match_info is None else match_info.route  # (an empty match is falsy)
        found = known.get((method, route, status))
        if found is None:
            found = counters(method, match_info, status)
        key, durations = found
        requests[key] += 1
        durations.counts[bisect_left(bounds, seconds)] += 1
        durations.total_s += seconds

    return record


Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


class _Recording(Protocol):
    def __call__(
        self, request: web.BaseRequest, handler: Handler
    ) -> Awaitable[web.StreamResponse]: ...


def _aiohttp_recording(metrics: RequestMetrics) -> _Recording:
    """``record(request, handler)``: ``handler(request)``, counted into ``metrics``."""
    in_progress, clock = metrics.in_progress, time.perf_counter
    methods, finished = _METHODS, aiohttp_recorder(metrics)

    async def record(request: web.BaseRequest, handler: Handler) -> web.StreamResponse:
        method = request.method
        counted = method if method in methods else "OTHER"
        in_progress[counted] = in_progress.get(counted, 0) + 1
        began = clock()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        except asyncio.CancelledError:
            status = _cancelled_status(request)
            raise
        finally:
            in_progress[counted] -= 1
            # (read directly: the server handler's request has none if routing failed)
            finished(method, getattr(request, "_match_info", None), status, clock() - began)

    return record


def aiohttp_metrics_middleware(metrics: RequestMetrics) -> Any:
    """``web.Application(middlewares=[aiohttp_metrics_middleware(metrics)])``."""
    return web.middleware(_aiohttp_recording(metrics))


def aiohttp_metrics_handler(handler: Handler, metrics: RequestMetrics) -> Handler:
    """``handler`` (an aiohttp server's request handler: an app's ``_handle``) with every
    request it serves counted into ``metrics``, as the middleware counts them; see
    :func:`record_requests`."""
    return partial(_aiohttp_recording(metrics), handler=handler)


def record_requests(runner: web.AppRunner, metrics: RequestMetrics) -> None:
    """Count every request ``runner``'s app serves into ``metrics``, by wrapping the
    server's request handler instead of adding a middleware (call it after ``await
    runner.setup()`` and before the sites start: a connection keeps the handler it was
    accepted with)::

        runner = web.AppRunner(app)
        await runner.setup()
        record_requests(runner, metrics)

    What is recorded is what :func:`aiohttp_metrics_middleware` records placed first
    (outermost) in the app's middlewares, without what aiohttp charges any middleware at
    all (the chain is looked up in an LRU cache, called through a ``functools.partial``,
    and a middleware of aiohttp's own is added to set the request's current app)."""
    server = runner.server
    if server is None:
        raise RuntimeError("record_requests(runner, ...) needs `await runner.setup()` first")
    server.request_handler = aiohttp_metrics_handler(server.request_handler, metrics)


def _cancelled_status(request: web.BaseRequest) -> int:
    """499 when the request's connection is gone (its client hung up), else 500."""
    transport = request.transport
    return 499 if transport is None or transport.is_closing() else 500


def exposition(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """``(body, content type)`` of ``registry``: OpenMetrics when the scraper's ``Accept``
    asks for it (Prometheus does, and then reads exemplars and ``_created``), else
    Prometheus' text format 0.0.4."""
    encode, content_type = choose_encoder(accept or "")
    return encode(registry), content_type


def metrics_handler(registry: CollectorRegistry) -> Callable[[web.Request], Awaitable[Any]]:
    """An aiohttp handler for ``/metrics`` over ``registry`` (format negotiated)."""

    async def metrics(request: web.Request) -> web.Response:
        body, content_type = exposition(registry, request.headers.get("Accept"))
        return web.Response(body=body, headers={"Content-Type": content_type})

    return metrics


# --- ASGI ---------------------------------------------------------------------------------


def _asgi_route(scope: Scope, routes: Iterable[Any]) -> str:
    route = scope.get("route")  # FastAPI puts the matched route here
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    endpoint = scope.get("endpoint")  # Starlette: the matched route's endpoint (or app)
    if endpoint is not None:
        for candidate in routes:
            if endpoint is getattr(candidate, "endpoint", None) or endpoint is getattr(
                candidate, "app", None
            ):
                return str(getattr(candidate, "path", UNMATCHED))
    return UNMATCHED


class MetricsASGIMiddleware:
    """Pure ASGI middleware (FastAPI, Starlette, any ASGI app):
    ``app = MetricsASGIMiddleware(app, metrics)`` or ``app.add_middleware(...)``."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics = self.metrics
        method = metrics.started(scope["method"])
        began = time.perf_counter()
        sent: list[int] = []

        async def send_recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            status = sent[0] if sent else 500
            routes = getattr(scope.get("app"), "routes", ())
            metrics.observe(method, _asgi_route(scope, routes), status, time.perf_counter() - began)


def metrics_asgi_app(registry: CollectorRegistry) -> ASGIApp:
    """An ASGI app answering with ``registry``'s exposition (mount it at ``/metrics``)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        body, content_type = exposition(registry, headers.get(b"accept", b"").decode("latin-1"))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app
