"""The service's dataset against a real PostgreSQL, in a database of its own: a service
asked for more users than the dataset holds seeds it again (a full run after a quick one
answered 16 % of its mix with 404s); one asked for fewer keeps it, registrations too."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from lab.config import endpoints
from lab.service.store import UserStore


@pytest.fixture
async def scratch_dsn(all_up: None) -> AsyncIterator[str]:
    dsn = endpoints().postgres_dsn
    name = f"lab_dataset_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_more_users_than_seeded_seeds_again_and_fewer_keeps_the_data(
    scratch_dsn: str,
) -> None:
    store = UserStore(scratch_dsn, pool=None)
    await store.prepare(users=20, posts=40)
    connection = await asyncpg.connect(scratch_dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM users") == 20
        await connection.execute(
            "INSERT INTO users (id, email, name, created_at) VALUES "
            "(nextval('lab_service_user_ids'), 'new@example.com', 'New', now())"
        )
        await store.prepare(users=10, posts=40)  # fewer: kept, the registration too
        assert await connection.fetchval("SELECT count(*) FROM users") == 21
        await store.prepare(users=50, posts=80)  # more: seeded again, 1 to 50
        assert await connection.fetchval("SELECT count(*) FROM users") == 50
        assert await connection.fetchval("SELECT max(id) FROM users") == 50
        assert await connection.fetchval("SELECT count(*) FROM posts") == 80
        # new users take ids after the seeded ones
        assert await connection.fetchval("SELECT nextval('lab_service_user_ids')") > 50
    finally:
        await connection.close()


async def test_services_starting_together_seed_the_dataset_once(scratch_dsn: str) -> None:
    """Two services (or two workers) preparing an empty database at once: without a lock
    both dropped and re-created the tables, and one failed (or seeded twice)."""
    stores = [UserStore(scratch_dsn, pool=None) for _ in range(3)]
    await asyncio.gather(*(store.prepare(users=200, posts=400) for store in stores))
    connection = await asyncpg.connect(scratch_dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM users") == 200
        assert await connection.fetchval("SELECT count(*) FROM posts") == 400
    finally:
        await connection.close()
