"""The reference service in a process of its own (``lab serve --port 0``), for tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from lab.experiments.service.process import service_process as run_service

SERVICE_USERS = 2_000


@contextmanager
def service_process(*flags: str) -> Iterator[str]:
    """``lab serve --port 0 FLAGS`` (tables created with 2,000 users when missing)."""
    with run_service(*flags, users=SERVICE_USERS, posts=20_000) as url:
        yield url


async def get_json(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as answer:
        assert answer.content_type == "application/json", await answer.text()
        return answer.status, await answer.json()


async def stats(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    status, found = await get_json(session, f"{base}/api/_stats")
    assert status == 200
    return found  # type: ignore[no-any-return]


async def until(predicate: Any, timeout_s: float = 60.0) -> None:
    """Poll an async predicate until it holds (behaviour, not timing: a patient limit)."""
    async with asyncio.timeout(timeout_s):
        while not await predicate():  # noqa: ASYNC110 (polling another process)
            await asyncio.sleep(0.2)


async def scrape(base: str) -> list[tuple[str, dict[str, str], float]]:
    """The service's ``/metrics``: (name, labels, value) of every sample."""
    async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as answer:
        assert answer.status == 200
        text = await answer.text()
    return [(sample.name, sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            for sample in family.samples]  # fmt: skip
