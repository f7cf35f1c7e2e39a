"""Stopping a simulated server while it serves: every request ends and nothing is logged
as an error."""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest

from lab.harness.simulate import ServerModel, SimulatedServer
from tests.polling import eventually_async

REQUESTS = 20


async def _get(session: aiohttp.ClientSession, url: str) -> str:
    try:
        async with session.get(url) as response:
            await response.read()
            return str(response.status)
    except aiohttp.ClientError:
        return "disconnected"


async def _requests_in_flight(server: SimulatedServer, session: aiohttp.ClientSession
                              ) -> list[asyncio.Task[str]]:  # fmt: skip
    """``REQUESTS`` clients, once the server is serving every one of them."""
    clients = [asyncio.create_task(_get(session, server.url)) for _ in range(REQUESTS)]
    assert await eventually_async(lambda: server.counters.in_flight == REQUESTS)
    return clients


async def test_requests_ending_as_the_shutdown_times_out_log_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The handlers finish in the same loop turn as the shutdown's wait for them times out
    (the loop is blocked past both moments, handlers due first). aiohttp 3.14 then sets
    the result of its cancelled wait and logs an "Unhandled exception" per connection; a
    quick load-control run printed nine such tracebacks."""
    caplog.set_level(logging.DEBUG)
    server = SimulatedServer(ServerModel(service_s=0.2), shutdown_timeout_s=0.3)
    await server.start()
    async with aiohttp.ClientSession() as session:
        clients = await _requests_in_flight(server, session)
        stopping = asyncio.create_task(server.stop())
        await asyncio.sleep(0.05)  # the stop is waiting for the handlers (due 0.15 s on)
        # blocks the loop on purpose: the handlers' service and the shutdown's wait both
        # end meanwhile, and their wake-ups run in one turn
        time.sleep(0.6)  # noqa: ASYNC251
        await stopping
        endings = await asyncio.gather(*clients)
    assert len(endings) == REQUESTS and server.counters.in_flight == 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


async def test_requests_still_served_after_the_timeout_are_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = SimulatedServer(ServerModel(service_s=60.0), shutdown_timeout_s=0.1)
    await server.start()
    async with aiohttp.ClientSession() as session:
        clients = await _requests_in_flight(server, session)
        await server.stop()
        endings = await asyncio.gather(*clients)
    assert endings == ["disconnected"] * REQUESTS
    assert server.counters.in_flight == 0 and server.counters.answered == 0
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
