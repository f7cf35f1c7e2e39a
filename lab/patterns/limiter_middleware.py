"""An :class:`~lab.patterns.limiter.AdaptiveLimiter` in front of a server's handlers.

A request the limiter refuses (at the limit in reject mode, queue full, or queued past
its timeout) is answered ``503 Service Unavailable`` with ``Retry-After`` at once, before
the handler runs: shedding is cheap, so the admitted requests keep their latency. A
handler's 503 or 504 or a ``TimeoutError`` counts as a drop (the algorithm backs off);
any other exception releases the slot without a sample.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from lab.errors import LimitExceededError
from lab.patterns.limiter import AdaptiveLimiter
from lab.patterns.monitoring import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LimiterASGIMiddleware", "LimiterCollector", "aiohttp_limiter_middleware"]

DROP_STATUSES = frozenset({503, 504})


def _retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))  # HTTP wants whole seconds


def aiohttp_limiter_middleware(
    limiter: AdaptiveLimiter, *, retry_after_s: float = 1.0, exempt: frozenset[str] = frozenset()
) -> Any:
    """``web.Application(middlewares=[aiohttp_limiter_middleware(limiter)])``; paths in
    ``exempt`` (``/metrics``, ``/healthz``) bypass the limit."""
    headers = {"Retry-After": _retry_after(retry_after_s)}

    @web.middleware
    async def limit(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path in exempt:
            return await handler(request)  # type: ignore[no-any-return]
        try:
            permit = await limiter.acquire()
        except LimitExceededError as error:
            return web.json_response({"error": str(error)}, status=503, headers=headers)
        try:
            response: web.StreamResponse = await handler(request)
        except TimeoutError:
            limiter.release(permit, dropped=True)
            raise
        except web.HTTPException as error:
            limiter.release(permit, dropped=error.status in DROP_STATUSES)
            raise
        except BaseException:
            limiter.release(permit, ignore=True)
            raise
        limiter.release(permit, dropped=response.status in DROP_STATUSES)
        return response

    return limit


class LimiterASGIMiddleware:
    """``app = LimiterASGIMiddleware(app, limiter)`` for FastAPI, Starlette or any ASGI app."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: AdaptiveLimiter,
        *,
        retry_after_s: float = 1.0,
        exempt: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.exempt = exempt
        self._retry_after = _retry_after(retry_after_s).encode()

    async def _refuse(self, send: Send, error: LimitExceededError) -> None:
        body = b'{"error": "' + str(error).replace('"', "'").encode() + b'"}'
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", self._retry_after),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        limiter = self.limiter
        try:
            permit = await limiter.acquire()
        except LimitExceededError as error:
            await self._refuse(send, error)
            return
        status: list[int] = []

        async def send_recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        except TimeoutError:
            limiter.release(permit, dropped=True)
            raise
        except BaseException:
            limiter.release(permit, ignore=True)
            raise
        limiter.release(permit, dropped=bool(status) and status[0] in DROP_STATUSES)


class LimiterCollector(Collector):
    """Prometheus view of limiters, read when scraped: ``lab_limiter_limit``,
    ``lab_limiter_in_flight``, ``lab_limiter_waiting`` and ``lab_limiter_requests`` by
    outcome (acquired, rejected, timed_out, dropped), labelled by the limiter's name."""

    def __init__(self, limiters: Sequence[AdaptiveLimiter]) -> None:
        self.limiters = list(limiters)

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        gauges = {
            name: GaugeMetricFamily(f"lab_limiter_{name}", text, labels=["limiter"])
            for name, text in (
                ("limit", "The concurrency limit now"),
                ("in_flight", "Requests holding a permit"),
                ("waiting", "Requests queued for a permit"),
            )
        }
        outcomes = CounterMetricFamily(
            "lab_limiter_requests", "Permits by outcome", labels=["limiter", "outcome"]
        )
        for limiter in self.limiters:
            gauges["limit"].add_metric([limiter.name], limiter.limit)
            gauges["in_flight"].add_metric([limiter.name], limiter.in_flight)
            gauges["waiting"].add_metric([limiter.name], limiter.waiting)
            for outcome in ("acquired", "rejected", "timed_out", "dropped"):
                outcomes.add_metric([limiter.name, outcome], getattr(limiter.stats, outcome))
        yield from gauges.values()
        yield outcomes
