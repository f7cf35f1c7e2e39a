"""Each off-switch really bypasses its pattern (the service's own counters prove it), and
the breaker keeps calls away from a failing followers service where no breaker does not."""

from __future__ import annotations

import contextlib
from pathlib import Path

import aiohttp
import pytest
from redis import Redis

from lab.experiments.service.process import service_process as run_service
from lab.harness.services.redis_scratch import ScratchRedis
from lab.harness.simulate import ServerModel
from lab.service.followers import followers_server
from tests.integration.service_helpers import (
    SERVICE_USERS,
    get_json,
    scrape,
    service_process,
    stats,
    until,
)


async def test_the_naive_service_uses_no_pattern(all_up: None) -> None:
    flags = ("--no-cache", "--no-pool", "--no-breaker", "--no-limiter")
    with service_process(*flags) as base:
        async with aiohttp.ClientSession() as session:
            before = await stats(session, base)
            for _ in range(4):
                status, user = await get_json(session, f"{base}/api/users/9")
                assert status == 200 and user["id"] == 9
            after = await stats(session, base)
            async with session.get(f"{base}/metrics") as answer:
                metrics = await answer.text()
    assert after["patterns"] == {"cache": False, "pool": False, "breaker": False,
                                 "limiter": False}  # fmt: skip
    assert after["db"]["queries"] - before["db"]["queries"] == 4  # every request reads
    assert after["db"]["connections_opened"] - before["db"]["connections_opened"] == 4
    assert after["db"]["pool"] is None and after["cache"] is None and after["limiter"] is None
    assert after["followers"]["breaker"] is None
    assert "lab_limiter_limit" not in metrics and "lab_cache_lookups" not in metrics
    assert "lab_db_pool_connections" not in metrics and "http_requests_total" in metrics


async def _summaries(flags: tuple[str, ...], calls: int) -> tuple[dict[str, int], int]:
    """``calls`` summaries while the followers service answers every request with 500."""
    down = followers_server(ServerModel(outage_start_s=0.0, outage_for_s=3600.0))
    async with down:
        with service_process("--followers-url", down.url, *flags) as base:
            async with aiohttp.ClientSession() as session:
                for _ in range(calls):
                    status, summary = await get_json(session, f"{base}/api/users/4/summary")
                    assert status == 200 and summary["followers"] is None
                    assert summary["degraded"] == ["followers"] and summary["user"]["id"] == 4
                found = await stats(session, base)
        return found["followers"], down.counters.received


async def test_the_breaker_stops_calls_to_a_failing_downstream(all_up: None) -> None:
    followers, reached = await _summaries((), calls=20)
    assert followers["breaker"] == "open"
    assert followers["short_circuited"] > 0
    assert reached < 20  # a retry per call at most, and none once the breaker opened
    assert followers["asked"] == 20


async def test_without_the_breaker_every_call_reaches_the_failing_downstream(all_up: None
                                                                             ) -> None:  # fmt: skip
    followers, reached = await _summaries(("--no-breaker",), calls=20)
    assert followers["breaker"] is None and followers["short_circuited"] == 0
    assert reached == 20 and followers["failed"] == 20


async def _abandoned_summaries(flags: tuple[str, ...], calls: int = 3) -> dict[str, float]:
    """``calls`` summaries, each given up by its client after 0.1 s while the followers
    service takes 5 s (the service waits 0.5 s for it, then answers without): the
    service's count of summary requests by status class, once it has counted them all."""
    slow = followers_server(ServerModel(service_s=5.0))
    route = "/api/users/{id}/summary"
    async with slow:
        with service_process("--followers-url", slow.url, "--no-breaker", *flags) as base:
            async with aiohttp.ClientSession() as session:
                for _ in range(calls):
                    with contextlib.suppress(TimeoutError):
                        async with session.get(
                            f"{base}/api/users/4/summary", timeout=aiohttp.ClientTimeout(total=0.1)
                        ):
                            pass  # fmt: skip

                async def counted() -> dict[str, float]:
                    samples = await scrape(base)
                    return {labels["status"]: value for name, labels, value in samples
                            if name == "http_requests_total"
                            and labels["route"] == route}  # fmt: skip

                async def all_counted() -> bool:
                    return sum((await counted()).values()) >= calls

                await until(all_counted)
                return await counted()


async def test_a_request_its_client_gave_up_on_is_cancelled_and_counted_499(
    all_up: None,
) -> None:
    """The service stops the work of a request whose client hung up: it never answers
    it, and counts it as a 4xx (499), not as an answer or a server error."""
    assert await _abandoned_summaries(()) == {"4xx": 3}


async def test_without_cancelling_a_request_runs_to_its_answer(all_up: None) -> None:
    assert await _abandoned_summaries(("--no-cancel-abandoned",)) == {"2xx": 3}


def _redis_reads(redis: ScratchRedis) -> int:
    stats = Redis(port=redis.port).info("commandstats")
    return sum(
        int(stats.get(f"cmdstat_{command}", {}).get("calls", 0)) for command in ("get", "mget")
    )


@pytest.mark.parametrize(("flags", "reads"), [((), 2), (("--no-cache-front",), 7)])
async def test_a_hot_profile_is_kept_in_process_unless_switched_off(
    all_up: None, tmp_path: Path, flags: tuple[str, ...], reads: int
) -> None:
    """Six lookups of one profile: with the front tier only the first asks Redis; without
    it, each does. The first is a miss, which reads twice (before and after it takes the
    fill lock). The service's Redis is a scratch one, so no other test's commands count."""
    redis = ScratchRedis(7211, tmp_path)
    redis.start()
    try:
        with run_service(*flags, "--cache-front-ttl", "600", env={"LAB_REDIS_URL": redis.url},
                         users=SERVICE_USERS, posts=20_000) as base:  # fmt: skip
            async with aiohttp.ClientSession() as session:
                before = _redis_reads(redis)
                for _ in range(6):
                    status, user = await get_json(session, f"{base}/api/users/5")
                    assert status == 200 and user["id"] == 5
                found = await stats(session, base)
            assert _redis_reads(redis) - before == reads
    finally:
        redis.stop()
    assert found["cache"]["hits"] == 5 and found["cache"]["misses"] == 1
