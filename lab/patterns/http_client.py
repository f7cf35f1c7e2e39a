"""An aiohttp client that fails fast: a breaker per host, per-request timeouts, and retries
with jittered backoff only for idempotent methods and only while the breaker allows.

One ``ClientSession`` is created on ``__aenter__`` and closed on ``__aexit__``, so no
connection outlives the client.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from lab.errors import CircuitOpenError, ConfigError, RetryableStatusError
from lab.patterns.breaker import CircuitBreaker
from lab.patterns.concurrency import ItemResult, bounded_map

__all__ = ["TRANSIENT", "HttpResponse", "ResilientHTTPClient", "RetryableStatusError", "fetch_many"]

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRYABLE_STATUS = frozenset({429, 502, 503, 504, 500})


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    attempts: int


#: What a breaker of this client counts as a failure of the downstream.
TRANSIENT = (aiohttp.ClientError, TimeoutError, RetryableStatusError)


def _default_breaker(host: str) -> CircuitBreaker:
    return CircuitBreaker(name=host, failure_threshold=5, recovery_timeout=30.0, record=TRANSIENT)


class ResilientHTTPClient:
    """``async with ResilientHTTPClient() as client: await client.get(url)``."""

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        connect_timeout_s: float = 3.0,
        limit: int = 100,
        limit_per_host: int = 0,
        keepalive_s: float = 30.0,
        retries: int = 2,
        backoff_base_s: float = 0.1,
        backoff_max_s: float = 2.0,
        breaker_factory: Callable[[str], CircuitBreaker] = _default_breaker,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if retries < 0 or timeout_s <= 0 or backoff_base_s < 0:
            raise ConfigError("retries >= 0, timeout_s > 0 and backoff_base_s >= 0")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=connect_timeout_s)
        self.limit, self.limit_per_host, self.keepalive_s = limit, limit_per_host, keepalive_s
        self.retries = retries
        self.backoff_base_s, self.backoff_max_s = backoff_base_s, backoff_max_s
        self.breaker_factory = breaker_factory
        self.breakers: dict[str, CircuitBreaker] = {}
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ResilientHTTPClient:
        connector = aiohttp.TCPConnector(
            limit=self.limit,
            limit_per_host=self.limit_per_host,
            keepalive_timeout=self.keepalive_s,
        )
        self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        # aiohttp silently resends an idempotent request once when a kept-alive connection
        # drops; every attempt must pass the breaker and be counted, so turn that off.
        if hasattr(self._session, "_retry_connection"):
            self._session._retry_connection = False
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def breaker_for(self, url: str) -> CircuitBreaker:
        host = urlsplit(url).netloc
        if host not in self.breakers:
            self.breakers[host] = self.breaker_factory(host)
        return self.breakers[host]

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        return self.rng.uniform(0, min(self.backoff_max_s, self.backoff_base_s * 2**attempt))

    async def _once(self, method: str, url: str, attempt: int, **kwargs: Any) -> HttpResponse:
        if self._session is None:
            raise RuntimeError("use the client inside `async with ResilientHTTPClient() as c:`")
        async with self._session.request(method, url, **kwargs) as reply:
            body = await reply.read()
            response = HttpResponse(reply.status, dict(reply.headers), body, attempt + 1)
        if response.status in RETRYABLE_STATUS:
            raise RetryableStatusError(response)
        return response

    async def request(self, method: str, url: str, **kwargs: Any) -> HttpResponse:
        """Send through the host's breaker; retry idempotent requests on transient failure.

        Raises CircuitOpenError when the breaker refuses (retries stop there), and the last
        transport error when retries run out; a last 5xx/429 response is returned.
        """
        method = method.upper()
        breaker = self.breaker_for(url)
        attempts = self.retries + 1 if method in IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                return await breaker.call(self._once, method, url, attempt, **kwargs)
            except CircuitOpenError:
                raise
            except RetryableStatusError as error:
                if attempt == attempts - 1:
                    return error.response
            except (aiohttp.ClientError, TimeoutError):
                if attempt == attempts - 1:
                    raise
            await self.sleep(self._backoff(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, url: str, **kwargs: Any) -> HttpResponse:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> HttpResponse:
        return await self.request("POST", url, **kwargs)


async def fetch_many(
    client: ResilientHTTPClient,
    urls: Iterable[str],
    *,
    limit: int = 50,
    rate_per_s: float | None = None,
    rate_per_host_s: float | None = None,
) -> list[ItemResult[str, HttpResponse]]:
    """GET every URL, at most ``limit`` at once, results in input order with their errors."""
    return [
        result
        async for result in bounded_map(
            client.get,
            urls,
            limit=limit,
            rate_per_s=rate_per_s,
            rate_per_key_s=rate_per_host_s,
            key=lambda url: urlsplit(url).netloc,
        )
    ]
