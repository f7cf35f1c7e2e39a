"""``lab serve --workers 2``: the workers share the port, ``/metrics`` counts every request
whichever worker served it, a worker that dies is replaced without losing the counts it
had published, its per-worker series go with it, and stopping leaves no worker behind."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable

import aiohttp

from tests.integration.service_helpers import get_json, scrape, service_process, until

PROFILE = "/api/users/{id}"


async def fresh_get(base: str, path: str) -> tuple[int, object]:
    """One request on a new connection: the kernel spreads connections, not requests."""
    async with aiohttp.ClientSession() as session:
        return await get_json(session, f"{base}{path}")


async def worker_pids(base: str, asks: int = 24) -> set[int]:
    pids = set()
    for _ in range(asks):
        status, found = await fresh_get(base, "/api/_stats")
        assert status == 200 and isinstance(found, dict)
        pids.add(int(found["pid"]))
    return pids


def profiles_counted(samples: Iterable[tuple[str, dict[str, str], float]]) -> float:
    return sum(value for name, labels, value in samples
               if name == "http_requests_total" and labels["route"] == PROFILE)  # fmt: skip


def breaker_pids(samples: Iterable[tuple[str, dict[str, str], float]]) -> set[int]:
    return {int(labels["pid"]) for name, labels, _ in samples
            if name == "lab_circuit_breaker_state"}  # fmt: skip


async def send_profiles(base: str, first: int, count: int) -> None:
    for user_id in range(first, first + count):
        status, user = await fresh_get(base, f"/api/users/{user_id}")
        assert status == 200 and isinstance(user, dict) and user["id"] == user_id


async def counted_exactly(base: str, expected: int) -> None:
    async def reached() -> bool:
        found = profiles_counted(await scrape(base))
        assert found <= expected, f"{found} profile requests counted, {expected} sent"
        return found == expected

    await until(reached, timeout_s=30)


async def test_two_workers_share_the_port_and_the_metrics(all_up: None) -> None:
    with service_process("--workers", "2") as base:
        pids = await worker_pids(base)
        assert len(pids) == 2
        await send_profiles(base, 1, 40)
        await counted_exactly(base, 40)
        for _ in range(24):  # a breaker (and its state series) in each worker
            status, _ = await fresh_get(base, "/api/users/3/summary")
            assert status == 200

        async def both_breakers() -> bool:
            return breaker_pids(await scrape(base)) == pids

        await until(both_breakers, timeout_s=30)

        dead = min(pids)
        os.kill(dead, signal.SIGKILL)
        survivors = pids - {dead}

        async def replaced() -> bool:
            try:
                found = await worker_pids(base, asks=8)
            except aiohttp.ClientConnectionError:
                # a connection the kernel queued on the killed worker's socket is reset
                # (SO_REUSEPORT): not replaced yet (a fresh-clone make test at 4d24e95)
                return False
            return len(found) == 2 and dead not in found

        await until(replaced, timeout_s=60)
        now = await worker_pids(base)
        await send_profiles(base, 41, 20)
        await counted_exactly(base, 60)  # the dead worker's share of the 40 still counts
        assert dead not in breaker_pids(await scrape(base))
        assert survivors <= now
    for pid in now:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        raise AssertionError(f"worker {pid} outlived lab serve")
