"""The reference service with every pattern on, against the real servers: the data is
right, bad input gets a 4xx in JSON, a registration reaches the Kafka consumer, and
/metrics has every pattern's series."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lab.service.followers import follower_count
from tests.integration.service_helpers import get_json, service_process, stats, until


@pytest.fixture(scope="module")
def base(all_up: None) -> Iterator[str]:
    # A consumer group of its own: a service in another test's group could own the
    # topic's partition and handle this one's registration (60 s without it, once).
    with service_process("--registrations-group", f"lab-test-{uuid.uuid4().hex}") as url:
        yield url


async def test_profile_found_unknown_and_malformed(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        status, user = await get_json(session, f"{base}/api/users/7")
        assert status == 200 and user["id"] == 7 and "@" in user["email"]
        status, error = await get_json(session, f"{base}/api/users/999999999999")
        assert status == 404 and error == {"error": "no such user"}
        for bad in ("abc", "-1", "0", "1.5", "99999999999999999999999"):
            status, error = await get_json(session, f"{base}/api/users/{bad}")
            assert status == 400 and "positive integer" in error["error"], bad
        status, error = await get_json(session, f"{base}/api/nothing")
        assert status == 404 and "error" in error


async def test_posts_pages_keyset_and_bad_parameters(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        user = 3
        status, first = await get_json(session, f"{base}/api/users/{user}/posts?per_page=2")
        assert status == 200 and first["page"] == 1 and first["per_page"] == 2
        assert len(first["posts"]) <= 2
        order = [(p["created_at"], p["id"]) for p in first["posts"]]
        assert order == sorted(order, reverse=True)
        if first["next"]:
            _, by_offset = await get_json(
                session, f"{base}/api/users/{user}/posts?page=2&per_page=2"
            )
            _, by_key = await get_json(
                session, f"{base}/api/users/{user}/posts?after={first['next']}&per_page=2"
            )
            assert by_key["posts"] == by_offset["posts"]
        for query, words in (
            ("page=0", "page must be between"), ("per_page=101", "per_page must be between"),
            ("per_page=x", "must be an integer"), ("page=1e3", "must be an integer"),
            ("after=%%%", "not a cursor"), ("after=bm90IGEgY3Vyc29y", "not a cursor"),
            ("page=1&after=abc", "page or after"),
        ):  # fmt: skip
            status, error = await get_json(session, f"{base}/api/users/{user}/posts?{query}")
            assert status == 400 and words in error["error"], query
        status, _ = await get_json(session, f"{base}/api/users/999999999999/posts")
        assert status == 404


async def test_the_users_list_pages_by_id_without_gaps_or_repeats(base: str) -> None:
    """``GET /api/users``, the document's load-test target: keyset pages of users."""
    async with aiohttp.ClientSession() as session:
        seen: list[int] = []
        after: int | None = 0
        while after is not None and len(seen) < 30:
            status, page = await get_json(session, f"{base}/api/users?limit=7&after={after}")
            assert status == 200 and page["limit"] == 7 and page["after"] == after
            seen += [user["id"] for user in page["users"]]
            after = page["next"]
        assert seen == list(range(1, len(seen) + 1)) and len(seen) >= 30
        status, default = await get_json(session, f"{base}/api/users")
        assert status == 200 and [u["id"] for u in default["users"]] == list(range(1, 21))
        for query, words in (("limit=0", "limit must be between"), ("limit=x", "integer"),
                             ("after=-1", "after must be between")):  # fmt: skip
            status, error = await get_json(session, f"{base}/api/users?{query}")
            assert status == 400 and words in error["error"], query
        status, last = await get_json(session, f"{base}/api/users?after=999999999999")
        assert status == 200 and last["users"] == [] and last["next"] is None


async def test_summary_has_the_followers_from_the_downstream(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        status, summary = await get_json(session, f"{base}/api/users/11/summary")
    assert status == 200 and summary["user"]["id"] == 11
    assert summary["followers"] == follower_count(11) and summary["degraded"] == []
    assert len(summary["recent_posts"]) <= 5


async def test_registration_is_stored_and_reaches_the_consumer(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        before = (await stats(session, base))["registrations"]
        body = {"email": f"new.user.{uuid.uuid4().hex}@example.com", "name": "  New User "}
        async with session.post(f"{base}/api/users", json=body) as answer:
            assert answer.status == 201
            created = await answer.json()
        assert created["name"] == "New User" and created["email"] == body["email"]
        status, fetched = await get_json(session, f"{base}/api/users/{created['id']}")
        assert status == 200 and fetched["email"] == body["email"]

        async def handled() -> bool:
            now = (await stats(session, base))["registrations"]
            return created["id"] in now["handled_recent"]

        await until(handled)
        after = (await stats(session, base))["registrations"]
        assert after["published"] + after["relayed"] > before["published"] + before["relayed"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"name": "x"}', 422, "email"),
        (b'{"email": "nobody", "name": "x"}', 422, "email"),
        (b'{"email": "a@b.c", "name": ""}', 422, "name"),
        (b'{"email": "a@b.c", "name": 5}', 422, "name"),
        (b'{"email": "a\\u0000@b.c", "name": "x"}', 422, "email must not contain the NUL"),
        (b'{"email": "a@b.c", "name": "x\\u0000"}', 422, "name must not contain the NUL"),
    ],
)
async def test_bad_registrations_are_refused(base: str, body: bytes, status: int, words: str
                                             ) -> None:  # fmt: skip
    async with aiohttp.ClientSession() as session:
        before = (await stats(session, base))["db"]["queries"]
        async with session.post(f"{base}/api/users", data=body) as answer:
            assert answer.status == status
            assert words in (await answer.json())["error"]
        assert (await stats(session, base))["db"]["queries"] == before  # nothing was written


async def test_metrics_has_every_patterns_series(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        await get_json(session, f"{base}/api/users/5")
        await get_json(session, f"{base}/api/users/5/summary")
        async with session.get(f"{base}/metrics") as answer:
            text = await answer.text()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"http_requests", "http_request_duration_seconds", "lab_db_pool_connections",
            "lab_cache_lookups", "lab_circuit_breaker_state", "lab_limiter_limit",
            "lab_kafka_processor_events"} <= names, sorted(names)  # fmt: skip
    assert 'route="/api/users/{id}"' in text


async def test_metrics_speak_openmetrics_to_a_scraper_that_asks(base: str) -> None:
    """Prometheus asks for OpenMetrics first; a plain client gets the 0.0.4 text."""
    wanted = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/metrics", headers={"Accept": wanted}) as answer:
            assert answer.content_type == "application/openmetrics-text"
            openmetrics = await answer.text()
        async with session.get(f"{base}/metrics") as answer:
            assert answer.content_type == "text/plain"
            assert "version=0.0.4" in answer.headers["Content-Type"]
    assert openmetrics.rstrip().endswith("# EOF")
    assert "# TYPE http_requests counter" in openmetrics


async def test_a_post_page_is_read_from_postgres_once(base: str) -> None:
    """A post page and a summary's recent posts are cached as profiles are: asked again,
    they cost no query (the page's profile check is cached too)."""
    page, summary = f"{base}/api/users/33/posts?per_page=7", f"{base}/api/users/33/summary"
    async with aiohttp.ClientSession() as session:
        first = [await get_json(session, page), await get_json(session, summary)]
        before = await stats(session, base)
        again = [await get_json(session, url) for url in (page, summary, page, summary)]
        after = await stats(session, base)
    assert all(status == 200 for status, _ in first + again)
    assert again[0] == again[2] == first[0] and again[1] == again[3] == first[1]
    assert after["db"]["queries"] == before["db"]["queries"]
    hits = after["posts_cache"]["hits"] - before["posts_cache"]["hits"]
    misses = after["posts_cache"]["misses"] - before["posts_cache"]["misses"]
    assert (hits, misses) == (4, 0)


async def test_cache_pool_and_limiter_do_the_work(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        await get_json(session, f"{base}/api/users/21")
        before = await stats(session, base)
        for _ in range(5):
            status, _ = await get_json(session, f"{base}/api/users/21")
            assert status == 200
        after = await stats(session, base)
    assert after["cache"]["hits"] - before["cache"]["hits"] == 5
    assert after["db"]["queries"] == before["db"]["queries"]  # all from the cache
    assert after["db"]["connections_opened"] == 0 and after["db"]["pool"]["max"] >= 1
    assert after["limiter"]["acquired"] - before["limiter"]["acquired"] == 5
    assert after["patterns"] == {"cache": True, "pool": True, "breaker": True, "limiter": True}
