"""The followers service the summary endpoint calls: a simulated downstream (a real HTTP
server with a latency and fault model) and the client, with or without a breaker."""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from lab.errors import CircuitOpenError
from lab.harness.aio import new_runner, stop_signals
from lab.harness.simulate import ServerModel, SimulatedServer
from lab.patterns.breaker import BreakerMetrics, CircuitBreaker
from lab.patterns.http_client import TRANSIENT, ResilientHTTPClient

__all__ = ["FollowersClient", "FollowersCounters", "follower_count", "followers_server"]


def follower_count(user_id: int) -> int:
    """Deterministic, so a test can check the number the service passed on."""
    return (user_id * 2_654_435_761) % 5_000


def _answer(request: web.Request) -> web.StreamResponse:
    tail = request.path.rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit():
        return web.json_response({"error": "no such user"}, status=404)
    return web.json_response({"user_id": int(tail), "followers": follower_count(int(tail))})


def followers_server(model: ServerModel | None = None) -> SimulatedServer:
    """``GET /followers/{id}`` -> ``{"followers": n}`` after the model's service time
    (default: lognormal, 5 ms mean), with its faults."""
    model = model or ServerModel(service_s=0.005, distribution="lognormal")
    return SimulatedServer(model, respond=_answer, shutdown_timeout_s=1.0)


@dataclass
class FollowersCounters:
    asked: int = 0  # summaries that wanted a count
    failed: int = 0  # errors and timeouts, as the summary saw them
    short_circuited: int = 0  # refused by the open breaker without a call


class FollowersClient:
    """``count(user_id)`` -> followers, or ``None`` when the service failed (the summary
    then degrades). With ``breaker=False``: one plain call each time, no retries."""

    def __init__(self, base_url: str, *, breaker: bool, timeout_s: float,
                 metrics: BreakerMetrics | None = None) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.use_breaker = breaker
        self.timeout_s = timeout_s
        self.metrics = metrics
        self.counters = FollowersCounters()
        self._client: ResilientHTTPClient | None = None
        self._session: aiohttp.ClientSession | None = None

    def _breaker(self, host: str) -> CircuitBreaker:
        return CircuitBreaker(name="followers", failure_threshold=5, recovery_timeout=5.0,
                              record=TRANSIENT, metrics=self.metrics)  # fmt: skip

    @property
    def breaker(self) -> CircuitBreaker | None:
        return next(iter(self._client.breakers.values()), None) if self._client else None

    async def __aenter__(self) -> FollowersClient:
        if self.use_breaker:
            self._client = ResilientHTTPClient(timeout_s=self.timeout_s, retries=1,
                                               breaker_factory=self._breaker)  # fmt: skip
            await self._client.__aenter__()
        else:
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.__aexit__(*exc)
        if self._session is not None:
            await self._session.close()

    async def count(self, user_id: int) -> int | None:
        url = f"{self.base_url}/followers/{user_id}"
        try:
            if self._client is not None:
                self.counters.asked += 1
                reply = await self._client.get(url)
                status, body = reply.status, reply.body
            else:
                assert self._session is not None, "use the client inside `async with`"
                self.counters.asked += 1
                async with self._session.get(url) as answer:
                    status, body = answer.status, await answer.read()
        except CircuitOpenError:
            self.counters.short_circuited += 1
            return None
        except (aiohttp.ClientError, TimeoutError):
            self.counters.failed += 1
            return None
        if status != 200:
            self.counters.failed += 1
            return None
        found: Any = orjson.loads(body)
        return int(found["followers"])


async def _serve_forever(model: ServerModel, port: int) -> None:
    server = SimulatedServer(model, port=port, respond=_answer, shutdown_timeout_s=1.0)
    async with server:
        with stop_signals() as stop:
            print(f"serving {server.url} (followers)", flush=True)
            await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """``python -m lab.service.followers``: the simulated followers service on its own,
    printing its URL first (for experiments that give the service a faulty downstream)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--outage-start", type=float, default=0.0, help="seconds from start")
    parser.add_argument("--outage-for", type=float, default=0.0, help="seconds; 0: none")
    args = parser.parse_args(argv)
    model = ServerModel(service_s=args.latency_ms / 1000, distribution="lognormal",
                        outage_start_s=args.outage_start, outage_for_s=args.outage_for)  # fmt: skip
    with contextlib.suppress(KeyboardInterrupt), new_runner() as runner:  # uvloop if installed
        runner.run(_serve_forever(model, args.port))


if __name__ == "__main__":
    main()
