"""The resilient client against real simulated servers on 127.0.0.1."""

from __future__ import annotations

import random

import pytest

from lab.errors import CircuitOpenError
from lab.harness.simulate import ServerModel, SimulatedServer
from lab.patterns.breaker import CircuitBreaker, CircuitState
from lab.patterns.http_client import TRANSIENT, ResilientHTTPClient, fetch_many


async def no_sleep(seconds: float) -> None:
    return None


def _client(threshold: int = 3, retries: int = 2) -> ResilientHTTPClient:
    return ResilientHTTPClient(
        retries=retries, sleep=no_sleep, rng=random.Random(0),
        breaker_factory=lambda host: CircuitBreaker(
            name=host, failure_threshold=threshold, recovery_timeout=3600, record=TRANSIENT),
    )  # fmt: skip


async def test_a_healthy_server_answers_once_per_request() -> None:
    async with SimulatedServer(ServerModel()) as server, _client() as client:
        for _ in range(5):
            response = await client.get(server.url)
            assert (response.status, response.body, response.attempts) == (200, b"ok", 1)
        assert server.counters.received == 5


@pytest.mark.filterwarnings("error")
async def test_retries_stop_when_the_breaker_opens() -> None:
    async with SimulatedServer(ServerModel(error_rate=1.0)) as server, _client(3, 5) as client:
        with pytest.raises(CircuitOpenError):
            await client.get(server.url)
        assert server.counters.received == 3  # retries stopped at the breaker
        breaker = client.breaker_for(server.url)
        assert breaker.state is CircuitState.OPEN
        with pytest.raises(CircuitOpenError):
            await client.get(server.url)
        assert server.counters.received == 3


async def test_non_idempotent_requests_are_not_retried() -> None:
    async with SimulatedServer(ServerModel(error_rate=1.0)) as server, _client(10, 5) as client:
        response = await client.post(server.url, data=b"x")
        assert (response.status, response.attempts) == (500, 1)
        assert server.counters.received == 1


async def test_transient_errors_are_retried_until_one_succeeds() -> None:
    model = ServerModel(reset_rate=0.5, seed=3)
    async with SimulatedServer(model) as server, _client(100, 10) as client:
        responses = [await client.get(server.url) for _ in range(20)]
        assert all(r.status == 200 for r in responses)
        c = server.counters
        assert c.received == c.answered + c.resets_injected
        assert sum(r.attempts for r in responses) == c.received


async def test_fetch_many_keeps_order_and_attaches_errors() -> None:
    async with SimulatedServer(ServerModel(service_s=0.001)) as server, _client() as client:
        urls = [f"{server.url}item/{i}" for i in range(30)] + ["http://127.0.0.1:9/refused"]
        results = await fetch_many(client, urls, limit=4)
    assert [r.item for r in results] == urls
    assert all(r.ok and r.value is not None and r.value.status == 200 for r in results[:30])
    assert not results[-1].ok
    assert server.counters.max_in_flight <= 4
    assert server.counters.by_path["/item/7"] == 1
